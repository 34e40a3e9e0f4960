package words

import (
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	tests := []struct {
		n          int
		word, want string
	}{{0, "customer", "0 customers"}, {1, "customer", "1 customer"}, {2, "customer", "2 customers"}, {1, "retry", "1 retry"}, {3, "retry", "3 retries"}, {2, "mismatch", "2 mismatches"}, {1, "file", "1 file"}, {1, "check", "1 check"}}
	for _, tt := range tests {
		if got := Count(tt.n, tt.word); got != tt.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tt.n, tt.word, got, tt.want)
		}
	}
}

func TestTook(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{{0, "0.00 ms"}, {40 * time.Microsecond, "0.04 ms"}, {400 * time.Microsecond, "0.40 ms"}, {3210 * time.Microsecond, "3.2 ms"}, {12 * time.Millisecond, "12 ms"}, {1234 * time.Millisecond, "1.2 s"}, {75 * time.Second, "75 s"}}
	for _, tt := range tests {
		if got := Took(tt.d); got != tt.want {
			t.Errorf("Took(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
