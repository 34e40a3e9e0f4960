package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// wrkSummary is what bench/save.lua's done() writes.
type wrkSummary struct {
	Requests      int64   `json:"requests"`
	DurationUS    int64   `json:"duration_us"`
	Bytes         int64   `json:"bytes"`
	ErrorsConnect int64   `json:"errors_connect"`
	ErrorsRead    int64   `json:"errors_read"`
	ErrorsWrite   int64   `json:"errors_write"`
	ErrorsStatus  int64   `json:"errors_status"`
	ErrorsTimeout int64   `json:"errors_timeout"`
	MeanUS        float64 `json:"latency_mean_us"`
	P50US         int64   `json:"latency_p50_us"`
	P90US         int64   `json:"latency_p90_us"`
	P99US         int64   `json:"latency_p99_us"`
	MaxUS         int64   `json:"latency_max_us"`
}

// loadResult is one line of load.ndjson: one server under one batch size.
type loadResult struct {
	Server     string     `json:"server"`    // ours, prism, wiremock, baseline-project, …
	Customers  int        `json:"customers"` // customers per request
	Mode       string     `json:"mode"`      // create or update
	Round      int        `json:"round"`     // 1, 2, … (run.sh --rounds)
	Conns      int        `json:"connections"`
	Wrk        wrkSummary `json:"wrk"`
	RSSPeakKiB int64      `json:"rss_peak_kib"`   // VmHWM of the server's process tree at the end
	CPUSeconds float64    `json:"cpu_seconds"`    // server user+system CPU during the measurement
	DBCPU      float64    `json:"db_cpu_seconds"` // the PostgreSQL cluster's CPU in that time (ours-pg only)
	StateBytes int64      `json:"state_bytes"`    // the SQLite state file and its WAL at the end (ours-sqlite only)
	Stored     int64      `json:"stored"`         // customers the server reports stored (ours only; -1 unknown)
	Sent       int64      `json:"sent"`           // customers of the 2xx answers counted, sanity pass included (ours only)
	LoadAvg    string     `json:"loadavg"`        // /proc/loadavg before the cell

	// Set by bestRounds: how many rounds the cell had and the spread of req/s.
	rounds         int
	minRPS, maxRPS float64
}

func (r loadResult) seconds() float64 { return float64(r.Wrk.DurationUS) / 1e6 }

// reqPerSec counts only 2xx answers: a server that rejects bodies is not fast.
func (r loadResult) reqPerSec() float64 {
	if r.Wrk.DurationUS == 0 {
		return 0
	}
	return float64(r.Wrk.Requests-r.Wrk.ErrorsStatus) / r.seconds()
}

func (r loadResult) customersPerSec() float64 { return r.reqPerSec() * float64(r.Customers) }

func (r loadResult) errors() int64 {
	w := r.Wrk
	return w.ErrorsConnect + w.ErrorsRead + w.ErrorsWrite + w.ErrorsStatus + w.ErrorsTimeout
}

// cpuSeconds is the CPU the server took during the measurement: the mock's
// and, for PostgreSQL, the database cluster's.
func (r loadResult) cpuSeconds() float64 { return r.CPUSeconds + r.DBCPU }

// cpuCores is the server's average CPU use in cores during the measurement.
func (r loadResult) cpuCores() float64 {
	if r.Wrk.DurationUS == 0 {
		return 0
	}
	return r.cpuSeconds() / r.seconds()
}

// genResult is one line of gen.ndjson: one generator run under /usr/bin/time -v.
type genResult struct {
	Tool       string  `json:"tool"` // fixtures or gofakeitloop
	Count      int64   `json:"count"`
	ElapsedS   float64 `json:"elapsed_s"`
	UserS      float64 `json:"user_s"`
	SysS       float64 `json:"sys_s"`
	MaxRSSKiB  int64   `json:"max_rss_kib"`
	Bytes      int64   `json:"bytes"`
	Lines      int64   `json:"lines"`
	ExitStatus int     `json:"exit_status"`
}

func (g genResult) perSec() float64 {
	if g.ElapsedS == 0 {
		return 0
	}
	return float64(g.Count) / g.ElapsedS
}

// memoryResult is memory.json: a fresh mock loaded with many customers.
type memoryResult struct {
	Stored        int64   `json:"stored"`
	RSSBeforeKiB  int64   `json:"rss_before_kib"`
	RSSAfterKiB   int64   `json:"rss_after_kib"`
	RSSPeakKiB    int64   `json:"rss_peak_kib"`
	HeapLiveBytes int64   `json:"heap_live_bytes"` // live heap after the last GC (gctrace), 0 if unknown
	RecordBytes   int64   `json:"record_bytes"`    // the MemStore's record chunks, outside the Go heap; 0 if unknown
	HeapAtStored  int64   `json:"heap_at_stored"`  // customers stored when that GC ran, 0 if unknown
	LoadSeconds   float64 `json:"load_seconds"`
	Batch         int     `json:"batch"`
}

// startupResult is startup.json: "mock --state FILE" started on a state file
// of many customers.
type startupResult struct {
	Customers        int64   `json:"customers"`
	StateBytes       int64   `json:"state_bytes"`
	BuildSeconds     float64 `json:"build_seconds"`      // making the file (mock --preload)
	StartSeconds     float64 `json:"start_seconds"`      // from exec to /healthz answering
	RSSPeakKiB       int64   `json:"rss_peak_kib"`       // VmHWM when /healthz answered
	RSSPeakAfterKiB  int64   `json:"rss_peak_after_kib"` // VmHWM after the first save and listing
	FirstSaveSeconds float64 `json:"first_save_seconds"`
	FirstListSeconds float64 `json:"first_listing_seconds"`
}

// failure is one line of failed.ndjson.
type failure struct {
	What string `json:"what"`
	Logs string `json:"logs"`
}

// machine is machine.json.
type machine struct {
	Date     string            `json:"date"`
	Cores    int               `json:"cores"`
	CPU      string            `json:"cpu"`
	MemTotal string            `json:"mem_total"`
	Kernel   string            `json:"kernel"`
	Commit   string            `json:"commit"`
	Versions map[string]string `json:"versions"`
	Settings map[string]string `json:"settings"`
}

type results struct {
	Load    []loadResult
	Gen     []genResult
	Memory  *memoryResult
	Startup *startupResult
	Machine machine
	// Heap is "go tool pprof -top -sample_index=inuse_space" of the memory run.
	Heap string
	// Failed lists the parts of the run that failed (run.sh went on without them).
	Failed []failure
	// Profiles holds "go tool pprof -top" of our mock under load, by batch
	// size; ProfilesCum the same sorted by cumulative time.
	Profiles, ProfilesCum map[int]string
}

func readResults(dir string) (*results, error) {
	res := &results{}
	var all []loadResult
	if err := readNDJSON(filepath.Join(dir, "load.ndjson"), &all); err != nil {
		return nil, err
	}
	res.Load = bestRounds(all)
	if err := readNDJSON(filepath.Join(dir, "gen.ndjson"), &res.Gen); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := readNDJSON(filepath.Join(dir, "failed.ndjson"), &res.Failed); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var mem memoryResult
	if err := readJSON(filepath.Join(dir, "memory.json"), &mem); err == nil {
		res.Memory = &mem
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var su startupResult
	if err := readJSON(filepath.Join(dir, "startup.json"), &su); err == nil {
		res.Startup = &su
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, "machine.json"), &res.Machine); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "profile-heap.txt")); err == nil {
		res.Heap = string(b)
	}
	profiles, err := filepath.Glob(filepath.Join(dir, "profile-ours-*.txt"))
	if err != nil {
		return nil, err
	}
	for _, name := range profiles {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(name), "profile-ours-%d", &n); err != nil {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		into := &res.Profiles
		if strings.HasSuffix(name, "-cum.txt") {
			into = &res.ProfilesCum
		}
		if *into == nil {
			*into = map[int]string{}
		}
		(*into)[n] = string(b)
	}
	return res, nil
}

func readJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func readNDJSON[T any](name string, out *[]T) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
		*out = append(*out, v)
	}
	return sc.Err()
}

// bestRounds keeps, for each server and batch size, the round with the most
// requests/s, and records how many rounds there were and their spread. Noise on
// a shared machine only ever slows a server down, so the best round is the
// closest to what the server can do; every server gets the same number of tries.
func bestRounds(all []loadResult) []loadResult {
	var out []loadResult
	at := map[string]int{}
	for _, r := range all {
		rps := r.reqPerSec()
		k := rowKey(r.Server, r.Customers)
		i, ok := at[k]
		if !ok {
			r.rounds, r.minRPS, r.maxRPS = 1, rps, rps
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		b := out[i]
		b.rounds++
		b.minRPS, b.maxRPS = min(b.minRPS, rps), max(b.maxRPS, rps)
		if rps > b.reqPerSec() {
			r.rounds, r.minRPS, r.maxRPS = b.rounds, b.minRPS, b.maxRPS
			b = r
		}
		out[i] = b
	}
	return out
}
