package mockserver

import (
	"fmt"
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
	switch {
	case cfg.JournalTotalBytes < 0:
		return cfg, fmt.Errorf("Config.JournalTotalBytes is %d; make it positive, or 0 for %d (turn the journal off with a negative JournalSize)", cfg.JournalTotalBytes, DefaultJournalTotalBytes)
	case cfg.JournalBodyBytes < 0:
		return cfg, fmt.Errorf("Config.JournalBodyBytes is %d; make it positive, or 0 for %d", cfg.JournalBodyBytes, DefaultJournalBodyBytes)
	}
	if cfg.JournalSize == 0 {
		cfg.JournalSize = DefaultJournalSize
	}
	if cfg.JournalBytes == 0 {
		cfg.JournalBytes = DefaultJournalBytes
	}
	if cfg.JournalTotalBytes == 0 {
		cfg.JournalTotalBytes = DefaultJournalTotalBytes
	}
	if cfg.JournalBodyBytes == 0 {
		cfg.JournalBodyBytes = DefaultJournalBodyBytes
	}
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

// journalEntry is one request, as GET /__admin/requests shows it; view is
// not changed once added.
type journalEntry struct {
	view         openapi.JournalEntry
	size         int64
	business     *journalBusiness
	older, newer *journalEntry
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

// add records view for business, counted as size bytes, gives it its id,
// and drops the oldest entries beyond the bounds (the new one too, when it
// alone is larger than a bound).
func (j *journal) add(business string, view openapi.JournalEntry, size int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.businesses[business]
	if b == nil {
		b = &journalBusiness{name: business}
		j.businesses[business] = b
	}
	j.lastID++
	view.ID = j.lastID
	e := &journalEntry{view: view, size: size, business: b, older: j.newest}
	if j.newest != nil {
		j.newest.newer = e
	} else {
		j.oldest = e
	}
	j.newest = e
	b.queue = append(b.queue, e)
	b.bytes += size
	j.bytes += size
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
		v := &b.queue[i].view
		if !f.match(v) {
			continue
		}
		if total >= offset && (limit < 0 || len(page) < limit) {
			page = append(page, *v)
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
		if b.queue[m].view.ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(b.queue) && b.queue[lo].view.ID == id {
		return b.queue[lo].view, true
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

func (f journalFilter) match(v *openapi.JournalEntry) bool {
	switch {
	case f.status != nil && int(v.Status) != *f.status:
		return false
	case !f.since.IsZero() && v.Time.Before(f.since):
		return false
	case f.code != "" && !slices.Contains(v.Codes, f.code):
		return false
	case f.externalID != nil && !slices.Contains(v.ExternalIDs, *f.externalID):
		return false
	}
	return true
}
