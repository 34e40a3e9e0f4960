package contract

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/words"
)

// Status is the outcome of one check.
type Status string

// The outcomes.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is the outcome of one check.
type Result struct {
	ID          string   `json:"id"`
	Category    Category `json:"category"`
	Description string   `json:"description"`
	Status      Status   `json:"status"`
	// Reason is the first failure's expectation, or why the check was skipped.
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Requests int           `json:"requests"`
	Failures []Failure     `json:"failures,omitempty"`
	// Exchanges are a failing check's requests and answers, whole (see
	// Exchange), in the order sent: its last maxReportExchanges, and those
	// of its failing case only for a generative check. ExchangesOmitted
	// counts the earlier ones left out.
	Exchanges        []Exchange `json:"exchanges,omitempty"`
	ExchangesOmitted int        `json:"exchanges_omitted,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Target string `json:"target"`
	// Mock: the target is the algoreg-kit mock, as its GET /__admin/config
	// answered (see ReadKit), of version KitVersion.
	Mock       bool          `json:"mock"`
	KitVersion string        `json:"kit_version,omitempty"`
	Seed       int64         `json:"seed"`
	Cases      int           `json:"cases"`
	RunPrefix  string        `json:"run_prefix"`
	VerifyOnly bool          `json:"verify_only"`
	Started    time.Time     `json:"started"`
	Duration   time.Duration `json:"duration_ns"`
	// Requests is how many requests the run sent; Created how many customers
	// the target listed as added; Disabled how many customers the clean-up
	// disabled.
	Requests int      `json:"requests"`
	Created  int      `json:"created"`
	Disabled int      `json:"disabled"`
	Checks   []Result `json:"checks"`
	// Causes are the reasons behind many failures at once (see Diagnose),
	// the summary's first lines.
	Causes []Cause `json:"causes,omitempty"`
}

// Count returns how many checks have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// OK reports whether no check failed.
func (r Report) OK() bool { return r.Count(Fail) == 0 }

// Failed returns the IDs of the failed checks, in report order.
func (r Report) Failed() []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// WriteText writes the summary for people: one line per check (pass, fail or
// skip, with the reason), then for each failure the request, the response and
// what was expected, then a tally.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	r.writeCauses(&b)
	for _, c := range r.Checks {
		writeResultLine(&b, c, true)
	}
	what := "not the algoreg-kit mock: its GET /__admin/config did not answer as the kit's"
	switch {
	case r.Mock && r.KitVersion != "":
		what = "the algoreg-kit mock, version " + r.KitVersion
	case r.Mock:
		what = "the algoreg-kit mock"
	}
	fmt.Fprintf(&b, "\n%s: %d passed, %d failed, %d skipped in %s against %s (%s)\n",
		words.Count(len(r.Checks), "check"), r.Count(Pass), r.Count(Fail), r.Count(Skip), words.Took(r.Duration), r.Target, what)
	mode := ""
	if r.VerifyOnly {
		mode = ", verify-only"
	}
	// Only the mock's added lists are known to be true: a stub's are made up.
	created := words.Count(r.Created, "customer") + " created"
	if !r.Mock {
		created = words.Count(r.Created, "customer") + " listed as added"
	}
	fmt.Fprintf(&b, "seed %d (replay with --seed %d), %s, run prefix %s%s: %s, %s, %d disabled at the end\n",
		r.Seed, r.Seed, words.Count(r.Cases, "case"), r.RunPrefix, mode, words.Count(r.Requests, "request"), created, r.Disabled)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCauses writes the causes of many failures, one line each, then a
// blank line; nothing without causes.
func (r Report) writeCauses(w io.Writer) {
	for _, c := range r.Causes {
		fmt.Fprintf(w, "CAUSE of %s: %s\n", words.Count(len(c.Checks), "failed check"), c.Cause)
	}
	if len(r.Causes) > 0 {
		fmt.Fprintln(w)
	}
}

// writeResultLine writes "PASS id (duration)" or "FAIL id: reason", and with
// detail the failures' exchanges.
func writeResultLine(w io.Writer, c Result, detail bool) {
	d := words.Took(c.Duration)
	switch c.Status {
	case Pass:
		fmt.Fprintf(w, "PASS  %s (%s)\n", c.ID, d)
	case Skip:
		fmt.Fprintf(w, "SKIP  %s: %s\n", c.ID, c.Reason)
	default:
		fmt.Fprintf(w, "FAIL  %s: %s (%s)\n", c.ID, oneLine(c.Reason), d)
		if !detail {
			return
		}
		for i, f := range c.Failures {
			if i == 5 {
				fmt.Fprintf(w, "      … and %d more failures (see --json)\n", len(c.Failures)-i)
				break
			}
			fmt.Fprintf(w, "      expected: %s\n", indent(f.Expected))
			if f.Request != "" {
				fmt.Fprintf(w, "      request:\n        %s\n", indent(f.Request))
				fmt.Fprintf(w, "      response:\n        %s\n", indent(f.Response))
			}
		}
	}
}

// failureSentence says in one sentence what a failed check expected:
// "behaviour/mixed-batch-partial failed: it expected status partial for 3
// valid and 3 invalid customers, got "ok"; 2 more expectations failed."
func failureSentence(c Result) string {
	first := c.Reason
	if len(c.Failures) > 0 {
		first = c.Failures[0].Expected
	}
	first = strings.TrimRight(oneLine(first), ". ")
	s := fmt.Sprintf("%s failed: it expected %s", c.ID, first)
	switch n := len(c.Failures) - 1; {
	case n == 1:
		s += "; 1 more expectation failed"
	case n > 1:
		s += fmt.Sprintf("; %d more expectations failed", n)
	}
	return s + "."
}

// curlLines lists the curl command of each of a failed check's exchanges,
// for JUnit's system-out.
func curlLines(c Result) string {
	if len(c.Exchanges) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The requests of %s, to send again from a shell (set ALGOREG_TOKEN to a token of the user, or ALGOREG_USER and ALGOREG_PASSWORD for Basic):\n", c.ID)
	if c.ExchangesOmitted > 0 {
		fmt.Fprintf(&b, "# %d earlier requests left out\n", c.ExchangesOmitted)
	}
	for i, e := range c.Exchanges {
		mark := ""
		if e.Failed {
			mark = " (a failure is about this one)"
		}
		fmt.Fprintf(&b, "# %d. %s %s → %s%s\n%s\n", i+1, e.Method, e.URL, answered(e), mark, e.Curl)
	}
	return b.String()
}

// answered says in a few words what an exchange's answer was.
func answered(e Exchange) string {
	if e.Status == 0 {
		return "no answer: " + e.Error
	}
	return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }

// WriteJSON writes the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// The JUnit XML schema as CI systems read it (Jenkins, GitLab, GitHub
// actions' test reporters): one testsuite per category, one testcase per
// check.
type (
	junitSuites struct {
		XMLName xml.Name `xml:"testsuites"`
		Name    string   `xml:"name,attr"`
		junitTally
		Suites []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name string `xml:"name,attr"`
		junitTally
		Timestamp  string          `xml:"timestamp,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	// junitTally is what the testsuites element and each testsuite count.
	junitTally struct {
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitMessage `xml:"failure"`
		Skipped   *junitMessage `xml:"skipped"`
		SystemOut *junitText    `xml:"system-out"`
	}
	junitText struct {
		Text string `xml:",cdata"`
	}
	junitMessage struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",cdata"`
	}
)

// count counts one check of status st.
func (t *junitTally) count(st Status) {
	t.Tests++
	switch st {
	case Fail:
		t.Failures++
	case Skip:
		t.Skipped++
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML: one testsuite per category and
// one testcase per check, failures with their requests and responses.
func (r Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "algoreg-kit contract", junitTally: junitTally{Time: seconds(r.Duration)}}
	index := map[Category]int{}
	props := []junitProperty{
		{"target", r.Target}, {"seed", fmt.Sprint(r.Seed)}, {"cases", fmt.Sprint(r.Cases)},
		{"run_prefix", r.RunPrefix}, {"verify_only", fmt.Sprint(r.VerifyOnly)}, {"mock", fmt.Sprint(r.Mock)},
	}
	for _, c := range r.Checks {
		i, ok := index[c.Category]
		if !ok {
			i = len(out.Suites)
			index[c.Category] = i
			out.Suites = append(out.Suites, junitSuite{
				Name: "contract/" + string(c.Category), Timestamp: r.Started.Format("2006-01-02T15:04:05"), Properties: props,
			})
		}
		s := &out.Suites[i]
		tc := junitCase{Name: c.ID, Classname: "contract." + string(c.Category), Time: seconds(c.Duration)}
		switch c.Status {
		case Fail:
			var b strings.Builder
			writeResultLine(&b, c, true)
			tc.Failure = &junitMessage{Message: failureSentence(c), Type: "contract", Text: b.String()}
			if out := curlLines(c); out != "" {
				tc.SystemOut = &junitText{out}
			}
		case Skip:
			tc.Skipped = &junitMessage{Message: c.Reason}
		}
		s.count(c.Status)
		out.count(c.Status)
		s.Cases = append(s.Cases, tc)
	}
	var total = map[int]time.Duration{}
	for _, c := range r.Checks {
		total[index[c.Category]] += c.Duration
	}
	for i := range out.Suites {
		out.Suites[i].Time = seconds(total[i])
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
