package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/golden"
)

func TestReportGolden(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "-dir", "testdata/run", "-command", "bench/run.sh --duration 10", "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v (stderr %s)", err, stderr.String())
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, stdout.Bytes()) {
		t.Errorf("the file and stdout differ")
	}
	golden.Check(t, "report.golden.md", written)
}

func TestTargets(t *testing.T) {
	res, err := readResults("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	// The fixture numbers are chosen so each verdict is known.
	want := map[string]string{
		"ours / baseline-project at 1 customer(s), req/s":    "**met**",    // 30,000 / 45,000 = 0.67
		"ours / baseline-project at 100 customer(s), req/s":  "**met**",    // 4,000 / 6,000 = 0.67
		"ours / prism at 1 customer(s), req/s":               "**met**",    // 8.3×
		"ours / prism at 100 customer(s), req/s":             "**missed**", // 2.9×
		"ours / baseline-std at 100 customer(s), req/s":      "**met**",    // non-2xx of the baseline do not count
		"ours p99 latency, 1-customer saves, 32 connections": "**met**",
		"ours peak RSS under the 1-customer load":            "**met**",
		"memory per stored customer (fixtures' shape)":       "**met**", // 909 B live
		"fixtures ndjson customers/s / plain gofakeit loop":  "**met**",
		"fixtures memory constant in --count":                "**met**",
	}
	checkVerdicts(t, targets(res), want)
}

func TestTargetsMissedAndUnmeasured(t *testing.T) {
	cell := func(server string, customers int, requests, p99 int64, rss int64) loadResult {
		return loadResult{Server: server, Customers: customers, Wrk: wrkSummary{Requests: requests, DurationUS: 1e6, P99US: p99}, RSSPeakKiB: rss}
	}
	res := &results{
		Load: []loadResult{
			cell("ours", 1, 1000, 6000, 70<<10),
			cell("baseline-project", 1, 2000, 100, 1),
		},
		Gen: []genResult{
			{Tool: "fixtures", Count: 100, ElapsedS: 1, MaxRSSKiB: 10 << 10},
			{Tool: "fixtures", Count: 1000, ElapsedS: 10, MaxRSSKiB: 20 << 10},
			{Tool: "gofakeitloop", Count: 1000, ElapsedS: 2},
		},
		Memory: &memoryResult{Stored: 1000, RSSBeforeKiB: 0, RSSAfterKiB: 2000},
	}
	tests := []struct{ name, want string }{
		{"ours / baseline-project at 1 customer(s), req/s", "**missed**"},
		{"ours / baseline-project at 100 customer(s), req/s", "not measured"},
		{"ours / prism at 1 customer(s), req/s", "not measured"},
		{"ours p99 latency, 1-customer saves, 32 connections", "**missed**"},
		{"ours peak RSS under the 1-customer load", "**missed**"},
		{"memory per stored customer (fixtures' shape)", "**missed**"}, // 2,048 B by RSS
		{"fixtures ndjson customers/s / plain gofakeit loop", "**missed**"},
		{"fixtures memory constant in --count", "**missed**"},
	}
	got := map[string]target{}
	for _, tg := range targets(res) {
		got[tg.Name] = tg
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, ok := got[tt.name]
			if !ok {
				t.Fatalf("no target %q", tt.name)
			}
			if tg.verdict() != tt.want {
				t.Errorf("got %s (%s), want %s", tg.verdict(), tg.Got, tt.want)
			}
		})
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {12.34, "12.3"}, {999, "999"}, {1000, "1,000"}, {43210.6, "43,211"}, {1234567, "1,234,567"},
	}
	for _, tt := range tests {
		if got := num(tt.in); got != tt.want {
			t.Errorf("num(%v): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRunNeedsDir(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "no -dir") {
		t.Errorf("got %v, want a no -dir error", err)
	}
}

func TestBestRounds(t *testing.T) {
	res, err := readResults("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	cells := index(res.Load)
	tests := []struct {
		key          string
		wantRequests int64
		wantRounds   int
	}{
		{"prism/1", 36000, 2},              // round 2 was slower: round 1 kept
		{"baseline-project/100", 62000, 2}, // round 2 was faster: kept
		{"ours/1", 300000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := cells[tt.key]
			if !ok {
				t.Fatalf("no cell %s", tt.key)
			}
			if got.Wrk.Requests != tt.wantRequests || got.rounds != tt.wantRounds {
				t.Errorf("got %d requests over %d rounds, want %d over %d", got.Wrk.Requests, got.rounds, tt.wantRequests, tt.wantRounds)
			}
		})
	}
	if got, want := len(res.Load), 14; got != want {
		t.Errorf("got %d cells, want %d (one per server and size)", got, want)
	}
}

func TestCreateCheck(t *testing.T) {
	row := func(stored, sent int64) loadResult {
		return loadResult{Server: "ours", Customers: 100, Mode: "create", Conns: 32, Stored: stored, Sent: sent,
			Wrk: wrkSummary{Requests: 10, DurationUS: 1e6}}
	}
	tests := []struct {
		name string
		row  loadResult
		want string
	}{
		{"all created, some in flight", row(106_400, 100_000), "every counted customer was created"},
		{"fewer", row(99_900, 100_000), "fewer than counted"},
		{"more than in flight could explain", row(106_500, 100_000), "more than were sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			renderLoad(&b, []loadResult{tt.row})
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("got\n%s\nwant it to say %q", b.String(), tt.want)
			}
		})
	}
}

func TestIssue11Targets(t *testing.T) {
	res, err := readResults("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	// The fixture numbers are chosen so each verdict is known.
	want := map[string]string{
		"ours / prism at 100 customer(s), req/s":                      "**missed**", // 2.94×
		"ours-update / prism at 100 customer(s), req/s":               "**met**",    // 41,000 / 13,600 = 3.01×
		"ours / baseline-project at 100 customer(s), req/s":           "**missed**", // 0.65×
		"ours-update / baseline-project at 100 customer(s), req/s":    "**missed**", // 0.66×
		"ours-update / ours at 100 customer(s), req/s":                "**met**",    // 1.03×
		"ours-sqlite / prism at 1 customer(s), req/s":                 "**met**",    // 40,000 / 36,000 (the best round)
		"ours-sqlite-update / prism at 1 customer(s), req/s":          "**missed**", // 0.83×
		"ours-sqlite / prism at 100 customer(s), req/s":               "**met**",    // 1.03×
		"ours-sqlite-update / prism at 100 customer(s), req/s":        "not measured",
		"startup of `mock --state FILE` on a state file, to /healthz": "**met**", // 0.085 s
	}
	checkVerdicts(t, issue11Targets(res), want)
}

// checkVerdicts fails t unless got has exactly the targets of want, each with
// its verdict.
func checkVerdicts(t *testing.T, got []target, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d targets, want %d", len(got), len(want))
	}
	for _, tg := range got {
		w, ok := want[tg.Name]
		if !ok {
			t.Errorf("got unexpected target %q", tg.Name)
			continue
		}
		if tg.verdict() != w {
			t.Errorf("%s: got %s (%s), want %s", tg.Name, tg.verdict(), tg.Got, w)
		}
	}
}
