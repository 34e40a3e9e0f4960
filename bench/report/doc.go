// Command report turns the raw measurements that bench/run.sh collects into the
// results table: it prints it and writes bench/RESULTS.md, with the machine's
// description, the exact command, the ratios of our mock to each peer measured in
// the same run, and every target of issue 6 marked met or missed.
//
// Usage (run.sh calls it; by hand only to re-render a kept work folder):
//
//	go run ./bench/report -dir WORKDIR -command "bench/run.sh" -out bench/RESULTS.md
//
// WORKDIR holds load.ndjson (one line per server and batch size), gen.ndjson
// (the generator runs), memory.json (the stored-customers run) and machine.json.
// Any of the last three may be missing; their sections then say "not measured".
package main
