package main

import (
	"strconv"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
)

// observeFlags declares the flags of mock's request journal and metrics
// into s.
func (f *flagSet) observeFlags(s *mockserver.Config) {
	s.JournalSize, s.JournalBytes = mockserver.DefaultJournalSize, mockserver.DefaultJournalBytes
	s.JournalTotalBytes, s.JournalBodyBytes = mockserver.DefaultJournalTotalBytes, mockserver.DefaultJournalBodyBytes
	f.Var((*offCount)(&s.JournalSize), "journal-size", "`count` of requests the journal keeps per business (GET /__admin/requests), the oldest dropped first; 0 turns the journal off")
	f.Var((*offSize)(&s.JournalBytes), "journal-bytes", "bytes the journal keeps per business, a `size`; 0 turns the journal off")
	f.Var((*sizeValue)(&s.JournalTotalBytes), "journal-total-bytes", "bytes the journal keeps for every business together, a `size`: the bound of its memory")
	f.Var((*sizeValue)(&s.JournalBodyBytes), "journal-body-bytes", "bytes the journal keeps of each request and response body, a `size` (with the whole length)")
	f.Var((*negatedBool)(&s.NoMetrics), "metrics", "serve Prometheus metrics at GET /metrics, without credentials (no label names a business); --metrics=false turns them off")
}

// negatedBool is a boolean flag stored negated: --metrics sets NoMetrics.
type negatedBool bool

func (v *negatedBool) String() string { return strconv.FormatBool(!bool(*v)) }

func (v *negatedBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err == nil {
		*v = negatedBool(!b)
	}
	return err
}

func (v *negatedBool) IsBoolFlag() bool { return true }

// offCount is a count flag whose 0 is stored as -1: the mockserver.Config
// field's "off" (its 0 means the default).
type offCount int

func (v *offCount) String() string { return strconv.Itoa(max(0, int(*v))) }

func (v *offCount) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return errNotCount(s)
	}
	*v = offCount(n)
	if n == 0 {
		*v = -1
	}
	return nil
}

type errNotCount string

func (e errNotCount) Error() string {
	return strconv.Quote(string(e)) + " is not a count: a whole number, 0 for off"
}

// offSize is a size flag (as sizeValue) whose 0 is stored as -1, as offCount.
type offSize int64

func (v *offSize) String() string { return (*sizeValue)(v).String() }

func (v *offSize) Set(s string) error {
	if strings.TrimSpace(s) == "0" {
		*v = -1
		return nil
	}
	return (*sizeValue)(v).Set(s)
}
