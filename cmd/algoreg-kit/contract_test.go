package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

func TestContractInProcessMock(t *testing.T) {
	dir := t.TempDir()
	junit, jsonFile := filepath.Join(dir, "contract.xml"), filepath.Join(dir, "contract.json")
	stdout, stderr, err := runSubcommand(t, nil, "contract", "--cases", "5", "--seed", "7", "--skip", "^transport/oversized-", "--junit", junit, "--json", jsonFile)
	if err != nil {
		t.Fatalf("got error %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if !strings.Contains(stderr, "no --target: checking the mock, started in-process at http://127.0.0.1:") {
		t.Errorf("got stderr %q, want the in-process mock's address", stderr)
	}
	for _, want := range []string{"PASS  behaviour/create-lists-added", "PASS  negative/code/date_of_birth_invalid", "PASS  behaviour/tenant-isolation", " 0 failed, 0 skipped", "seed 7 (replay with --seed 7)", "(the algoreg-kit mock, version "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	var rep contract.Report
	b, _ := os.ReadFile(jsonFile)
	want := 0
	for _, c := range contract.Checks() {
		if !strings.HasPrefix(c.ID, "transport/oversized-") {
			want++
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil || !rep.OK() || len(rep.Checks) != want {
		t.Errorf("JSON report: error %v, ok %v, %d checks, want %d", err, rep.OK(), len(rep.Checks), want)
	}
	var suites struct {
		Tests int `xml:"tests,attr"`
	}
	b, _ = os.ReadFile(junit)
	if err := xml.Unmarshal(b, &suites); err != nil || suites.Tests != len(rep.Checks) {
		t.Errorf("JUnit report: error %v, got %d tests, want %d", err, suites.Tests, len(rep.Checks))
	}
}

// brokenMock answers every partial batch as ok.
func brokenMock(tb testing.TB) *httptest.Server {
	tb.Helper()
	mock := mocktest.NewMock(tb, mockserver.Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if r.URL.Path == "/api/v1/customers/save" {
			body = bytes.Replace(body, []byte(`"status":"partial"`), []byte(`"status":"ok"`), 1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

func TestContractFailsAgainstABrokenServer(t *testing.T) {
	srv := brokenMock(t)
	env := map[string]string{"ALGOREG_USER": "demo", "ALGOREG_PASSWORD": "pw-never-shown-42"}
	stdout, stderr, err := runSubcommand(t, env, "contract", "--target", srv.URL, "--run", "^behaviour/(mixed-batch-partial|all-valid-ok)$", "--progress")
	if err == nil {
		t.Fatalf("got no error against a broken server; stdout:\n%s", stdout)
	}
	if got, want := err.Error(), "contract: 1 of 2 checks failed: behaviour/mixed-batch-partial"; got != want {
		t.Errorf("got error %q, want %q", got, want)
	}
	for _, want := range []string{"FAIL  behaviour/mixed-batch-partial: status partial", "PASS  behaviour/all-valid-ok", "expected:", "request:", "POST /api/v1/customers/save", "Authorization: Bearer <redacted>", "response:", "200 OK", `"status":"ok"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "FAIL  behaviour/mixed-batch-partial") {
		t.Errorf("--progress: stderr lacks the failed check's line:\n%s", stderr)
	}
	if strings.Contains(stdout+stderr, "pw-never-shown-42") {
		t.Errorf("the password was printed")
	}
}

// TestContractWithTokenFromEnv: the token and the target come from the
// environment, under the old name of the previous release too, which says so.
func TestContractWithTokenFromEnv(t *testing.T) {
	ts := mocktest.New(t, mocktest.WithConfig(mockserver.Config{Users: []mockserver.User{{Username: "api", Password: "s3cret-pw", Business: "acme"}}}))
	tok := ts.Token(t, "api", "s3cret-pw")
	for _, name := range []string{"ALGOREG_TOKEN", "ALGOREG_CONTRACT_TOKEN"} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, err := runSubcommand(t, map[string]string{name: tok, "ALGOREG_CONTRACT_TARGET": ts.URL}, "contract", "--run", "^(behaviour/create-lists-added|negative/auth/token-grant)$")
			if err != nil {
				t.Fatalf("got error %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
			}
			if !strings.Contains(stdout, "PASS  behaviour/create-lists-added") || !strings.Contains(stdout, "SKIP  negative/auth/token-grant: needs a user and password") {
				t.Errorf("got stdout:\n%s", stdout)
			}
			if strings.Contains(stdout+stderr, tok) {
				t.Errorf("the token was printed")
			}
			deprecated := strings.Contains(stderr, "ALGOREG_CONTRACT_TOKEN is deprecated") && strings.Contains(stderr, "set ALGOREG_TOKEN instead")
			if want := name != "ALGOREG_TOKEN"; deprecated != want {
				t.Errorf("got the deprecation line %v, want %v; stderr:\n%s", deprecated, want, stderr)
			}
		})
	}
}

// TestContractTargetRules: the rule flags reach the suite, so a target with
// another kyc range and relation-type table passes.
func TestContractTargetRules(t *testing.T) {
	rc := rules.DefaultConfig()
	rc.KYCMin, rc.KYCMax = 1, 5
	rc.RelationTypes = []rules.RelationType{{Value: 1, Name: "director"}, {Value: 2, Name: "shareholder"}, {Value: 42, Name: "auditor"}}
	ts := mocktest.New(t, mocktest.WithConfig(mockserver.Config{Rules: &rc}))
	stdout, stderr, err := runSubcommand(t, map[string]string{"ALGOREG_USER": "demo", "ALGOREG_PASSWORD": "demo"}, "contract",
		"--target", ts.URL, "--kyc-min", "1", "--kyc-max", "5", "--relation-types", "1=director,2=shareholder,42=auditor",
		"--cases", "20", "--run", "^(negative/code/kyc_level_out_of_range|negative/code/relation_type_invalid|behaviour/relation|generative/)")
	if err != nil {
		t.Fatalf("got error %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "PASS  negative/code/kyc_level_out_of_range") || !strings.Contains(stdout, "PASS  generative/single-field-mutations") {
		t.Errorf("got stdout:\n%s", stdout)
	}
}

func TestContractList(t *testing.T) {
	stdout, _, err := runSubcommand(t, nil, "contract", "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range contract.Checks() {
		if !strings.Contains(stdout, c.ID+" ") {
			t.Errorf("--list lacks %s", c.ID)
		}
	}
	if !strings.Contains(stdout, "behaviour/delta-update-keeps-fields  writes,mock") && !strings.Contains(stdout, "mock,writes") {
		t.Errorf("--list does not say what a check needs:\n%s", stdout)
	}
	stdout, _, err = runSubcommand(t, nil, "contract", "--list", "--run", "^negative/code/", "--skip", "relation")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(stdout, "\nnegative/code/"), 20; got != want || strings.Contains(stdout, "relation_") {
		t.Errorf("--list --run --skip: got %d checks, want %d without relation codes:\n%s", got, want, stdout)
	}
}

func TestContractUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantErr  string // substring; "" for an exit status 2 from the flag package
		wantCode int
	}{
		{"bad regexp", nil, []string{"--run", "("}, "--run \"(\" is not a regular expression", 0},
		{"target without credentials", nil, []string{"--target", "http://127.0.0.1:1"}, "credentials: give a user and a password", 0},
		{"zero cases", nil, []string{"--cases", "0"}, "--cases 0", 0},
		{"bad relation types", nil, []string{"--relation-types", "1,x"}, "--relation-types: item 2", 0},
		{"kyc range upside down", nil, []string{"--kyc-min", "3", "--kyc-max", "1"}, "the target's rules: kyc range", 0},
		{"run matches nothing", nil, []string{"--run", "nomatch"}, `the run pattern "nomatch" matches no check; the closest are `, 2},
		{"skip matches nothing", nil, []string{"--skip", "^negative/cod/"}, "the closest are negative/code/", 2},
		{"list, run matches nothing", nil, []string{"--list", "--run", "behavior"}, "the closest are behaviour/", 2},
		{"negative parallel", nil, []string{"--parallel", "-1"}, "--parallel -1", 2},
		{"unknown flag", nil, []string{"--nope"}, "", 2},
		{"stray argument", nil, []string{"extra"}, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runSubcommand(t, tt.env, append([]string{"contract"}, tt.args...)...)
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.wantCode != 0 {
				if code, _ := exitStatus(err); code != tt.wantCode {
					t.Errorf("got %v, want exit status %d", err, tt.wantCode)
				}
				if tt.wantErr == "" {
					return
				}
			}
			if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got error %q, want one line containing %q", err, tt.wantErr)
			}
		})
	}
	if stdout, _, err := runSubcommand(t, nil, "contract", "-h"); err != nil || !strings.Contains(stdout, "Examples:") {
		t.Errorf("-h: got error %v, stdout %q", err, stdout)
	}
}

// TestContractMistakesBeforeTheFirstRequest: report paths that cannot be
// written and a target whose path repeats the API's stop the run with exit
// status 2 before it sends anything, and leave no report file behind.
func TestContractMistakesBeforeTheFirstRequest(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	creds := map[string]string{"ALGOREG_USER": "u", "ALGOREG_PASSWORD": "p"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"junit in a missing folder", []string{"--target", srv.URL, "--junit", filepath.Join(dir, "missing", "c.xml")}, "--junit " + filepath.Join(dir, "missing", "c.xml") + " cannot be written (no such file or directory)"},
		{"json is a folder", []string{"--target", srv.URL, "--junit", filepath.Join(dir, "ok.xml"), "--json", dir}, "--json " + dir + " cannot be written (is a directory)"},
		{"target ends in /api/v1", []string{"--target", srv.URL + "/api/v1", "--junit", filepath.Join(dir, "ok.xml")}, "already holds the API's /api/v1, which the suite adds to every path itself (it would call " + srv.URL + "/api/v1/api/v1/token); give the base URL, " + srv.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runSubcommand(t, creds, append([]string{"contract"}, tt.args...)...)
			if code, _ := exitStatus(err); code != 2 || !strings.Contains(fmt.Sprint(err), tt.wantErr) {
				t.Errorf("got exit status %d, error %v; want 2 and %q", code, err, tt.wantErr)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the target got %d requests, want none", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a run that did not start left its report file (stat: %v)", err)
	}
}

var (
	_ = errors.New
	_ = io.EOF
	_ = openapi.ProblemContentType
)

// TestContractInProcessMockTakesTheRuleFlags: without --target, the rule
// flags configure the in-process mock as well as the suite: a kyc range of
// 4-9 and a review-group list of the user's reach both.
func TestContractInProcessMockTakesTheRuleFlags(t *testing.T) {
	cfg, err := parseContract([]string{"--kyc-min", "4", "--kyc-max", "9", "--review-groups", "vip"}, getenvOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfg.Rules.resolve()
	if err != nil {
		t.Fatal(err)
	}
	suite := cfg.Suite
	suite.Rules = &rc
	shutdown, err := startInProcessMock(&suite)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown()
	if r := suite.Rules; r.KYCMin != 4 || r.KYCMax != 9 || strings.Join(r.ReviewGroups, ",") != "vip" || len(r.CustomFields) == 0 {
		t.Errorf("the suite's rules: got %+v, want kyc 4-9, review groups vip, fixtures' custom fields", *r)
	}
	status, m := mockPost(t, suite.Target+"/api/v1/customers/save", suite.User, suite.Password,
		`{"verify_input":true,"customers":[{"external_id":"a","account_type":"N","last_name":"A","kyc_level":9,"review_groups":"vip"},{"external_id":"b","account_type":"N","last_name":"B","kyc_level":2}]}`)
	d, _ := json.Marshal(m["detail"])
	if status != 200 || m["status"] != "partial" || strings.Count(string(d), "kyc_level_out_of_range") != 1 || strings.Contains(string(d), "review_group_unknown") {
		t.Errorf("the mock's answer: %d %v; want record b alone out of the kyc range", status, m)
	}
	stdout, stderr, err := runSubcommand(t, nil, "contract", "--kyc-min", "4", "--kyc-max", "9", "--max-body", "1MiB", "--cases", "10",
		"--run", "^(negative/code/kyc_level_out_of_range|generative/valid-batches|transport/oversized-body-413)$")
	if err != nil || !strings.Contains(stdout, " 0 failed, 0 skipped") {
		t.Fatalf("got error %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
}

// TestContractUnderSmallLimits: with a batch limit below the risk-scan limit
// and a small body limit, the suite skips the risk-scan check it cannot make
// and its clean-up splits its requests, so every record it created is
// disabled.
func TestContractUnderSmallLimits(t *testing.T) {
	for _, limit := range [][]string{{"--max-batch", "50"}, {"--max-body", "32KiB"}} {
		t.Run(strings.Join(limit, " "), func(t *testing.T) {
			args := append([]string{"--cases", "5", "--run", "^(behaviour/risk-scan-forced|behaviour/create-lists-added|generative/valid-batches|safety/cleanup-disables-created)$"}, limit...)
			stdout, stderr, err := runSubcommand(t, nil, append([]string{"contract"}, args...)...)
			if err != nil {
				t.Fatalf("got error %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
			}
			if !strings.Contains(stdout, "SKIP  behaviour/risk-scan-forced: ") || !strings.Contains(stdout, "PASS  safety/cleanup-disables-created") {
				t.Errorf("got stdout:\n%s", stdout)
			}
			m := regexp.MustCompile(`(\d+) customers created, (\d+) disabled at the end`).FindStringSubmatch(stdout)
			if m == nil || m[1] == "0" || m[1] != m[2] {
				t.Errorf("want every created customer disabled; stdout:\n%s", stdout)
			}
		})
	}
}

// TestDocumentedCommands keeps the documented contract commands true: every
// `algoreg-kit contract …` line of the READMEs, the CI examples in docs/ci/
// and the command's own usage parses with the command's flag parser (so a
// renamed flag or a --run pattern that matches no check fails here), the CI
// files are YAML whose jobs publish the JUnit file their command writes, and
// the README's go install line names this module's command.
func TestDocumentedCommands(t *testing.T) {
	files := []string{"../../README.md", "../../contract/README.md", "../../docs/ci/README.md", "../../docs/ci/github-actions.yml", "../../docs/ci/gitlab-ci.yml"}
	texts := map[string]string{"contractUsage": contractUsage}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(b)
	}
	n := 0
	for name, text := range texts {
		for _, args := range contractCommands(strings.HasSuffix(name, ".md"), text) {
			n++
			if _, err := parseContract(args, getenvOf(nil)); err != nil {
				t.Errorf("%s: algoreg-kit contract %s: %v", name, strings.Join(args, " "), err)
			}
		}
	}
	t.Logf("%d documented contract commands parsed", n)
	if n < 10 {
		t.Errorf("found %d documented contract commands, want at least 10 (is the extraction broken?)", n)
	}

	mod, _ := os.ReadFile("../../go.mod")
	module := strings.Fields(strings.SplitN(string(mod), "\n", 2)[0])[1]
	if want := "go install " + module + "/cmd/algoreg-kit@latest"; !strings.Contains(texts["../../README.md"], want) {
		t.Errorf("README.md lacks %q", want)
	}

	junitOf := func(run string) string {
		args := shellFields(run)
		for i, a := range args {
			if a == "--junit" && i+1 < len(args) {
				return args[i+1]
			}
		}
		return ""
	}
	var gh struct {
		Jobs map[string]struct {
			Steps []struct {
				Run  string            `yaml:"run"`
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(texts["../../docs/ci/github-actions.yml"]), &gh); err != nil {
		t.Fatalf("github-actions.yml: %v", err)
	}
	if len(gh.Jobs) != 2 {
		t.Errorf("github-actions.yml: got %d jobs, want 2 (mock and sandbox)", len(gh.Jobs))
	}
	for name, job := range gh.Jobs {
		written, published := "", ""
		for _, st := range job.Steps {
			if j := junitOf(st.Run); j != "" {
				written = j
			}
			if strings.HasPrefix(st.Uses, "mikepenz/action-junit-report") {
				published = st.With["report_paths"]
			}
		}
		if written == "" || written != published {
			t.Errorf("github-actions.yml job %s: writes JUnit to %q, publishes %q", name, written, published)
		}
	}
	var gl map[string]struct {
		Script    []string `yaml:"script"`
		Artifacts struct {
			Reports struct {
				JUnit string `yaml:"junit"`
			} `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	if err := yaml.Unmarshal([]byte(texts["../../docs/ci/gitlab-ci.yml"]), &gl); err != nil {
		t.Fatalf("gitlab-ci.yml: %v", err)
	}
	jobs := 0
	for name, job := range gl {
		if strings.HasPrefix(name, ".") {
			continue
		}
		jobs++
		if j := junitOf(strings.Join(job.Script, " ")); j == "" || j != job.Artifacts.Reports.JUnit {
			t.Errorf("gitlab-ci.yml job %s: writes JUnit to %q, publishes %q", name, j, job.Artifacts.Reports.JUnit)
		}
	}
	if jobs != 2 {
		t.Errorf("gitlab-ci.yml: got %d jobs, want 2 (mock and sandbox)", jobs)
	}
}

// contractCommands returns the arguments of every `algoreg-kit contract`
// command in text: in Markdown, the lines of fenced blocks and the inline
// code spans of the prose (which may wrap); elsewhere every line. Lines
// continued with a backslash are joined; what follows a shell comment, a
// pipe or && is left out, and so is "[flags]".
func contractCommands(markdown bool, text string) [][]string {
	var lines []string
	if markdown {
		for i, part := range strings.Split(text, "```") {
			if i%2 == 1 { // a fenced block
				lines = append(lines, strings.Split(strings.ReplaceAll(part, "\\\n", " "), "\n")...)
				continue
			}
			for _, m := range regexp.MustCompile("`([^`]*)`").FindAllStringSubmatch(strings.ReplaceAll(part, "\n", " "), -1) {
				lines = append(lines, m[1])
			}
		}
	} else {
		lines = strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n")
	}
	var out [][]string
	for _, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		_, rest, ok := strings.Cut(line, "algoreg-kit contract")
		if !ok || (rest != "" && rest[0] != ' ') {
			continue
		}
		var args []string
		for _, f := range shellFields(rest) {
			if f == "#" || f == "|" || f == "&&" || strings.HasPrefix(f, "[") {
				break
			}
			args = append(args, f)
		}
		out = append(out, args)
	}
	return out
}

// shellFields splits s as a shell does words, with single and double quotes.
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// TestContractReplay: the JSON report of a run against a broken server keeps
// the failing check's exchanges whole, with a curl command and no password;
// --replay sends them again: against the same broken server the failure is
// still there (exit status 1), against a sound mock the answers changed
// (exit status 0), and a --run that picks no failed check is a usage error.
func TestContractReplay(t *testing.T) {
	broken := brokenMock(t)
	env := map[string]string{"ALGOREG_USER": "demo", "ALGOREG_PASSWORD": "pw-never-shown-42"}
	report := filepath.Join(t.TempDir(), "report.json")
	_, _, err := runSubcommand(t, env, "contract", "--target", broken.URL, "--run", "^behaviour/(mixed-batch-partial|all-valid-ok)$", "--json", report)
	if err == nil {
		t.Fatal("got no error against a broken server")
	}
	b, _ := os.ReadFile(report)
	if strings.Contains(string(b), "pw-never-shown-42") {
		t.Errorf("the JSON report holds the password")
	}
	var rep contract.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var failed *contract.Result
	for i := range rep.Checks {
		if rep.Checks[i].Status == contract.Fail {
			failed = &rep.Checks[i]
		}
	}
	if failed == nil || failed.ID != "behaviour/mixed-batch-partial" || len(failed.Exchanges) == 0 {
		t.Fatalf("want the failed mixed-batch-partial with its exchanges; got %+v", failed)
	}
	x := failed.Exchanges[len(failed.Exchanges)-1]
	if !x.Failed || x.Status != 200 || x.RequestBodyBytes != len(x.RequestBody) || !strings.Contains(x.ResponseBody, `"status":"ok"`) ||
		!strings.Contains(x.Curl, `-H 'Authorization: Bearer '"${ALGOREG_TOKEN}"`) || x.RequestHeaders.Get("Authorization") != "Bearer <redacted>" {
		t.Errorf("the failing exchange: %+v", x)
	}

	stdout, _, err := runSubcommand(t, env, "contract", "--target", broken.URL, "--replay", report)
	if code, _ := exitStatus(err); code != 1 || !strings.Contains(stdout, "STILL FAILS   behaviour/mixed-batch-partial: the target answers the requests its failures were about as in the report") {
		t.Errorf("replay against the broken server: exit status %d (%v), stdout:\n%s", code, err, stdout)
	}
	t.Logf("replay against the broken server:\n%s", stdout)
	sound := mocktest.New(t)
	stdout, _, err = runSubcommand(t, env, "contract", "--target", sound.URL, "--replay", report)
	t.Logf("replay against a sound mock:\n%s", stdout)
	if err != nil || !strings.Contains(stdout, "CHANGED       behaviour/mixed-batch-partial: the target answers differently now") ||
		!strings.Contains(stdout, "--seed "+fmt.Sprint(rep.Seed)) || !strings.Contains(stdout, `request 1 (POST /api/v1/customers/save): the same status, another body: at /status, "ok" in the report, "partial" now`) {
		t.Errorf("replay against a sound mock: %v, stdout:\n%s", err, stdout)
	}
	_, _, err = runSubcommand(t, env, "contract", "--target", sound.URL, "--replay", report, "--run", "all-valid-ok")
	if code, _ := exitStatus(err); code != 2 || !strings.Contains(fmt.Sprint(err), "no failed check to replay") {
		t.Errorf("replay of a check that passed: exit status %d, %v", code, err)
	}
}
