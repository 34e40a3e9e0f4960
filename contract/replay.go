package contract

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/words"
)

// ReplayResult is what a replay found for one failed check of a report.
type ReplayResult struct {
	ID string `json:"id"`
	// StillFails: every exchange a failure of the check was about got the
	// same answer as in the report (the same status, and the same body
	// once the run prefix, uuids and times are set aside).
	StillFails bool `json:"still_fails"`
	// Replayed is false when none of the exchanges a failure was about could
	// be sent again; Reason then says why.
	Replayed bool   `json:"replayed"`
	Reason   string `json:"reason,omitempty"`
	// Sent counts the requests sent again; Differences has one line per
	// exchange a failure was about whose answer changed.
	Sent        int      `json:"sent"`
	Differences []string `json:"differences,omitempty"`
}

// ReplayReport is the outcome of Replay.
type ReplayReport struct {
	Target    string         `json:"target"`
	RunPrefix string         `json:"run_prefix"`
	Checks    []ReplayResult `json:"checks"`
	// Rerun is the command that runs a check again, with the report's seed
	// and cases, "%s" standing for the check's ID.
	Rerun string `json:"rerun"`
}

// StillFailing returns the IDs of the checks whose failure the replay saw
// again.
func (r ReplayReport) StillFailing() []string {
	var ids []string
	for _, c := range r.Checks {
		if c.StillFails {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Replay sends the recorded requests of rep's failed checks (those cfg.Run
// and cfg.Skip pick) to cfg.Target again, in the order they were sent, with
// cfg's credentials in place of the redacted ones and a new run prefix in
// place of the report's (so a stateful server sees new records, as the
// failed run did), and says for each check whether the target still answers
// as it did when the check failed. A request whose body the report cut
// (beyond MaxReportBody) is not sent. At the end, as a run does, it disables
// every record the replay may have created. The error is not nil only when
// the replay could not start (a *ConfigError for a bad cfg or a report with
// no failed check to replay).
func Replay(ctx context.Context, cfg Config, rep Report) (ReplayReport, error) {
	r, err := newRunner(ctx, cfg)
	if err != nil {
		return ReplayReport{}, err
	}
	var failed []Result
	for _, c := range rep.Checks {
		if c.Status == Fail && (cfg.Run == nil || cfg.Run.MatchString(c.ID)) && (cfg.Skip == nil || !cfg.Skip.MatchString(c.ID)) {
			failed = append(failed, c)
		}
	}
	if len(failed) == 0 {
		return ReplayReport{}, configErrorf("the report has no failed check to replay (of %s, %d failed; --run and --skip pick among them)", words.Count(len(rep.Checks), "check"), rep.Count(Fail))
	}
	if rep.RunPrefix == "" {
		return ReplayReport{}, configErrorf("the report has no run prefix: it is not a JSON report of algoreg-kit contract")
	}
	if err := r.setup(ctx); err != nil {
		return ReplayReport{}, err
	}
	out := ReplayReport{Target: r.cfg.Target, RunPrefix: r.prefix,
		Rerun: fmt.Sprintf("algoreg-kit contract --target %s --seed %d --cases %d --run '^%%s$'", r.cfg.Target, rep.Seed, rep.Cases)}
	for _, c := range failed {
		out.Checks = append(out.Checks, r.replayCheck(ctx, c, rep.RunPrefix))
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	r.disableCreated(cctx)
	return out, nil
}

// replayCheck sends a failed check's exchanges again and compares the
// answers of those its failures were about.
func (r *runner) replayCheck(ctx context.Context, c Result, oldPrefix string) ReplayResult {
	res := ReplayResult{ID: c.ID}
	if len(c.Exchanges) == 0 {
		res.Reason = "the report keeps no exchange of it: its failure is about the whole run, not one request"
		return res
	}
	var notSent []string
	compared, same := 0, 0
	for i, e := range c.Exchanges {
		req, why := r.replayRequest(e, oldPrefix)
		if why != "" {
			if e.Failed {
				notSent = append(notSent, fmt.Sprintf("request %d (%s %s) %s", i+1, e.Method, pathOnly(urlPath(e.URL)), why))
			}
			continue
		}
		x := r.client.do(ctx, req, "replay/"+c.ID)
		res.Sent++
		if !e.Failed {
			continue
		}
		compared++
		if diff := differs(e, x, oldPrefix, r.prefix); diff != "" {
			res.Differences = append(res.Differences, fmt.Sprintf("request %d (%s %s): %s", i+1, e.Method, pathOnly(urlPath(e.URL)), diff))
			continue
		}
		same++
	}
	switch {
	case compared == 0 && len(notSent) > 0:
		res.Reason = "not replayed: " + strings.Join(notSent, "; ")
	case compared == 0:
		res.Reason = "the report marks none of its exchanges as the one a failure is about"
	default:
		res.Replayed = true
		res.StillFails = same == compared
	}
	return res
}

// urlPath returns the path and query of a recorded URL.
func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.RequestURI()
}

// replayRequest turns a recorded exchange into a request to send again, or
// says why it cannot be.
func (r *runner) replayRequest(e Exchange, oldPrefix string) (request, string) {
	if e.Truncated() {
		return request{}, fmt.Sprintf("not sent: the report keeps %d of its %d body bytes", len(e.RequestBody), e.RequestBodyBytes)
	}
	body := []byte(strings.ReplaceAll(e.RequestBody, oldPrefix, r.prefix))
	if placeholderRE.Match(body) {
		var missing []string
		body = placeholderRE.ReplaceAllFunc(body, func(ph []byte) []byte {
			v := r.credentialOf(string(ph))
			if v == "" {
				missing = append(missing, string(ph))
			}
			b, _ := json.Marshal(v)
			return b[1 : len(b)-1]
		})
		if len(missing) > 0 {
			return request{}, "not sent: it needs " + strings.Join(missing, " and ") + ", which the replay was not given"
		}
	}
	req := request{method: e.Method, path: strings.ReplaceAll(urlPath(e.URL), oldPrefix, r.prefix), contentType: e.RequestHeaders.Get("Content-Type"), header: extraHeaders(e.RequestHeaders)}
	if e.RequestBodyBytes > 0 {
		req.body = body
	}
	switch e.Auth {
	case authNoCreds:
		req.auth = authNone
	case authFixed:
		req.auth, req.rawAuth = authMadeUp, strings.ReplaceAll(e.RequestHeaders.Get("Authorization"), oldPrefix, r.prefix)
	case authSecond:
		if r.second == nil {
			return request{}, "not sent: it needs the second business; give the second user and its password"
		}
		req.creds = r.second
	}
	return req, ""
}

// extraHeaders are the headers of a recorded request that the client does
// not set itself (its credentials, Content-Type, Accept): those a check
// added, such as Content-Encoding; nil for none.
func extraHeaders(h http.Header) http.Header {
	var out http.Header
	for k, vs := range h {
		switch k {
		case "Authorization", "Content-Type", "Accept":
			continue
		}
		if out == nil {
			out = http.Header{}
		}
		out[k] = vs
	}
	return out
}

// credentialOf returns the value of a credentials placeholder in the
// replay's Config ("" when it has none).
func (r *runner) credentialOf(ph string) string {
	switch ph {
	case phUser:
		return r.cfg.User
	case phPassword:
		return r.cfg.Password
	case phSecondUser:
		return r.cfg.SecondUser
	case phSecondPass:
		return r.cfg.SecondPassword
	case phLockoutUser:
		return r.cfg.LockoutUser
	case phLockoutPass:
		return r.cfg.LockoutPassword
	}
	return ""
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
)

// differs says how x's answer differs from the recorded one ("" when it is
// the same): the status, then the body, each run prefix, uuid and time set
// aside, JSON compared as values.
func differs(e Exchange, x *exchange, oldPrefix, newPrefix string) string {
	now := "no answer (" + errString(x.Err) + ")"
	if x.Err == nil {
		now = fmt.Sprintf("%d", x.Status)
	}
	was := fmt.Sprintf("%d", e.Status)
	if e.Status == 0 {
		was = "no answer (" + e.Error + ")"
	}
	if was != now {
		return fmt.Sprintf("answered %s in the report, %s now", was, now)
	}
	if x.Err != nil {
		return ""
	}
	newBody := x.Body
	if e.ResponseBodyCut && len(newBody) > len(e.ResponseBody) {
		newBody = newBody[:len(e.ResponseBody)]
	}
	a, b := normalise(e.ResponseBody, oldPrefix), normalise(string(redactTokensIf(x, newBody)), newPrefix)
	if a == b {
		return ""
	}
	var va, vb any
	if json.Unmarshal([]byte(a), &va) == nil && json.Unmarshal([]byte(b), &vb) == nil {
		if ptr, was, now := firstDifference("", va, vb); ptr != "" || was != now {
			return fmt.Sprintf("the same status, another body: at %s, %s in the report, %s now", cmp.Or(ptr, "/"), was, now)
		}
	}
	return fmt.Sprintf("the same status, another body: %s in the report, %s now", shorten([]byte(a)), shorten([]byte(b)))
}

// firstDifference returns the JSON pointer of the first place where two
// JSON values differ, and both values there (shortened).
func firstDifference(at string, a, b any) (ptr, was, now string) {
	show := func(v any) string {
		out, _ := json.Marshal(v)
		if len(out) > 200 {
			return string(out[:200]) + "…"
		}
		return string(out)
	}
	switch a := a.(type) {
	case map[string]any:
		if b, ok := b.(map[string]any); ok {
			keys := slices.Sorted(maps.Keys(a))
			for k := range b {
				if _, ok := a[k]; !ok {
					keys = append(keys, k)
				}
			}
			for _, k := range keys {
				if show(a[k]) != show(b[k]) {
					return firstDifference(at+"/"+k, a[k], b[k])
				}
			}
			return "", "", ""
		}
	case []any:
		if b, ok := b.([]any); ok && len(a) == len(b) {
			for i := range a {
				if show(a[i]) != show(b[i]) {
					return firstDifference(fmt.Sprintf("%s/%d", at, i), a[i], b[i])
				}
			}
			return "", "", ""
		}
	}
	return at, show(a), show(b)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// redactTokensIf hides the tokens of a token response, as the report did.
func redactTokensIf(x *exchange, body []byte) []byte {
	if x.Path == tokenPath {
		return redactTokens(body)
	}
	return body
}

// normalise sets a body's run prefix, uuids and times aside, and writes
// JSON in one form.
func normalise(body, prefix string) string {
	body = strings.ReplaceAll(body, prefix, "<prefix>")
	body = uuidRE.ReplaceAllString(body, "<uuid>")
	body = timeRE.ReplaceAllString(body, "<time>")
	var v any
	if json.Unmarshal([]byte(body), &v) == nil {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(v) == nil {
			return strings.TrimSpace(b.String())
		}
	}
	return body
}

// WriteText writes one line per check (STILL FAILS, CHANGED with the
// differences and the command that runs the check again, or NOT REPLAYED
// with the reason), then a tally.
func (r ReplayReport) WriteText(w io.Writer) error {
	var b strings.Builder
	still, changed, not := 0, 0, 0
	for _, c := range r.Checks {
		switch {
		case !c.Replayed:
			not++
			fmt.Fprintf(&b, "NOT REPLAYED  %s: %s\n", c.ID, c.Reason)
		case c.StillFails:
			still++
			fmt.Fprintf(&b, "STILL FAILS   %s: the target answers the requests its failures were about as in the report (%s sent again)\n", c.ID, words.Count(c.Sent, "request"))
		default:
			changed++
			fmt.Fprintf(&b, "CHANGED       %s: the target answers differently now; run the check again to see whether it passes: %s\n", c.ID, fmt.Sprintf(r.Rerun, c.ID))
			for _, d := range c.Differences {
				fmt.Fprintf(&b, "              %s\n", d)
			}
		}
	}
	fmt.Fprintf(&b, "\nreplayed %s against %s (run prefix %s): %d still fail, %d answer differently, %d not replayed\n",
		words.Count(len(r.Checks), "failed check"), r.Target, r.RunPrefix, still, changed, not)
	_, err := io.WriteString(w, b.String())
	return err
}
