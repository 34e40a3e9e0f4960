package main

import (
	"strings"
	"time"
)

// perSecond is the rate of n things done in d (0 when d is not positive).
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// join joins items as "a, b or c" (with conj "or").
func join(items []string, conj string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}
