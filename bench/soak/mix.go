package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// A mix picks the kind of each request at random, each kind with its weight.
type mix struct {
	kinds []string
	cum   []int // cumulative weights, in the order of kinds
}

// parseMix reads "kind=weight,kind=weight,…". Every kind must be one of
// known, named once, with a weight ≥ 0; at least one weight must be > 0.
func parseMix(s string, known []string) (mix, error) {
	var m mix
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		kind, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		switch {
		case !ok || err != nil || n < 0:
			return mix{}, fmt.Errorf("-mix: %q is not kind=weight (a whole number ≥ 0)", part)
		case !slices.Contains(known, kind):
			return mix{}, fmt.Errorf("-mix: unknown kind %q (known: %s)", kind, strings.Join(known, ", "))
		case slices.Contains(m.kinds, kind):
			return mix{}, fmt.Errorf("-mix: %q named twice", kind)
		}
		total += n
		m.kinds = append(m.kinds, kind)
		m.cum = append(m.cum, total)
	}
	if total == 0 {
		return mix{}, fmt.Errorf("-mix: every weight is 0; give one kind a weight > 0")
	}
	return m, nil
}

// pick is a kind drawn from r, with the probability weight/total.
func (m mix) pick(r *rand.Rand) string {
	x := r.IntN(m.cum[len(m.cum)-1])
	i, _ := slices.BinarySearchFunc(m.cum, x, func(c, x int) int {
		if c <= x {
			return -1
		}
		return 1
	})
	return m.kinds[i]
}
