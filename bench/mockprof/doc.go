// Command mockprof serves our mock (mockserver.New with its default
// configuration, as "algoreg-kit mock" runs it, one log line per request) and, on
// a second loopback address, Go's profiling and expvar endpoints, so that
// bench/run.sh can take a CPU profile of the mock under load and read its live
// heap after a forced GC:
//
//	GET /debug/pprof/profile?seconds=10   CPU profile (go tool pprof)
//	GET /debug/pprof/heap?gc=1            heap profile, after a GC
//	GET /debug/vars                       expvar, memstats of the last GC
//
// Usage:
//
//	go run ./bench/mockprof -addr 127.0.0.1:18200 -debug-addr 127.0.0.1:18201 2>mock.log
//
// With -state FILE the mock keeps its state in that SQLite file (default sync)
// instead of in memory.
//
// The mock's address serves nothing but the mock; the debug address must stay on
// loopback.
package main
