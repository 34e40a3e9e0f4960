package main

import (
	"fmt"
	"strings"
	"time"
)

// count says n of a thing: "1 customer", "2 customers", "0 relations",
// "3 retries", "2 mismatches" (the English plurals of the words it is given).
func count(n int, singular string) string {
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

// took says how long something took, to a useful precision: "0.4 ms",
// "12 ms", "1.2 s", "75 s".
func took(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", ms)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", ms)
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}

// perSecond is the rate of n things done in d (0 when d is not positive).
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// join joins words as "a, b or c" (with conj "or").
func join(words []string, conj string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}
