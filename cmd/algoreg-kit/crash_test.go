package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"time"
)

// The crash test: the binary on a SQLite state file, 16 clients saving
// batches of new and updated customers and relations, SIGKILL at a random
// moment, a restart on the same file, and a check that every record of a 200
// answer is there as its last acknowledged save left it, and that each
// request whose answer the kill took is there whole or not at all. Then the
// same again from the restarted process, for crashRounds kill points, one of
// them under --state-sync full.

var crashSeedFlag = flag.Uint64("crash.seed", 0, "seed of TestCrashSQLite (0: ALGOREG_CRASH_SEED, else from the clock)")

const (
	crashClients    = 16
	crashBusinesses = 4 // client i saves in business crash<i%4>
	crashRounds     = 6 // kill points per run
	crashFullRound  = 2 // the round whose process runs with --state-sync full
)

// crashCustomer is a customer as the test knows it: the content of its last
// acknowledged save (Marker names that request).
type crashCustomer struct {
	Marker, LastName string
	KYC              int
	CustomerID       string // "" in a request, known once acknowledged
}

// crashRelation is a relation as the test knows it.
type crashRelation struct {
	Marker        string
	Type          int
	Parent, Child string
}

// crashRequest is one save: every record it sets carries its marker.
type crashRequest struct {
	marker       string
	customers    map[string]crashCustomer // by external_id
	newCustomers []string                 // the ones it creates, in request order
	relations    map[string]crashRelation // by relation_external_id
	body         []byte
}

// crashClient saves into its own ids (w<id>-…), one request at a time, so
// that the last acknowledged save of each record is well defined.
type crashClient struct {
	id        int
	business  string
	rnd       *rand.Rand
	seq       int
	customers map[string]crashCustomer
	relations map[string]crashRelation
	lost      *crashRequest // the request whose answer the kill took
}

// crashCounts are the run's figures, logged at the end.
type crashCounts struct {
	kills, acked, lostApplied, lostAbsent, checked int
}

func TestCrashSQLite(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("crash test seed %d; replay: go test ./cmd/algoreg-kit -run TestCrashSQLite -crash.seed=%d", seed, seed)
	bin := buildBinary(t)
	state := filepath.Join(t.TempDir(), "state.db")
	rnd := rand.New(rand.NewPCG(seed, 0))
	clients := make([]*crashClient, crashClients)
	for i := range clients {
		clients[i] = &crashClient{id: i, business: fmt.Sprintf("crash%d", i%crashBusinesses),
			rnd: rand.New(rand.NewPCG(seed, uint64(i+1))), customers: map[string]crashCustomer{}, relations: map[string]crashRelation{}}
	}
	var n crashCounts
	for round := 0; round <= crashRounds; round++ {
		args := []string{"--state", state}
		if round == crashFullRound {
			args = append(args, "--state-sync", "full")
		}
		p := startProcess(t, bin, args...)
		if round > 0 {
			checkCrashState(t, p.URL, clients, &n)
		}
		if t.Failed() {
			t.Fatalf("round %d: state after the restart is wrong (seed %d)", round, seed)
		}
		if round == crashRounds {
			if err := p.stop(); err != nil {
				t.Errorf("the last mock did not stop cleanly on SIGTERM: %v\n%s", err, p.stderr.String())
			}
			break
		}
		n.acked += crashRound(t, p, clients, round, rnd)
		n.kills++
	}
	t.Logf("%d kill points, %d requests acknowledged, %d requests whose answer was lost (%d applied whole, %d absent whole), %d records checked",
		n.kills, n.acked, n.lostApplied+n.lostAbsent, n.lostApplied, n.lostAbsent, n.checked)
}

// crashSeed is -crash.seed, else ALGOREG_CRASH_SEED, else the clock's.
func crashSeed(t *testing.T) uint64 {
	if *crashSeedFlag != 0 {
		return *crashSeedFlag
	}
	if v := os.Getenv("ALGOREG_CRASH_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ALGOREG_CRASH_SEED=%q: %v", v, err)
		}
		return s
	}
	return uint64(time.Now().UnixNano())
}

// crashRound runs every client against p until a random number of saves
// has been acknowledged, then, after a random pause of up to 3 ms, kills p
// with SIGKILL. It returns the number of saves acknowledged.
func crashRound(t *testing.T, p *mockProcess, clients []*crashClient, round int, rnd *rand.Rand) int {
	target := int64(50 + rnd.IntN(400))
	if round == crashFullRound {
		target = int64(10 + rnd.IntN(60)) // an fsync per save
	}
	pause := time.Duration(rnd.IntN(3000)) * time.Microsecond
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: crashClients}}
	defer hc.CloseIdleConnections()
	var acked atomic.Int64
	var killed atomic.Bool
	reached, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			c.run(t, hc, p.URL, round, &killed, func() {
				if acked.Add(1) >= target {
					once.Do(func() { close(reached) })
				}
			})
		})
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-reached:
	case <-done: // every client stopped early: they said why
	}
	time.Sleep(pause)
	killed.Store(true)
	p.kill()
	<-done
	return int(acked.Load())
}

// run saves one request after the other until one gets no 200 answer; it
// keeps that one as lost. Anything but a 200 before the kill is an error.
func (c *crashClient) run(t *testing.T, hc *http.Client, url string, round int, killed *atomic.Bool, ack func()) {
	for {
		req := c.next(round)
		status, body, err := crashPost(hc, url, c.business, req.body)
		if err == nil && status == http.StatusOK {
			if err = c.acknowledge(req, body); err == nil {
				ack()
				continue
			}
		}
		if err == nil {
			err = fmt.Errorf("answered %d %s", status, body)
		}
		if !killed.Load() {
			t.Errorf("client %d, request %s, before the kill: %v", c.id, req.marker, err)
		}
		c.lost = req
		return
	}
}

// crashPost posts body to the save endpoint as business (open mode).
func crashPost(hc *http.Client, url, business string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/customers/save", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(business, business)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// acknowledge checks a 200 answer (status ok, the new customers in added)
// and makes req's records the client's last acknowledged ones.
func (c *crashClient) acknowledge(req *crashRequest, body []byte) error {
	var resp openapi.SaveCustomersResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("answer %s: %v", body, err)
	}
	if resp.Status != openapi.StatusOK || len(resp.Added) != len(req.newCustomers) {
		return fmt.Errorf("answer %s: want status ok and %d added", body, len(req.newCustomers))
	}
	ids := map[string]string{}
	for i, a := range resp.Added {
		if a.ExternalID != req.newCustomers[i] || a.CustomerID == "" {
			return fmt.Errorf("answer %s: added[%d] is not %s with a customer_id", body, i, req.newCustomers[i])
		}
		ids[a.ExternalID] = a.CustomerID
	}
	c.apply(req, func(id string) string { return ids[id] })
	return nil
}

// apply makes req's records the client's; newID gives the customer_id of a
// customer req created.
func (c *crashClient) apply(req *crashRequest, newID func(externalID string) string) {
	for id, cu := range req.customers {
		if old, ok := c.customers[id]; ok {
			cu.CustomerID = old.CustomerID
		} else {
			cu.CustomerID = newID(id)
		}
		c.customers[id] = cu
	}
	for id, r := range req.relations {
		if old, ok := c.relations[id]; ok {
			r.Parent, r.Child = old.Parent, old.Child
		}
		c.relations[id] = r
	}
}

// next is the client's next request: 1-3 new customers, up to 3 updates of
// its stored ones, up to 2 new relations between any of them and up to 2
// updates of its stored relations.
func (c *crashClient) next(round int) *crashRequest {
	c.seq++
	req := &crashRequest{marker: fmt.Sprintf("r%d-w%d-s%d", round, c.id, c.seq),
		customers: map[string]crashCustomer{}, relations: map[string]crashRelation{}}
	var customers, relations []map[string]any
	stored := sortedKeys(c.customers)
	for i := range 1 + c.rnd.IntN(3) {
		id := fmt.Sprintf("w%d-c%d-%d", c.id, c.seq, i)
		req.newCustomers = append(req.newCustomers, id)
		customers = append(customers, c.customer(req, id, map[string]any{"account_type": "N"}))
	}
	for _, id := range pick(c.rnd, stored, c.rnd.IntN(4)) {
		customers = append(customers, c.customer(req, id, map[string]any{}))
	}
	ends := append(slices.Clone(stored), req.newCustomers...)
	for i := range c.rnd.IntN(3) * min(1, len(ends)-1) { // none with a single customer
		pc := pick(c.rnd, ends, 2)
		id := fmt.Sprintf("w%d-r%d-%d", c.id, c.seq, i)
		relations = append(relations, c.relation(req, id, map[string]any{"parent_customer_external_id": pc[0], "child_customer_external_id": pc[1]}))
	}
	for _, id := range pick(c.rnd, sortedKeys(c.relations), c.rnd.IntN(3)) {
		relations = append(relations, c.relation(req, id, map[string]any{}))
	}
	req.body, _ = json.Marshal(map[string]any{"customers": customers, "relations": relations})
	return req
}

// customer adds customer id to req, with the request's marker, and returns
// its JSON object: m and the fields every save sets.
func (c *crashClient) customer(req *crashRequest, id string, m map[string]any) map[string]any {
	cu := crashCustomer{Marker: req.marker, LastName: "L-" + req.marker, KYC: 1 + c.rnd.IntN(3)}
	req.customers[id] = cu
	m["external_id"], m["last_name"], m["kyc_level"], m["fields"] = id, cu.LastName, cu.KYC, map[string]any{"marker": cu.Marker}
	return m
}

// relation adds relation id to req, like customer.
func (c *crashClient) relation(req *crashRequest, id string, m map[string]any) map[string]any {
	r := crashRelation{Marker: req.marker, Type: 1 + c.rnd.IntN(10)}
	r.Parent, _ = m["parent_customer_external_id"].(string)
	r.Child, _ = m["child_customer_external_id"].(string)
	req.relations[id] = r
	m["relation_external_id"], m["relation_type"], m["fields"] = id, r.Type, map[string]any{"marker": r.Marker}
	return m
}

// pick returns n distinct items of from (fewer if from is shorter), at
// random.
func pick(rnd *rand.Rand, from []string, n int) []string {
	n = min(n, len(from))
	out := make([]string, 0, n)
	for _, i := range rnd.Perm(len(from))[:n] {
		out = append(out, from[i])
	}
	return out
}

// checkCrashState reads every business through /__admin and checks each
// client's records against what it knows (the first 20 problems are
// reported).
func checkCrashState(t *testing.T, url string, clients []*crashClient, n *crashCounts) {
	t.Helper()
	got := map[string]crashStored{}
	for b := range crashBusinesses {
		business := fmt.Sprintf("crash%d", b)
		got[business] = readCrashState(t, url, business)
	}
	var problems []string
	for _, c := range clients {
		problems = append(problems, c.check(got[c.business], n)...)
	}
	for i, p := range problems {
		if i == 20 {
			t.Errorf("... and %d more problems", len(problems)-i)
			break
		}
		t.Error(p)
	}
}

// check resolves the client's lost request (applied whole, or absent whole),
// then wants its stored records to be exactly the ones it knows. It returns
// what is wrong.
func (c *crashClient) check(got crashStored, n *crashCounts) (problems []string) {
	if l := c.lost; l != nil {
		c.lost = nil
		applied, half := resolveLost(l, got)
		if half != "" {
			problems = append(problems, half)
		}
		if applied {
			n.lostApplied++
			c.apply(l, func(id string) string { return got.customers[id].CustomerID })
		} else {
			n.lostAbsent++
		}
	}
	for id, want := range c.customers {
		if g, ok := got.customers[id]; !ok || g != want || want.CustomerID == "" {
			problems = append(problems, fmt.Sprintf("customer %s: stored %+v (present %v), want %+v", id, g, ok, want))
		}
		n.checked++
	}
	for id, want := range c.relations {
		if g, ok := got.relations[id]; !ok || g != want {
			problems = append(problems, fmt.Sprintf("relation %s: stored %+v (present %v), want %+v", id, g, ok, want))
		}
		n.checked++
	}
	prefix := fmt.Sprintf("w%d-", c.id)
	for _, id := range sortedKeys(got.customers) {
		if _, ok := c.customers[id]; strings.HasPrefix(id, prefix) && !ok {
			problems = append(problems, fmt.Sprintf("customer %s is stored, but no save of it was acknowledged nor lost", id))
		}
	}
	for _, id := range sortedKeys(got.relations) {
		if _, ok := c.relations[id]; strings.HasPrefix(id, prefix) && !ok {
			problems = append(problems, fmt.Sprintf("relation %s is stored, but no save of it was acknowledged nor lost", id))
		}
	}
	return problems
}

// resolveLost says whether the lost request l is in got and, if only some
// of its records are, how it is half applied.
func resolveLost(l *crashRequest, got crashStored) (applied bool, half string) {
	var in, out []string
	sortMarked(l.marker, l.customers, got.customers, func(c crashCustomer) string { return c.Marker }, &in, &out)
	sortMarked(l.marker, l.relations, got.relations, func(r crashRelation) string { return r.Marker }, &in, &out)
	if len(in) > 0 && len(out) > 0 {
		slices.Sort(in)
		slices.Sort(out)
		half = fmt.Sprintf("request %s is half applied: %v are stored as it saved them, %v are not", l.marker, in, out)
	}
	return len(in) > 0, half
}

// sortMarked appends each id of sent to in if its stored record carries
// marker, else to out.
func sortMarked[V any](marker string, sent, stored map[string]V, markerOf func(V) string, in, out *[]string) {
	for id := range sent {
		if markerOf(stored[id]) == marker {
			*in = append(*in, id)
		} else {
			*out = append(*out, id)
		}
	}
}

// crashStored is one business's records as /__admin lists them.
type crashStored struct {
	customers map[string]crashCustomer
	relations map[string]crashRelation
}

// readCrashState pages through business's customers and relations.
func readCrashState(t *testing.T, url, business string) crashStored {
	t.Helper()
	st := crashStored{customers: map[string]crashCustomer{}, relations: map[string]crashRelation{}}
	var cs []struct {
		ExternalID string `json:"external_id"`
		CustomerID string `json:"customer_id"`
		LastName   string `json:"last_name"`
		KYC        int    `json:"kyc_level"`
		Fields     struct {
			Marker string `json:"marker"`
		} `json:"fields"`
	}
	readAllPages(t, url+"/__admin/customers", business, "customers", &cs)
	for _, c := range cs {
		st.customers[c.ExternalID] = crashCustomer{Marker: c.Fields.Marker, LastName: c.LastName, KYC: c.KYC, CustomerID: c.CustomerID}
	}
	var rs []struct {
		ID     string `json:"relation_external_id"`
		Parent string `json:"parent_customer_external_id"`
		Child  string `json:"child_customer_external_id"`
		Type   int    `json:"relation_type"`
		Fields struct {
			Marker string `json:"marker"`
		} `json:"fields"`
	}
	readAllPages(t, url+"/__admin/relations", business, "relations", &rs)
	for _, r := range rs {
		st.relations[r.ID] = crashRelation{Marker: r.Fields.Marker, Type: r.Type, Parent: r.Parent, Child: r.Child}
	}
	return st
}

// readAllPages appends every item of the listing at url (its key names the
// items) to *items, 1,000 at a time, and checks the total.
func readAllPages[T any](t *testing.T, url, business, key string, items *[]T) {
	t.Helper()
	for offset := 0; ; {
		status, b := mockDo(t, http.MethodGet, fmt.Sprintf("%s?offset=%d&limit=1000", url, offset), business, business, "")
		var page map[string]json.RawMessage
		var got []T
		var total int
		if err := json.Unmarshal(b, &page); status != 200 || err != nil || json.Unmarshal(page[key], &got) != nil || json.Unmarshal(page["total"], &total) != nil {
			t.Fatalf("GET %s as %s: %d %.300s", url, business, status, b)
		}
		*items = append(*items, got...)
		offset += len(got)
		if len(got) == 0 || offset >= total {
			if len(*items) != total {
				t.Fatalf("GET %s as %s: read %d items, total says %d", url, business, len(*items), total)
			}
			return
		}
	}
}

// The crash test's check finds each kind of loss: a lost request half
// applied, an acknowledged record missing or stale, a record no save made;
// and it takes a lost request applied whole, or absent whole, as it is.
func TestCrashCheck(t *testing.T) {
	acked := crashCustomer{Marker: "r0-w1-s1", LastName: "L-r0-w1-s1", KYC: 1, CustomerID: "id-a"}
	lost := &crashRequest{marker: "r0-w1-s2",
		customers:    map[string]crashCustomer{"w1-a": {Marker: "r0-w1-s2", LastName: "L-r0-w1-s2", KYC: 2}, "w1-b": {Marker: "r0-w1-s2", LastName: "L-r0-w1-s2", KYC: 3}},
		newCustomers: []string{"w1-b"},
		relations:    map[string]crashRelation{"w1-r": {Marker: "r0-w1-s2", Type: 4, Parent: "w1-a", Child: "w1-b"}}}
	applied := crashStored{
		customers: map[string]crashCustomer{"w1-a": {Marker: "r0-w1-s2", LastName: "L-r0-w1-s2", KYC: 2, CustomerID: "id-a"}, "w1-b": {Marker: "r0-w1-s2", LastName: "L-r0-w1-s2", KYC: 3, CustomerID: "id-b"}},
		relations: map[string]crashRelation{"w1-r": {Marker: "r0-w1-s2", Type: 4, Parent: "w1-a", Child: "w1-b"}}}
	absent := crashStored{customers: map[string]crashCustomer{"w1-a": acked, "w2-other": {}}, relations: map[string]crashRelation{}}
	half := crashStored{customers: map[string]crashCustomer{"w1-a": acked, "w1-b": applied.customers["w1-b"]}, relations: applied.relations}
	stale := crashStored{customers: map[string]crashCustomer{"w1-a": {Marker: "r0-w1-s0", CustomerID: "id-a"}}, relations: map[string]crashRelation{}}
	extra := crashStored{customers: map[string]crashCustomer{"w1-a": acked, "w1-zzz": {}}, relations: map[string]crashRelation{}}
	tests := []struct {
		name string
		lost *crashRequest
		got  crashStored
		want string // a part of the first problem; "" for none
	}{
		{"lost request applied whole", lost, applied, ""},
		{"lost request absent whole", lost, absent, ""},
		{"lost request half applied", lost, half, "request r0-w1-s2 is half applied: [w1-b w1-r] are stored as it saved them, [w1-a] are not"},
		{"acknowledged record missing", nil, crashStored{customers: map[string]crashCustomer{}, relations: map[string]crashRelation{}}, "customer w1-a: stored {Marker: LastName: KYC:0 CustomerID:} (present false)"},
		{"acknowledged record stale", nil, stale, "customer w1-a: stored {Marker:r0-w1-s0"},
		{"a record no save made", nil, extra, "customer w1-zzz is stored, but no save of it was acknowledged nor lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &crashClient{id: 1, customers: map[string]crashCustomer{"w1-a": acked}, relations: map[string]crashRelation{}, lost: tt.lost}
			problems := c.check(tt.got, &crashCounts{})
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("got problems %q, want none", problems)
			case tt.want != "" && (len(problems) == 0 || !strings.Contains(problems[0], tt.want)):
				t.Errorf("got problems %q, want the first to contain %q", problems, tt.want)
			}
		})
	}
}
