package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// runCmd runs the program with args and env and returns its stdout, stderr,
// exit status and whether main would print the error.
func runCmd(tb testing.TB, env map[string]string, args ...string) (stdout, stderr string, code int, err error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"algoreg-kit"}, args...), getenvOf(env), strings.NewReader(""), &out, &errOut)
	code, _ = exitStatus(err)
	return out.String(), errOut.String(), code, err
}

// runSubcommand runs "algoreg-kit args…" (a subcommand and its flags) and
// returns its stdout, stderr and error.
func runSubcommand(tb testing.TB, env map[string]string, args ...string) (string, string, error) {
	tb.Helper()
	stdout, stderr, _, err := runCmd(tb, env, args...)
	return stdout, stderr, err
}

func TestRunHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "Commands:\n  mock "},
		{[]string{"--help"}, "Commands:\n  mock "},
		{[]string{"-h"}, "Commands:\n  mock "},
		{[]string{"help", "mock"}, "Usage: algoreg-kit mock [flags]"},
		{[]string{"mock", "--help"}, "Usage: algoreg-kit mock [flags]"},
		{[]string{"mock", "-h"}, "Usage: algoreg-kit mock [flags]"},
		{[]string{"help", "fixtures"}, "Usage: algoreg-kit fixtures [flags]"},
		{[]string{"fixtures", "--help"}, "ALGOREG_FIXTURES_<FLAG>"},
		{[]string{"help", "contract"}, "--user with ALGOREG_USER"},
		{[]string{"contract", "-help"}, "Usage: algoreg-kit contract [flags]"},
		{[]string{"help", "spec"}, "Usage: algoreg-kit spec"},
		{[]string{"help", "version"}, "Usage: algoreg-kit version"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code, err := runCmd(t, nil, tt.args...)
			if err != nil || code != 0 {
				t.Fatalf("got error %v (exit status %d), want none", err, code)
			}
			if !strings.Contains(stdout, tt.want) {
				t.Errorf("stdout lacks %q:\n%s", tt.want, stdout)
			}
			if stderr != "" {
				t.Errorf("got stderr %q, want nothing", stderr)
			}
		})
	}
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantCode int
	}{
		{"bad flag", []string{"fixtures", "--cont", "3"}, "fixtures: flag provided but not defined: -cont; run 'algoreg-kit fixtures --help'", 2},
		{"bad value", []string{"contract", "--cases", "many"}, `contract: invalid value "many" for flag -cases: parse error; run 'algoreg-kit contract --help'`, 2},
		{"unknown command", []string{"serve"}, `unknown command "serve"; run 'algoreg-kit help' for the list of commands`, 2},
		{"help for an unknown command", []string{"help", "serve"}, `unknown command "serve"; run 'algoreg-kit help' for the list of commands`, 2},
		{"flag of another command", []string{"spec", "--addr", ":0"}, "spec: flag provided but not defined: -addr; run 'algoreg-kit spec --help'", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code, err := runCmd(t, nil, tt.args...)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("got error %v, want %q", err, tt.wantErr)
			}
			if _, print := exitStatus(err); code != tt.wantCode || !print {
				t.Errorf("got exit status %d (printed %v), want %d, printed", code, print, tt.wantCode)
			}
			if stdout != "" || stderr != "" {
				t.Errorf("got stdout %q and stderr %q, want nothing but the error", stdout, stderr)
			}
		})
	}
	_, stderr, code, err := runCmd(t, nil)
	if _, print := exitStatus(err); code != 2 || print || !strings.Contains(stderr, "Commands:") {
		t.Errorf("no command: got exit status %d (error printed: %v), stderr %q; want 2 and the help on stderr", code, print, stderr)
	}
}

func TestRunVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		stdout, _, code, err := runCmd(t, nil, args...)
		if err != nil || code != 0 || !strings.HasPrefix(stdout, "algoreg-kit ") || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%s: got %q, error %v", args, stdout, err)
		}
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "algoreg-kit (devel), unknown revision, unknown Go version"},
		{"go run", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "algoreg-kit (devel), unknown revision, go1.26.8"},
		{"a release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "4649491c"}, {Key: "vcs.modified", Value: "false"}}}, true,
			"algoreg-kit v1.2.0, revision 4649491c, go1.26.8"},
		{"a working tree", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}, true,
			"algoreg-kit (devel), revision abc, modified, go1.26.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.bi, tt.ok); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRunDeprecatedEnv: an old variable works and says once, on stderr,
// which variable replaces it.
func TestRunDeprecatedEnv(t *testing.T) {
	stdout, stderr, code, err := runCmd(t, map[string]string{"ALGOREG_CONTRACT_USER": "u"}, "contract", "--list", "--run", "^schema/")
	if err != nil || code != 0 || !strings.Contains(stdout, "CHECK") {
		t.Fatalf("got error %v, stdout %q", err, stdout)
	}
	if want := "algoreg-kit: ALGOREG_CONTRACT_USER is deprecated and will stop working in the next release; set ALGOREG_USER instead\n"; stderr != want {
		t.Errorf("got stderr %q, want %q", stderr, want)
	}
	_, stderr, _, _ = runCmd(t, map[string]string{"ALGOREG_USER": "u"}, "contract", "--list")
	if stderr != "" {
		t.Errorf("new variable: got stderr %q, want nothing", stderr)
	}
}

func TestFixturesPostNeedsCredentials(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, stderr, code, err := runCmd(t, nil, "fixtures", "--post", srv.URL, "--count", "5")
	if err == nil || !strings.Contains(err.Error(), "--post needs credentials") || code != 2 {
		t.Errorf("got error %v (exit status %d), want the refusal, exit status 2", err, code)
	}
	if n := requests.Load(); n != 0 || stderr != "" {
		t.Errorf("got %d requests and stderr %q, want none", n, stderr)
	}
	// With credentials the server refuses, the run fails without a summary.
	_, stderr, code, err = runCmd(t, map[string]string{"ALGOREG_TOKEN": "t"}, "fixtures", "--post", srv.URL, "--count", "5", "--retries", "0")
	if err == nil || code != 1 {
		t.Fatalf("got error %v (exit status %d), want a failure", err, code)
	}
	if strings.Contains(stderr, "posted") || strings.Contains(stderr, "mismatches") {
		t.Errorf("a failed run printed a summary:\n%s", stderr)
	}
}

// TestFixturesPostFailureSaysWhatWasAnswered: a post that fails counts only
// the requests the server answered, and none when it answered none.
func TestFixturesPostFailureSaysWhatWasAnswered(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/__admin/config" { // not the kit
			http.NotFound(w, r)
			return
		}
		if requests.Add(1) > 1 {
			http.Error(w, `{"title":"no"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"added":[],"detail":[],"status":"ok","verify_input":false}`))
	}))
	defer srv.Close()
	creds := map[string]string{"ALGOREG_TOKEN": "t"}
	_, _, _, err := runCmd(t, creds, "fixtures", "--post", srv.URL, "--count", "3", "--batch-size", "1", "--concurrency", "1", "--retries", "0", "--invalid", "0")
	if err == nil || !strings.Contains(err.Error(), "(after 1 request answered)") {
		t.Errorf("got error %v, want one ending (after 1 request answered)", err)
	}
	srv.Close()
	_, _, _, err = runCmd(t, creds, "fixtures", "--post", srv.URL, "--count", "3", "--retries", "0")
	if err == nil || strings.Contains(err.Error(), "answered") {
		t.Errorf("got error %v, want one that counts no answered request", err)
	}
}

func TestMockAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"algoreg-kit", "mock", "--addr", ln.Addr().String()}, getenvOf(nil), nil, &stdout, &stderr)
	want := "mock: listen on " + ln.Addr().String() + ": the address is already in use (another mock?); pick another with --addr, e.g. --addr 127.0.0.1:0 for a free port"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}

	// A busy --pprof-addr fails before the banner: nothing says "serving".
	stdout.Reset()
	err = run(ctx, []string{"algoreg-kit", "mock", "--addr", "127.0.0.1:0", "--pprof-addr", ln.Addr().String()}, getenvOf(nil), nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "mock: --pprof-addr: listen on "+ln.Addr().String()+": the address is already in use") {
		t.Errorf("got %v, want the --pprof-addr hint", err)
	}
	if stdout.Len() > 0 {
		t.Errorf("printed before the error:\n%s", stdout.String())
	}
}

// The binary links no test framework: mockserver/mocktest, which imports
// testing and net/http/httptest, is for tests only.
func TestBinaryLinksNoTestPackages(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is needed on CI: %v", err)
		}
		t.Skipf("no go command: %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "testing", "net/http/httptest", "github.com/algoreg-kit/algoreg-kit/mockserver/mocktest":
			t.Errorf("algoreg-kit links %s; only tests may import it", pkg)
		}
	}
}

// TestRunSpec: spec prints the vendor document, spec --mock the full one, in
// YAML as embedded or as JSON.
func TestRunSpec(t *testing.T) {
	vendor, err := openapi.VendorDocument()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args        []string
		exact       []byte // the output, when it is a document as it is
		has, hasNot string
	}{
		{[]string{"spec"}, vendor, "/api/v1/customers/save", "/__admin"},
		{[]string{"spec", "--mock"}, openapi.Document(), "/__admin/customers", ""},
		{[]string{"spec", "--format", "json"}, nil, `"oauth2Password"`, `"/healthz"`},
		{[]string{"spec", "--mock", "--format", "json"}, nil, `"/healthz"`, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, _, err := runSubcommand(t, nil, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if tt.exact != nil && stdout != string(tt.exact) {
				t.Errorf("output differs from the document (%d bytes, want %d)", len(stdout), len(tt.exact))
			}
			if !strings.Contains(stdout, tt.has) {
				t.Errorf("output lacks %q", tt.has)
			}
			if tt.hasNot != "" && strings.Contains(stdout, tt.hasNot) {
				t.Errorf("output has %q", tt.hasNot)
			}
		})
	}
}
