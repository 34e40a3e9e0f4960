package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	runtimemetrics "runtime/metrics"
	"strings"
	"testing"
	"time"
)

// checkJournal fails t when j holds more than its bounds allow, or when its
// counts and lists disagree.
func checkJournal(t *testing.T, j *journal) {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	var entries int
	var bytes int64
	for e := j.oldest; e != nil; e = e.newer {
		entries++
		bytes += e.size
	}
	var perBusiness int
	for name, b := range j.businesses {
		var bb int64
		for _, e := range b.queue {
			bb += e.size
		}
		if bb != b.bytes || len(b.queue) > j.perEntries || b.bytes > j.perBytes || len(b.queue) == 0 {
			t.Fatalf("business %q: %d entries, %d bytes counted as %d; bounds %d entries, %d bytes; an empty business must be forgotten",
				name, len(b.queue), bb, b.bytes, j.perEntries, j.perBytes)
		}
		perBusiness += len(b.queue)
	}
	if entries != j.entries || bytes != j.bytes || perBusiness != entries || j.bytes > j.totalBytes {
		t.Fatalf("journal: %d entries and %d bytes listed, %d in the businesses, counted %d and %d; bound %d bytes",
			entries, bytes, perBusiness, j.entries, j.bytes, j.totalBytes)
	}
}

// The three bounds of the journal, oldest dropped first, with the dropped
// entries counted per business.
func TestJournalBounds(t *testing.T) {
	for _, tt := range []struct {
		name        string
		cfg         Config
		businesses  int
		adds        int // per business
		size        int64
		business    string // whose entries are checked
		wantHeld    int
		wantDropped int64
		wantEntries int // in all
	}{
		{"entries per business", Config{JournalSize: 3}, 2, 10, 100, "b1", 3, 7, 6},
		{"bytes per business", Config{JournalBytes: 1000}, 2, 10, 300, "b1", 3, 7, 6},
		// 12 adds of 100 bytes, 10 fit: the two oldest, b0's and b1's first, go.
		{"bytes of all businesses", Config{JournalTotalBytes: 1000}, 4, 3, 100, "b0", 2, 1, 10},
		// An entry larger than a bound is dropped on arrival; a business
		// left without entries is forgotten, its dropped count with it.
		{"an entry larger than a bound", Config{JournalBytes: 100}, 1, 2, 101, "b0", 0, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := journalSettings(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			j := newJournal(cfg)
			for range tt.adds {
				for b := range tt.businesses {
					j.add(fmt.Sprint("b", b), &journalEntry{size: tt.size})
					checkJournal(t, j)
				}
			}
			if got := j.stats().entries; got != tt.wantEntries {
				t.Errorf("got %d entries in all, want %d", got, tt.wantEntries)
			}
			page, total, dropped := j.find(tt.business, journalFilter{}, 0, -1)
			if total != tt.wantHeld || len(page) != total || dropped != tt.wantDropped {
				t.Errorf("got %d held (%d listed) and %d dropped, want %d and %d", total, len(page), dropped, tt.wantHeld, tt.wantDropped)
			}
			for i := 1; i < len(page); i++ {
				if page[i].ID >= page[i-1].ID {
					t.Errorf("page not newest first: ids %d then %d", page[i-1].ID, page[i].ID)
				}
			}
		})
	}
}

// Issue 13: 100,000 saves of 1 MiB bodies keep the journal within its byte
// budget. The entries are added to the journal directly, each counted at
// 1 MiB (a body kept whole: JournalBodyBytes of 1 MiB), spread over 100
// businesses; the bounds hold after every add, and the journal's own
// structures (lists, queues, the map of businesses) do not grow with the
// number of adds: the live heap afterwards is the budget's entries and a
// little more.
func TestJournalHundredThousandMiBEntries(t *testing.T) {
	cfg, _ := journalSettings(Config{JournalBytes: 8 << 20, JournalTotalBytes: 64 << 20, JournalBodyBytes: 1 << 20})
	j := newJournal(cfg)
	body := strings.Repeat("x", 1<<20) // shared by the entries: the test measures the journal, not 100 GB of copies
	before := liveHeapBytes()
	const adds = 100_000
	for i := range adds {
		j.add(fmt.Sprint("business-", i%100), &journalEntry{reqBody: body, reqBytes: 1 << 20, size: journalEntryOverhead + 1<<20})
		if i%997 == 0 {
			checkJournal(t, j)
		}
	}
	checkJournal(t, j)
	st := j.stats()
	if st.bytes > cfg.JournalTotalBytes || st.entries != 63 || st.dropped != adds-63 {
		t.Errorf("got %d entries of %d bytes, %d dropped; want 63 entries within %d bytes, %d dropped", st.entries, st.bytes, st.dropped, cfg.JournalTotalBytes, adds-63)
	}
	if grew := liveHeapBytes() - before; grew > 1<<20 {
		t.Errorf("the live heap grew by %d bytes for 63 entries that share their body; the journal keeps what it dropped", grew)
	}
}

// The journal's budget holds for the memory it really takes: entries with
// bodies of their own, through HTTP. 200 dry-run saves (verify_input: they
// store nothing) of 1 MiB bodies, each kept at 64 KiB (the default), with a
// budget of 4 MiB for all businesses: the live heap grows by less than the
// budget, and the journal counts at least what its entries take.
func TestJournalHeapWithinBudget(t *testing.T) {
	const budget = 4 << 20
	s, err := New(Config{JournalTotalBytes: budget, JournalBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	fields := map[string]string{}
	for i := range 16 {
		fields[fmt.Sprint("note", i)] = strings.Repeat("y", 65_000)
	}
	body, _ := json.Marshal(map[string]any{"verify_input": true, "customers": []any{
		map[string]any{"external_id": "c", "account_type": "N", "last_name": "D", "fields": fields}}})
	if len(body) < 1<<20-(1<<15) {
		t.Fatalf("body of %d bytes, want about 1 MiB", len(body))
	}
	post := func(n int) {
		for range n {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/customers/save", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(fmt.Sprint("business-", n%7), "x")
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("save: status %d", resp.StatusCode)
			}
		}
	}
	post(10) // warm up the pools
	s.journal.clear("business-3")
	before := liveHeapBytes()
	post(200)
	grew := liveHeapBytes() - before
	st := s.journal.stats()
	checkJournal(t, s.journal)
	t.Logf("journal: %d entries, %d bytes counted, %d dropped; live heap grew by %d bytes", st.entries, st.bytes, st.dropped, grew)
	if st.bytes > budget || grew > budget || st.entries < 40 || grew > st.bytes+(1<<20) {
		t.Errorf("journal of %d entries counted %d bytes (budget %d); the live heap grew by %d", st.entries, st.bytes, budget, grew)
	}
}

// liveHeapBytes is the live heap after two collections (the second empties
// the sync.Pools' victim caches, which hold the mock's body buffers).
func liveHeapBytes() int64 {
	runtime.GC()
	runtime.GC()
	sample := []runtimemetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	runtimemetrics.Read(sample)
	return int64(sample[0].Value.Uint64())
}

func TestParseJournalFilter(t *testing.T) {
	since := time.Date(2026, 6, 15, 9, 30, 0, 0, time.UTC)
	eid, status := "cust-42", 422
	for _, tt := range []struct {
		query   string
		paged   bool
		want    journalFilter
		wantErr string
	}{
		{"", true, journalFilter{}, ""},
		{"external_id=cust-42&status=422&code=account_type_invalid&since=2026-06-15T09:30:00Z", false,
			journalFilter{externalID: &eid, status: &status, code: "account_type_invalid", since: since}, ""},
		{"external_id=", false, journalFilter{externalID: new(string)}, ""},
		{"offset=5&limit=7", true, journalFilter{}, ""},
		{"offset=5", false, journalFilter{}, "offset is not a parameter of the count"},
		{"status=abc", true, journalFilter{}, `status="abc" must be an HTTP status`},
		{"status=600", true, journalFilter{}, `status="600"`},
		{"code=nope", true, journalFilter{}, `code="nope" is not an error or warning code`},
		{"since=yesterday", true, journalFilter{}, `since="yesterday" must be a time in RFC 3339`},
		{"externalid=x", true, journalFilter{}, `"externalid" is not a parameter of the journal`},
		{"status=200&status=422", true, journalFilter{}, "status is given 2 times"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := parseJournalFilter(q, tt.paged)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want one with %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Errorf("got error %v", err)
			case tt.wantErr == "" && fmt.Sprint(deref(got)) != fmt.Sprint(deref(tt.want)):
				t.Errorf("got %v, want %v", deref(got), deref(tt.want))
			}
		})
	}
}

// deref shows a filter's pointers' values.
func deref(f journalFilter) []any {
	out := []any{f.code, f.since}
	if f.externalID != nil {
		out = append(out, "external_id", *f.externalID)
	}
	if f.status != nil {
		out = append(out, "status", *f.status)
	}
	return out
}

// The filter parser takes any query: an error or a filter, never a panic,
// and a filter only of the parameters it knows.
func FuzzJournalFilter(f *testing.F) {
	for _, s := range []string{"", "external_id=a&status=200", "code=account_type_invalid", "since=2026-06-15T09:30:00.5%2B02:00",
		"status=-1", "limit=1&offset=2", "a=%zz", "status=0", "external_id=x&external_id=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := parseJournalFilter(q, true)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for k := range q {
			switch k {
			case "external_id", "status", "code", "since", "offset", "limit":
			default:
				t.Fatalf("parameter %q accepted", k)
			}
		}
		if fl.status != nil && (*fl.status < 0 || *fl.status > 599) {
			t.Fatalf("status %d accepted", *fl.status)
		}
	})
}
