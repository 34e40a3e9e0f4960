// Package cpuclock is the one home of the process CPU clock (getrusage) that
// the benchmarks use to report CPU time per operation next to wall time.
package cpuclock
