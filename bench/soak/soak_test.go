package main

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

var known = []string{"create", "update", "hostile"}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"create=1,update=0,hostile=3", ""},
		{"create=1", ""},
		{"create", "not kind=weight"},
		{"create=-1", "not kind=weight"},
		{"create=x", "not kind=weight"},
		{"reset=1", `unknown kind "reset"`},
		{"create=1,create=2", "named twice"},
		{"create=0,update=0", "every weight is 0"},
	} {
		_, err := parseMix(tc.in, known)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("parseMix(%q): got %v, want %q", tc.in, err, tc.err)
		}
	}
}

// Each kind is drawn in proportion to its weight (the draws are seeded, so
// this always sees the same ones), a weight of 0 never, and the same seed
// gives the same draws.
func TestMixPick(t *testing.T) {
	m, err := parseMix("create=1,update=0,hostile=3", known)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var first []string
	r := rand.New(rand.NewPCG(42, 0))
	for i := range 40000 {
		k := m.pick(r)
		got[k]++
		if i < 20 {
			first = append(first, k)
		}
	}
	if got["update"] != 0 || got["create"] < 9000 || got["create"] > 11000 || got["hostile"] < 29000 || got["hostile"] > 31000 {
		t.Errorf("got %v, want about 10,000 create, 30,000 hostile, no update", got)
	}
	r = rand.New(rand.NewPCG(42, 0))
	for i, want := range first {
		if k := m.pick(r); k != want {
			t.Fatalf("draw %d with the same seed: got %s, want %s", i, k, want)
		}
	}
}

func TestTally(t *testing.T) {
	tl := newTally()
	for _, a := range []struct {
		kind   string
		status int
		err    error
	}{
		{"create", 200, nil}, {"create", 200, nil}, {"create", 503, nil}, {"create", 500, nil},
		{"hostile", 413, nil}, {"hostile", 0, errors.New("reset")}, {"hostile", 302, nil},
	} {
		tl.add(a.kind, a.status, a.err, "ex")
	}
	want := map[string]int64{"2xx": 2, "3xx": 1, "4xx": 1, "503": 1, "5xx": 1, "err": 1}
	got := tl.totals()
	for c, n := range want {
		if got[c] != n {
			t.Errorf("class %s: got %d, want %d", c, got[c], n)
		}
	}
	if n := tl.requests(); n != 7 {
		t.Errorf("requests: got %d, want 7", n)
	}
	var b strings.Builder
	tl.write(&b, "5xx")
	if !strings.Contains(b.String(), "| create                     |        2 |        0 |        0 |        1 |        1 |        0 | 200×2 500×1 503×1 |") ||
		!strings.Contains(b.String(), "create 5xx: ex") || strings.Contains(b.String(), "create 2xx: ex") {
		t.Errorf("write:\n%s", b.String())
	}
}
