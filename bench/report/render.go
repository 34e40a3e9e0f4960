package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// servers lists the servers in table order, with what each one is.
var servers = []struct{ key, label string }{
	{"ours", "algoreg-kit mock (defaults: validation, rules, state)"},
	{"ours-update", "algoreg-kit mock, updates of existing customers"},
	{"ours-sqlite", "algoreg-kit mock `--state FILE` (SQLite, a fresh file, default sync normal)"},
	{"ours-sqlite-update", "algoreg-kit mock `--state FILE`, updates of existing customers"},
	{"ours-pg", "algoreg-kit mock `--state postgres://…` (PostgreSQL on this machine, durable defaults, a fresh database)"},
	{"ours-pg-update", "algoreg-kit mock `--state postgres://…`, updates of existing customers"},
	{"prism", "Prism mock, request validation on, `-v error`"},
	{"wiremock", "WireMock standalone, fixed stub, `-Xmx256m`"},
	{"baseline-project", "bare Go + `openapi.DecodeSaveCustomers` (the ceiling)"},
	{"baseline-std", "bare Go + `encoding/json` into the model (naive)"},
	{"baseline-none", "bare Go, body read, not decoded"},
}

func serverLabel(key string) string {
	for _, s := range servers {
		if s.key == key {
			return s.label
		}
	}
	return key
}

func serverRank(key string) int {
	for i, s := range servers {
		if s.key == key {
			return i
		}
	}
	return len(servers)
}

// rowKey names a cell: server and batch size.
func rowKey(server string, customers int) string { return server + "/" + strconv.Itoa(customers) }

func index(load []loadResult) map[string]loadResult {
	m := make(map[string]loadResult, len(load))
	for _, r := range load {
		m[rowKey(r.Server, r.Customers)] = r
	}
	return m
}

// target is one target of issue 6 and what this run measured for it.
type target struct {
	Name string
	Want string
	Got  string
	Met  *bool // nil: not measured in this run
}

func (t target) verdict() string {
	switch {
	case t.Met == nil:
		return "not measured"
	case *t.Met:
		return "**met**"
	default:
		return "**missed**"
	}
}

func verdict(ok bool) *bool { return &ok }

func targets(res *results) []target {
	cells := index(res.Load)
	ts := []target{
		rpsTarget(cells, "ours", "baseline-project", 1, 0.6),
		rpsTarget(cells, "ours", "baseline-project", 100, 0.6),
		rpsTarget(cells, "ours", "prism", 1, 7),
		rpsTarget(cells, "ours", "prism", 100, 3),
		rpsTarget(cells, "ours", "baseline-std", 100, 2),
	}
	p99 := target{Name: "ours p99 latency, 1-customer saves, 32 connections", Want: "≤ 5 ms", Got: "—"}
	rss := target{Name: "ours peak RSS under the 1-customer load", Want: "≤ 64 MiB", Got: "—"}
	if o, ok := cells[rowKey("ours", 1)]; ok {
		p99.Got = ms(o.Wrk.P99US)
		p99.Met = verdict(o.Wrk.P99US <= 5000)
		rss.Got = mib(o.RSSPeakKiB)
		if o.Stored > 0 {
			rss.Got += fmt.Sprintf(" with %s customers stored", num(float64(o.Stored)))
		}
		rss.Met = verdict(o.RSSPeakKiB <= 64<<10)
		// How much of it is the state a create load piles up: the memory run's
		// bytes per stored customer times the customers this cell stored.
		if m := res.Memory; m != nil && o.Stored > 0 && m.HeapAtStored > 0 && m.RecordBytes > 0 {
			per := float64(m.HeapLiveBytes+m.RecordBytes) / float64(m.HeapAtStored)
			state := per * float64(o.Stored)
			rss.Got += fmt.Sprintf("; the stored customers take ≈ %s of it (%.0f B each in the memory run)", mibBytes(int64(state)), per)
		}
		if u, ok := cells[rowKey("ours-update", 1)]; ok {
			p99.Got += fmt.Sprintf(" (updates instead of creates: %s)", ms(u.Wrk.P99US))
			rss.Got += fmt.Sprintf(" (updates instead of creates: %s)", mib(u.RSSPeakKiB))
		}
	}
	ts = append(ts, p99, rss)

	mem := target{Name: "memory per stored customer (fixtures' shape)", Want: "≤ 1 KiB at 1,000,000 stored", Got: "—"}
	if m := res.Memory; m != nil && m.Stored > 0 {
		perRSS := float64(m.RSSAfterKiB-m.RSSBeforeKiB) * 1024 / float64(m.Stored)
		mem.Got = fmt.Sprintf("RSS growth %.0f B/customer", perRSS)
		per := perRSS
		if m.HeapLiveBytes > 0 && m.HeapAtStored > 0 {
			per = float64(m.HeapLiveBytes+m.RecordBytes) / float64(m.HeapAtStored)
			what := "live heap"
			if m.RecordBytes > 0 {
				what = "live heap + store records"
			}
			mem.Got = fmt.Sprintf("%s %.0f B/customer; %s", what, per, mem.Got)
		}
		mem.Got += fmt.Sprintf(" (%s stored)", num(float64(m.Stored)))
		mem.Met = verdict(per <= 1024)
		if m.Stored < 1_000_000 {
			mem.Want += " (this run stored fewer)"
		}
	}
	ts = append(ts, mem)

	speed := target{Name: "fixtures ndjson customers/s / plain gofakeit loop", Want: "≥ 0.5×", Got: "—"}
	// Peak RSS moves by several MiB from run to run with GC pacing (more so when
	// the generator is starved of CPU), so "constant" is: within 64 MiB, and not
	// doubling when the count grows tenfold (a leak of 40 bytes a customer would).
	constant := target{Name: "fixtures memory constant in --count", Want: "peak RSS at N ≤ 64 MiB and < 2 × at N/10", Got: "—"}
	fx, fxSmall := largestTwo(res.Gen, "fixtures")
	gl, _ := largestTwo(res.Gen, "gofakeitloop")
	if fx != nil && gl != nil && gl.perSec() > 0 && fx.Count == gl.Count {
		r := fx.perSec() / gl.perSec()
		speed.Got = fmt.Sprintf("%.2f× (%s / %s customers/s at %s)", r, num(fx.perSec()), num(gl.perSec()), num(float64(fx.Count)))
		speed.Met = verdict(r >= 0.5 && fx.ExitStatus == 0 && gl.ExitStatus == 0)
	}
	if fx != nil && fxSmall != nil {
		constant.Got = fmt.Sprintf("%s at %s, %s at %s", mib(fx.MaxRSSKiB), num(float64(fx.Count)), mib(fxSmall.MaxRSSKiB), num(float64(fxSmall.Count)))
		constant.Met = verdict(fx.MaxRSSKiB <= 64<<10 && fx.MaxRSSKiB < 2*fxSmall.MaxRSSKiB)
	}
	return append(ts, speed, constant)
}

// largestTwo returns the runs of tool with the largest and the second largest count.
func largestTwo(gen []genResult, tool string) (big, small *genResult) {
	var runs []genResult
	for _, g := range gen {
		if g.Tool == tool {
			runs = append(runs, g)
		}
	}
	slices.SortFunc(runs, func(a, b genResult) int { return int(b.Count - a.Count) })
	if len(runs) > 0 {
		big = &runs[0]
	}
	if len(runs) > 1 && runs[1].Count < runs[0].Count {
		small = &runs[1]
	}
	return big, small
}

// render writes the whole report as Markdown.
func render(w io.Writer, res *results, command string) {
	m := res.Machine
	fmt.Fprintf(w, "# Benchmark results\n\n")
	fmt.Fprintf(w, "Written by `bench/run.sh` on %s. Rerun it to refresh this file; read [README.md](README.md) for what it measures and its caveats.\n\n", orDash(m.Date))
	fmt.Fprintf(w, "Command: `%s`\n\n", command)
	fmt.Fprintf(w, "## Machine\n\n")
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	fmt.Fprintf(w, "| CPU | %s, %d cores |\n| memory | %s |\n| kernel | %s |\n| commit | %s |\n", orDash(m.CPU), m.Cores, orDash(m.MemTotal), orDash(m.Kernel), orDash(m.Commit))
	for _, k := range sortedKeys(m.Versions) {
		fmt.Fprintf(w, "| %s | %s |\n", k, m.Versions[k])
	}
	for _, k := range sortedKeys(m.Settings) {
		fmt.Fprintf(w, "| %s | %s |\n", k, m.Settings[k])
	}

	if len(res.Failed) > 0 {
		fmt.Fprintf(w, "\n## Failed in this run\n\nThese parts failed and are missing below (the logs are in the work folder):\n\n")
		for _, f := range res.Failed {
			fmt.Fprintf(w, "- %s (`%s`)\n", f.What, f.Logs)
		}
	}
	fmt.Fprintf(w, "\n## Load: POST /api/v1/customers/save\n\n")
	renderLoad(w, res.Load)
	fmt.Fprintf(w, "\n## Ratios in this run (requests/s of ours ÷ requests/s of the other)\n\n")
	renderRatios(w, res.Load, false)
	fmt.Fprintf(w, "\nThe same per server CPU-second (requests ÷ the server's user+system CPU time), which discounts the CPU the load generator and anything else on the machine took; the targets use the table above.\n\n")
	renderRatios(w, res.Load, true)
	if hasStores(res.Load) {
		fmt.Fprintf(w, "\n## Stores: requests/s, and the ratio to Prism and to the ceiling in this run\n\n")
		renderStores(w, res.Load)
		fmt.Fprintf(w, "\n## Targets of issue 11\n\n")
		fmt.Fprintf(w, "| target | wanted | measured | verdict |\n|---|---|---|---|\n")
		for _, t := range issue11Targets(res) {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, t.verdict())
		}
	}
	if res.Startup != nil {
		fmt.Fprintf(w, "\n## Startup on a SQLite state file\n\n")
		renderStartup(w, res.Startup)
	}
	fmt.Fprintf(w, "\n## Targets of issue 6\n\n")
	fmt.Fprintf(w, "| target | wanted | measured | verdict |\n|---|---|---|---|\n")
	for _, t := range targets(res) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, t.verdict())
	}
	fmt.Fprintf(w, "\n## Generator: customers as NDJSON\n\n")
	renderGen(w, res.Gen)
	fmt.Fprintf(w, "\n## Memory: customers stored in one mock\n\n")
	renderMemory(w, res.Memory)
	if res.Heap != "" {
		fmt.Fprintf(w, "\nWhere that memory is (`go tool pprof -top -sample_index=inuse_space` of the heap after the load and a GC; flat = allocated by that function and still live):\n\n```\n%s```\n", firstLines(res.Heap, 24))
	}
	if len(res.Profiles) > 0 {
		fmt.Fprintf(w, "\n## Where our mock spends its CPU under load\n\n")
		fmt.Fprintf(w, "CPU profiles of `bench/mockprof` (the mock's package with its default configuration) during a measured run, `go tool pprof -top` (flat), first lines.\n")
		sizes := make([]int, 0, len(res.Profiles))
		for n := range res.Profiles {
			sizes = append(sizes, n)
		}
		slices.Sort(sizes)
		for _, n := range sizes {
			fmt.Fprintf(w, "\n%d customer(s) per request, flat:\n\n```\n%s```\n", n, firstLines(res.Profiles[n], 28))
			if cum := cumulativeView(res.ProfilesCum[n]); cum != "" {
				fmt.Fprintf(w, "\n%d customer(s) per request, cumulative, the stages of a request (our packages, GC, logging, I/O):\n\n```\n%s```\n", n, cum)
			}
		}
	}
}

// stageMarkers pick, out of a cumulative profile, the lines that say where a
// request's time goes: our packages, the garbage collector, allocation,
// logging and the HTTP server's reads and writes.
// A marker ending in "/" or "." matches every function under it; any other
// marker matches that function only.
var stageMarkers = []string{
	"github.com/algoreg-kit/", "runtime.gcBgMarkWorker", "runtime.mallocgc", "runtime.gcAssistAlloc",
	"log/slog.(*Logger).LogAttrs", "net/http.(*conn).serve", "net/http.(*conn).readRequest",
	"net/http.(*response).finishRequest", "syscall.write", "syscall.read", "encoding/json.",
}

func isStage(line string) bool {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false
	}
	fn := f[len(f)-1]
	for _, m := range stageMarkers {
		if fn == m || (strings.HasSuffix(m, "/") || strings.HasSuffix(m, ".")) && strings.HasPrefix(fn, m) {
			return true
		}
	}
	return false
}

// cumulativeView keeps the header and the stage lines of a -top -cum listing.
func cumulativeView(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	kept := 0
	for _, line := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.Contains(line, "flat%"), strings.HasPrefix(line, "Duration:"):
			b.WriteString(line)
		case kept < 30 && isStage(line):
			b.WriteString(line)
			kept++
		}
	}
	if kept == 0 {
		return ""
	}
	return b.String()
}

// firstLines returns the first n lines of s, each ending in a newline.
func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	out := strings.Join(lines, "")
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

func renderLoad(w io.Writer, load []loadResult) {
	rows := slices.Clone(load)
	slices.SortStableFunc(rows, func(a, b loadResult) int {
		if a.Customers != b.Customers {
			return a.Customers - b.Customers
		}
		return serverRank(a.Server) - serverRank(b.Server)
	})
	fmt.Fprintf(w, "| customers/request | server | req/s | customers/s | p50 | p99 | peak RSS | server CPU | customers per server CPU-s | errors | rounds: req/s range | load avg before |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		perCPU := "—"
		if r.cpuSeconds() > 0 {
			perCPU = num(float64(r.Wrk.Requests-r.Wrk.ErrorsStatus) * float64(r.Customers) / r.cpuSeconds())
		}
		errs := strconv.FormatInt(r.errors(), 10)
		if r.Wrk.ErrorsStatus > 0 {
			errs += fmt.Sprintf(" (%d non-2xx)", r.Wrk.ErrorsStatus)
		}
		rssNote := mib(r.RSSPeakKiB)
		if r.Stored > 0 {
			rssNote += fmt.Sprintf(" (%s stored)", short(r.Stored))
		}
		if r.StateBytes > 0 {
			rssNote += fmt.Sprintf("; file %s", mibBytes(r.StateBytes))
		}
		spread := fmt.Sprintf("%d: %s–%s", max(r.rounds, 1), num(r.minRPS), num(r.maxRPS))
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %.2f cores | %s | %s | %s | %s |\n",
			r.Customers, serverLabel(r.Server), num(r.reqPerSec()), num(r.customersPerSec()),
			ms(r.Wrk.P50US), ms(r.Wrk.P99US), rssNote, r.cpuCores(), perCPU, errs, spread, orDash(firstFields(r.LoadAvg, 3)))
	}
	var notes []string
	for _, r := range rows {
		if r.Mode == "create" && r.Stored > 0 && r.Sent > 0 {
			// wrk does not count the requests in flight when the warm-up and the
			// measurement stop: at most one per connection each time.
			slack := int64(2*max(r.Conns, 32)) * int64(r.Customers)
			check := "every counted customer was created"
			switch {
			case r.Stored < r.Sent:
				check = "**fewer than counted: some saves did not create**"
			case r.Stored > r.Sent+slack:
				check = "**more than were sent: customers created twice?**"
			}
			notes = append(notes, fmt.Sprintf("- %s, %d customer(s)/request: %s customers stored at the end, %s in the 2xx answers wrk and the sanity pass counted (%s).",
				r.Server, r.Customers, num(float64(r.Stored)), num(float64(r.Sent)), check))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nCreates, checked through `GET /__admin/customers` (the requests still in flight when the warm-up and the measurement stop are not counted, so stored may be higher by up to two requests per connection):\n\n%s\n", strings.Join(notes, "\n"))
	}
}

func renderRatios(w io.Writer, load []loadResult, perCPU bool) {
	cells := index(load)
	rate := func(r loadResult) float64 {
		if !perCPU {
			return r.reqPerSec()
		}
		if r.cpuSeconds() <= 0 {
			return 0
		}
		return float64(r.Wrk.Requests-r.Wrk.ErrorsStatus) / r.cpuSeconds()
	}
	sizes := batchSizes(load)
	sizeHeader(w, "ours ÷", sizes, " %d customer(s) |")
	for _, s := range servers {
		if strings.HasPrefix(s.key, "ours") {
			continue
		}
		fmt.Fprintf(w, "| %s |", s.label)
		for _, n := range sizes {
			o, ok1 := cells[rowKey("ours", n)]
			p, ok2 := cells[rowKey(s.key, n)]
			if !ok1 || !ok2 || rate(p) == 0 {
				fmt.Fprintf(w, " — |")
				continue
			}
			fmt.Fprintf(w, " %.2f× |", rate(o)/rate(p))
		}
		fmt.Fprintln(w)
	}
}

func renderGen(w io.Writer, gen []genResult) {
	if len(gen) == 0 {
		fmt.Fprintf(w, "Not measured in this run.\n")
		return
	}
	fmt.Fprintf(w, "| tool | customers | elapsed | customers/s | CPU (user+sys) | customers per CPU-s | peak RSS | output | exit |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, g := range gen {
		label := "`algoreg-kit fixtures --format ndjson`"
		if g.Tool == "gofakeitloop" {
			label = "plain gofakeit loop + `encoding/json` (`bench/gofakeitloop`, the ceiling)"
		}
		perCPU := "—"
		if cpu := g.UserS + g.SysS; cpu > 0 {
			perCPU = num(float64(g.Count) / cpu)
		}
		out := "/dev/null"
		if g.Bytes > 0 {
			out = mibBytes(g.Bytes) + " (checked: one line per customer)"
		}
		fmt.Fprintf(w, "| %s | %s | %.2f s | %s | %.2f s | %s | %s | %s | %d |\n",
			label, num(float64(g.Count)), g.ElapsedS, num(g.perSec()), g.UserS+g.SysS, perCPU, mib(g.MaxRSSKiB), out, g.ExitStatus)
	}
}

func renderMemory(w io.Writer, m *memoryResult) {
	if m == nil {
		fmt.Fprintf(w, "Not measured in this run.\n")
		return
	}
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	fmt.Fprintf(w, "| customers stored | %s (batches of %d, loaded in %.1f s) |\n", num(float64(m.Stored)), m.Batch, m.LoadSeconds)
	fmt.Fprintf(w, "| RSS before / after / peak | %s / %s / %s |\n", mib(m.RSSBeforeKiB), mib(m.RSSAfterKiB), mib(m.RSSPeakKiB))
	if m.Stored > 0 {
		fmt.Fprintf(w, "| RSS growth per customer | %.0f bytes |\n", float64(m.RSSAfterKiB-m.RSSBeforeKiB)*1024/float64(m.Stored))
	}
	if m.HeapLiveBytes > 0 && m.HeapAtStored > 0 {
		fmt.Fprintf(w, "| live heap after a forced GC | %s with %s customers stored: %.0f bytes per customer |\n",
			mibBytes(m.HeapLiveBytes), num(float64(m.HeapAtStored)), float64(m.HeapLiveBytes)/float64(m.HeapAtStored))
	}
	if m.RecordBytes > 0 && m.HeapAtStored > 0 {
		fmt.Fprintf(w, "| store records (outside the Go heap) | %s: %.0f bytes per customer |\n",
			mibBytes(m.RecordBytes), float64(m.RecordBytes)/float64(m.HeapAtStored))
		fmt.Fprintf(w, "| heap + records | %.0f bytes per customer |\n",
			float64(m.HeapLiveBytes+m.RecordBytes)/float64(m.HeapAtStored))
	}
}

// num formats n with thousands separators, no decimals (one decimal below 100).
func num(n float64) string {
	if n < 100 && n != math.Trunc(n) {
		return strconv.FormatFloat(n, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(n)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && c != '-' && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// short formats a count as 1.2M, 340k, 999.
func short(n int64) string {
	switch {
	case n >= 1_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 2, 64) + "M"
	case n >= 10_000:
		return strconv.FormatInt(n/1000, 10) + "k"
	default:
		return strconv.FormatInt(n, 10)
	}
}

func ms(us int64) string { return strconv.FormatFloat(float64(us)/1000, 'f', 2, 64) + " ms" }

func mib(kib int64) string {
	if kib <= 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) + " MiB"
}

func mibBytes(b int64) string { return mib(b / 1024) }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func firstFields(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// storeRows are the rows of the stores table: each store, creates then updates.
var storeRows = []string{"ours", "ours-update", "ours-sqlite", "ours-sqlite-update", "ours-pg", "ours-pg-update"}

func hasStores(load []loadResult) bool {
	for _, r := range load {
		if slices.Contains(storeRows, r.Server) {
			return true
		}
	}
	return false
}

// renderStores is the table of stores × batch sizes × creates/updates: req/s,
// and in brackets the ratio to Prism's and to the ceiling's req/s.
func renderStores(w io.Writer, load []loadResult) {
	cells := index(load)
	sizes := batchSizes(load)
	sizeHeader(w, "store | saves", sizes, " %d customer(s): req/s (× Prism, × ceiling) |")
	for _, key := range storeRows {
		if !slices.ContainsFunc(load, func(r loadResult) bool { return r.Server == key }) {
			continue
		}
		store, saves := storeName(key)
		fmt.Fprintf(w, "| %s | %s |", store, saves)
		for _, n := range sizes {
			o, ok := cells[rowKey(key, n)]
			if !ok {
				fmt.Fprintf(w, " — |")
				continue
			}
			fmt.Fprintf(w, " %s (%s, %s) |", num(o.reqPerSec()), ratio(o, cells, "prism", n), ratio(o, cells, "baseline-project", n))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nPrism keeps nothing; the ceiling (bare Go + `openapi.DecodeSaveCustomers`) decodes and keeps nothing. SQLite: default sync (normal: a save survives a crash of the process). PostgreSQL: on the same machine, durable defaults (fsync, synchronous_commit on); its CPU counts in the server CPU of the load table.\n")
}

// storeName splits a server key of storeRows into its store and its saves.
func storeName(key string) (store, saves string) {
	saves = "creates"
	if strings.HasSuffix(key, "-update") {
		saves, key = "updates", strings.TrimSuffix(key, "-update")
	}
	switch key {
	case "ours-sqlite":
		return "SQLite (`--state FILE`)", saves
	case "ours-pg":
		return "PostgreSQL (`--state postgres://…`)", saves
	}
	return "in memory (default)", saves
}

// ratio is the req/s of o over that of server at n, as "2.50×", or "—".
func ratio(o loadResult, cells map[string]loadResult, server string, n int) string {
	p, ok := cells[rowKey(server, n)]
	if !ok || p.reqPerSec() == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", o.reqPerSec()/p.reqPerSec())
}

// rpsTarget checks server ≥ want × other in req/s at n customers.
func rpsTarget(cells map[string]loadResult, server, other string, n int, want float64) target {
	t := target{Name: fmt.Sprintf("%s / %s at %d customer(s), req/s", server, other, n), Want: fmt.Sprintf("≥ %.1f×", want), Got: "—"}
	o, ok1 := cells[rowKey(server, n)]
	p, ok2 := cells[rowKey(other, n)]
	if !ok1 || !ok2 || p.reqPerSec() == 0 {
		return t
	}
	r := o.reqPerSec() / p.reqPerSec()
	t.Got = fmt.Sprintf("%.2f× (%s / %s)", r, num(o.reqPerSec()), num(p.reqPerSec()))
	t.Met = verdict(r >= want && o.errors() == 0)
	if o.errors() > 0 {
		t.Got += fmt.Sprintf(", %d errors", o.errors())
	}
	return t
}

// issue11Targets are the speed targets of issue 11 (state that survives).
func issue11Targets(res *results) []target {
	cells := index(res.Load)
	ts := []target{
		rpsTarget(cells, "ours", "prism", 100, 3),
		rpsTarget(cells, "ours-update", "prism", 100, 3),
		rpsTarget(cells, "ours", "baseline-project", 100, 0.8),
		rpsTarget(cells, "ours-update", "baseline-project", 100, 0.8),
		rpsTarget(cells, "ours-update", "ours", 100, 1),
	}
	for _, n := range []int{1, 100} {
		ts = append(ts, rpsTarget(cells, "ours-sqlite", "prism", n, 1), rpsTarget(cells, "ours-sqlite-update", "prism", n, 1))
	}
	if su := res.Startup; su != nil {
		ok := su.StartSeconds < 2
		ts = append(ts, target{
			Name: "startup of `mock --state FILE` on a state file, to /healthz", Want: "< 2 s at 1,000,000 customers",
			Got: fmt.Sprintf("%.3f s at %s customers, peak RSS %s", su.StartSeconds, num(float64(su.Customers)), mib(su.RSSPeakKiB)),
			Met: &ok,
		})
	}
	return ts
}

func renderStartup(w io.Writer, su *startupResult) {
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	fmt.Fprintf(w, "| customers in the file | %s (`algoreg-kit fixtures --format ndjson` through `mock --preload`, %.1f s) |\n", num(float64(su.Customers)), su.BuildSeconds)
	fmt.Fprintf(w, "| file (with its WAL) | %s |\n", mibBytes(su.StateBytes))
	fmt.Fprintf(w, "| from starting `algoreg-kit mock --state FILE` to `/healthz` answering | %.3f s |\n", su.StartSeconds)
	fmt.Fprintf(w, "| peak RSS then | %s |\n", mib(su.RSSPeakKiB))
	fmt.Fprintf(w, "| then a first save (1 customer) / a first `/__admin/customers?limit=10` | %.3f s / %.3f s |\n", su.FirstSaveSeconds, su.FirstListSeconds)
	fmt.Fprintf(w, "| peak RSS after them | %s |\n", mib(su.RSSPeakAfterKiB))
}

// batchSizes returns the distinct customers-per-request of load, in order.
func batchSizes(load []loadResult) []int {
	var sizes []int
	for _, r := range load {
		if !slices.Contains(sizes, r.Customers) {
			sizes = append(sizes, r.Customers)
		}
	}
	slices.Sort(sizes)
	return sizes
}

// sizeHeader writes the header of a Markdown table whose first columns are
// lead ("a | b" for two) and whose other columns are one per batch size,
// named by cell (a format with the size's %d), right-aligned.
func sizeHeader(w io.Writer, lead string, sizes []int, cell string) {
	fmt.Fprintf(w, "| %s |", lead)
	for _, n := range sizes {
		fmt.Fprintf(w, cell, n)
	}
	fmt.Fprintf(w, "\n|%s", strings.Repeat("---|", strings.Count(lead, "|")+1))
	for range sizes {
		fmt.Fprintf(w, "---:|")
	}
	fmt.Fprintln(w)
}
