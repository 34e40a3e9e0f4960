// Package words writes the counts and durations of the toolkit's summaries
// the same way everywhere: "1 customer", "3 retries", "0.4 ms", "12 ms",
// "1.2 s". The command's summaries and the contract suite's report use it.
package words

import (
	"fmt"
	"strings"
	"time"
)

// Count says n of a thing: "1 customer", "2 customers", "0 relations",
// "3 retries", "2 mismatches" (the English plurals of the words it is given).
func Count(n int, singular string) string {
	if n == 1 {
		return "1 " + singular
	}
	plural := singular + "s"
	switch {
	case strings.HasSuffix(singular, "y"):
		plural = strings.TrimSuffix(singular, "y") + "ies"
	case strings.HasSuffix(singular, "s"), strings.HasSuffix(singular, "ch"), strings.HasSuffix(singular, "sh"), strings.HasSuffix(singular, "x"):
		plural = singular + "es"
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// Took says how long something took, to a useful precision: "0.04 ms",
// "3.2 ms", "12 ms", "1.2 s", "75 s" (never "0s").
func Took(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", ms)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", ms)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", ms)
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}
