package mockserver

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// The request journal: what each business sent and what the mock answered,
// newest kept, in the memory of the process (GET /__admin/requests). It is
// bounded three ways, oldest dropped first: entries and bytes per business,
// and bytes for all businesses together, so that neither one busy business
// nor a crowd of businesses (open mode makes one per username) can make it
// grow without end.

// The defaults of the journal settings of Config.
const (
	DefaultJournalSize       = 1000      // entries per business
	DefaultJournalBytes      = 16 << 20  // bytes per business
	DefaultJournalTotalBytes = 256 << 20 // bytes for every business together
	DefaultJournalBodyBytes  = 64 << 10  // kept of each request and response body
)

// journalEntryOverhead is what an entry is counted beyond the bytes of its
// strings: the entry itself, its headers' maps and slices, its place in the
// lists (measured at about 1.2 KiB for a save's entry with 6 headers; see
// TestJournalHeapWithinBudget).
const journalEntryOverhead = 2 << 10

// journalSettings checks the journal fields of cfg and fills in the zero ones.
func journalSettings(cfg Config) (Config, error) {
	if cfg.JournalTotalBytes < 0 {
		return cfg, fmt.Errorf("Config.JournalTotalBytes is %d; make it positive, or 0 for %d (turn the journal off with a negative JournalSize)", cfg.JournalTotalBytes, DefaultJournalTotalBytes)
	}
	if err := positiveOr("JournalBodyBytes", &cfg.JournalBodyBytes, DefaultJournalBodyBytes); err != nil {
		return cfg, err
	}
	zeroFor(&cfg.JournalSize, DefaultJournalSize) // negative: the journal is off
	zeroFor(&cfg.JournalBytes, DefaultJournalBytes)
	zeroFor(&cfg.JournalTotalBytes, DefaultJournalTotalBytes)
	return cfg, nil
}

// journal holds the entries of every business. It is safe for concurrent
// use; one mutex guards everything (an add is a few pointer moves).
type journal struct {
	perEntries int
	perBytes   int64
	totalBytes int64

	mu         sync.Mutex // guards the fields below
	businesses map[string]*journalBusiness
	// oldest and newest are the ends of the list of every entry, in the
	// order they were added (entry.older, entry.newer).
	oldest, newest *journalEntry
	bytes          int64
	entries        int
	dropped        int64 // by the bounds, every business together
	lastID         int64
}

// journalBusiness is one business's entries, oldest first: every removal
// but DELETE /__admin/requests takes the oldest, so a queue does.
type journalBusiness struct {
	name    string
	queue   []*journalEntry
	bytes   int64
	dropped int64
}

// journalEntry is one request and its answer, as observe kept them (with
// the credentials already redacted); view makes the document's
// JournalEntry of it when it is read. It is not changed once added.
type journalEntry struct {
	id                         int64
	time                       time.Time
	method, path, query, route string
	credentials                string
	status                     int
	duration                   time.Duration
	reqHeader                  []string // name, value pairs
	respHeader                 http.Header
	reqBody, respBody          string // as far as kept
	reqBytes, respBytes        int64  // whole
	externalIDs                []string
	idsOmitted                 int64
	codes                      []string

	size         int64 // what the bounds count
	business     *journalBusiness
	older, newer *journalEntry
}

// view is e as the document's JournalEntry.
func (e *journalEntry) view() openapi.JournalEntry {
	v := openapi.JournalEntry{ID: e.id, Time: e.time, Method: e.method, Path: e.path, Query: e.query, Route: e.route,
		Credentials: e.credentials, Status: int64(e.status), DurationUs: e.duration.Microseconds(),
		RequestHeaders: pairsView(e.reqHeader), ResponseHeaders: headerView(e.respHeader),
		RequestBodyBytes: e.reqBytes, RequestBodyTruncated: e.reqBytes > int64(len(e.reqBody)),
		ResponseBodyBytes: e.respBytes, ResponseBodyTruncated: e.respBytes > int64(len(e.respBody)),
		ExternalIDs: uniqueIDs(e.externalIDs), ExternalIDsOmitted: e.idsOmitted, Codes: e.codes}
	v.RequestBody, v.RequestBodyBase64 = bodyText(e.reqBody)
	v.ResponseBody, v.ResponseBodyBase64 = bodyText(e.respBody)
	if v.Codes == nil {
		v.Codes = []string{}
	}
	return v
}

// headerView is h as the document's free map of lists.
func headerView(h http.Header) map[string]any {
	m := make(map[string]any, len(h))
	for k, vs := range h {
		m[k] = vs
	}
	return m
}

// pairsView is name, value pairs as the document's free map of lists.
func pairsView(pairs []string) map[string]any {
	h := http.Header{}
	for i := 0; i+1 < len(pairs); i += 2 {
		h[pairs[i]] = append(h[pairs[i]], pairs[i+1])
	}
	return headerView(h)
}

// uniqueIDs returns ids without repeats, in their order.
func uniqueIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// newJournal returns the journal of cfg (after journalSettings), or nil
// when cfg turns it off.
func newJournal(cfg Config) *journal {
	if cfg.JournalSize < 0 || cfg.JournalBytes < 0 {
		return nil
	}
	return &journal{perEntries: cfg.JournalSize, perBytes: cfg.JournalBytes, totalBytes: cfg.JournalTotalBytes,
		businesses: map[string]*journalBusiness{}}
}

// add records e for business, counted as e.size bytes, gives it its id,
// and drops the oldest entries beyond the bounds (the new one too, when it
// alone is larger than a bound).
func (j *journal) add(business string, e *journalEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.businesses[business]
	if b == nil {
		b = &journalBusiness{name: business}
		j.businesses[business] = b
	}
	j.lastID++
	e.id, e.business, e.older = j.lastID, b, j.newest
	if j.newest != nil {
		j.newest.newer = e
	} else {
		j.oldest = e
	}
	j.newest = e
	b.queue = append(b.queue, e)
	b.bytes += e.size
	j.bytes += e.size
	j.entries++
	for len(b.queue) > j.perEntries || b.bytes > j.perBytes {
		j.dropOldest(b)
	}
	for j.bytes > j.totalBytes {
		j.dropOldest(j.oldest.business) // the oldest of all is its business's oldest
	}
}

// dropOldest removes b's oldest entry, counted as dropped.
func (j *journal) dropOldest(b *journalBusiness) {
	e := b.queue[0]
	b.queue[0] = nil
	b.queue = b.queue[1:]
	b.dropped++
	j.dropped++
	j.unlink(e)
}

// unlink takes e out of the list of all entries and out of the counts, and
// forgets its business once it is empty (its dropped count with it), so
// that the businesses held are at most the entries held.
func (j *journal) unlink(e *journalEntry) {
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		j.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		j.newest = e.older
	}
	e.older, e.newer = nil, nil
	b := e.business
	b.bytes -= e.size
	j.bytes -= e.size
	j.entries--
	if len(b.queue) == 0 && j.businesses[b.name] == b {
		delete(j.businesses, b.name)
	}
}

// journalStats is what the journal holds, for the metrics.
type journalStats struct {
	entries int
	bytes   int64
	dropped int64
}

func (j *journal) stats() journalStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return journalStats{entries: j.entries, bytes: j.bytes, dropped: j.dropped}
}

// find returns business's entries that match f, newest first, skipping
// offset and at most limit of them (limit < 0: all), how many match in all,
// and how many of business's entries the bounds dropped.
func (j *journal) find(business string, f journalFilter, offset, limit int) (page []openapi.JournalEntry, total int, dropped int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.businesses[business]
	if b == nil {
		return nil, 0, 0
	}
	for i := len(b.queue) - 1; i >= 0; i-- {
		e := b.queue[i]
		if !f.match(e) {
			continue
		}
		if total >= offset && (limit < 0 || len(page) < limit) {
			page = append(page, e.view())
		}
		total++
	}
	return page, total, b.dropped
}

// get returns business's entry id.
func (j *journal) get(business string, id int64) (openapi.JournalEntry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.businesses[business]
	if b == nil {
		return openapi.JournalEntry{}, false
	}
	// Ids increase along the queue: a binary search.
	lo, hi := 0, len(b.queue)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.queue[m].id < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(b.queue) && b.queue[lo].id == id {
		return b.queue[lo].view(), true
	}
	return openapi.JournalEntry{}, false
}

// clear deletes every entry of business, and its dropped count.
func (j *journal) clear(business string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.businesses[business]
	if b == nil {
		return
	}
	q := b.queue
	b.queue = nil
	for _, e := range q {
		j.unlink(e)
	}
	delete(j.businesses, business)
}

// journalFilter is what GET /__admin/requests and /count select by; the
// zero value selects everything.
type journalFilter struct {
	externalID *string
	status     *int
	code       string
	since      time.Time
}

func (f journalFilter) match(e *journalEntry) bool {
	switch {
	case f.status != nil && e.status != *f.status:
		return false
	case !f.since.IsZero() && e.time.Before(f.since):
		return false
	case f.code != "" && !slices.Contains(e.codes, f.code):
		return false
	case f.externalID != nil && !slices.Contains(e.externalIDs, *f.externalID):
		return false
	}
	return true
}
