package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// stored is the number of customers and relations the mock holds in the
// businesses the soak wrote to, from the /__admin listings.
func stored(url string, workers int) (customers, relations int64, err error) {
	var bizs []string
	for i := range businesses {
		bizs = append(bizs, fmt.Sprintf("soak-%d", i))
	}
	for i := range workers {
		bizs = append(bizs, fmt.Sprintf("churn-%d", i))
	}
	for _, b := range bizs {
		c, err := total(url, b, "customers")
		if err != nil {
			return 0, 0, err
		}
		r, err := total(url, b, "relations")
		if err != nil {
			return 0, 0, err
		}
		customers, relations = customers+c, relations+r
	}
	return customers, relations, nil
}

func total(url, business, what string) (int64, error) {
	req, _ := http.NewRequest(http.MethodGet, url+"/__admin/"+what+"?limit=1", nil)
	req.SetBasicAuth(business, "pw")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var page struct {
		Total int64 `json:"total"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /__admin/%s of %s: %s", what, business, resp.Status)
	}
	return page.Total, json.NewDecoder(resp.Body).Decode(&page)
}

// write prints the tally and the figures.
func (res *result) write(w io.Writer) {
	t := res.tally.totals()
	fmt.Fprintf(w, "\nanswers by kind (%s):\n", res.elapsed.Round(time.Second))
	res.tally.write(w, "5xx", "503", "err")
	peak := int64(0)
	if len(res.rss) > 0 {
		peak = slices.Max(res.rss)
	}
	end := res.endKB()
	crashes := 0
	if res.crashed {
		crashes = 1
	}
	fmt.Fprintf(w, "\n| figure | value |\n|---|---|\n")
	fmt.Fprintf(w, "| load average at the start / end | %s / %s |\n", res.loadStart, loadavg())
	fmt.Fprintf(w, "| requests | %d (%.0f/s) |\n", res.tally.requests(), float64(res.tally.requests())/res.elapsed.Seconds())
	fmt.Fprintf(w, "| 5xx other than 503 (goal 0) | %d |\n", t["5xx"])
	fmt.Fprintf(w, "| 503 (caps under overload) | %d |\n", t["503"])
	fmt.Fprintf(w, "| no answer (err) | %d |\n", t["err"])
	fmt.Fprintf(w, "| crashes (goal 0) | %d %v |\n", crashes, res.exit)
	fmt.Fprintf(w, "| RSS at start | %.1f MB |\n", mb(res.startKB))
	fmt.Fprintf(w, "| peak RSS (1 s samples; VmHWM) | %.1f MB; %.1f MB |\n", mb(peak), mb(res.hwmKB))
	fmt.Fprintf(w, "| RSS at the end | %.1f MB |\n", mb(end))
	fmt.Fprintf(w, "| customers created (2xx) / stored at the end | %d / %d (and %d relations) |\n", res.created, res.stored, res.relations)
	if res.stored > 0 {
		fmt.Fprintf(w, "| RSS at the end per stored customer (growth from start) | %.0f B (%.0f B) |\n",
			float64(end*1024)/float64(res.stored), float64((end-res.startKB)*1024)/float64(res.stored))
	}
}

func (res *result) endKB() int64 {
	for i := len(res.rss) - 1; i >= 0; i-- {
		if res.rss[i] >= 0 {
			return res.rss[i]
		}
	}
	return -1
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

// csv is the RSS samples, "second,kB" a line.
func (res *result) csv() []byte {
	var b bytes.Buffer
	b.WriteString("second,rss_kb\n")
	for i, kb := range res.rss {
		fmt.Fprintf(&b, "%d,%d\n", i+1, kb)
	}
	return b.Bytes()
}

// loadavg is the first three fields of /proc/loadavg, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
