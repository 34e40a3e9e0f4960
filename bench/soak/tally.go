package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// The classes an answer is counted in. 503 is apart from the other 5xx: the
// mock answers it by design when a cap (connections, body bytes in flight)
// is reached under deliberate overload; every other 5xx is a fault.
var classes = []string{"2xx", "3xx", "4xx", "503", "5xx", "err"}

// class is the class of an answer: its status, or "err" when the request
// got no answer (err != nil).
func class(status int, err error) string {
	switch {
	case err != nil:
		return "err"
	case status == 503:
		return "503"
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}

// maxExamples is how many answers of each kind and class a tally keeps, to
// show what an unexpected answer was.
const maxExamples = 3

// A tally counts answers by kind of request and class, safe for concurrent
// use.
type tally struct {
	mu       sync.Mutex
	counts   map[string]map[string]int64
	statuses map[string]map[int]int64
	examples map[string][]string
}

func newTally() *tally {
	return &tally{counts: map[string]map[string]int64{}, statuses: map[string]map[int]int64{}, examples: map[string][]string{}}
}

// add counts one answer of kind; example (a status line and the start of
// the body, or the error) is kept among the first few of its kind and class.
func (t *tally) add(kind string, status int, err error, example string) {
	c := class(status, err)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[kind] == nil {
		t.counts[kind] = map[string]int64{}
	}
	t.counts[kind][c]++
	if err == nil {
		if t.statuses[kind] == nil {
			t.statuses[kind] = map[int]int64{}
		}
		t.statuses[kind][status]++
	}
	key := kind + " " + c
	if len(t.examples[key]) < maxExamples {
		t.examples[key] = append(t.examples[key], example)
	}
}

// totals is the number of answers of every class, all kinds together.
func (t *tally) totals() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	sum := map[string]int64{}
	for _, byClass := range t.counts {
		for c, n := range byClass {
			sum[c] += n
		}
	}
	return sum
}

// requests is the number of requests counted, answered or not.
func (t *tally) requests() int64 {
	var n int64
	for _, v := range t.totals() {
		n += v
	}
	return n
}

// write prints one line per kind (sorted) with its count of every class, then
// the examples of the classes named in show.
func (t *tally) write(w io.Writer, show ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(w, "| %-26s |", "kind")
	for _, c := range classes {
		fmt.Fprintf(w, " %8s |", c)
	}
	fmt.Fprintln(w, " statuses |")
	for _, kind := range slices.Sorted(maps.Keys(t.counts)) {
		fmt.Fprintf(w, "| %-26s |", kind)
		for _, c := range classes {
			fmt.Fprintf(w, " %8d |", t.counts[kind][c])
		}
		fmt.Fprintf(w, " %s |\n", statusList(t.statuses[kind]))
	}
	for _, key := range slices.Sorted(maps.Keys(t.examples)) {
		for _, c := range show {
			if len(key) > len(c) && key[len(key)-len(c):] == c && key[len(key)-len(c)-1] == ' ' {
				for _, e := range t.examples[key] {
					fmt.Fprintf(w, "  %s: %s\n", key, e)
				}
			}
		}
	}
}

// statusList is "413×12 400×3", the most frequent status first.
func statusList(m map[int]int64) string {
	codes := slices.Collect(maps.Keys(m))
	slices.SortFunc(codes, func(a, b int) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return a - b
	})
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c, m[c]))
	}
	return strings.Join(parts, " ")
}
