package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// kycOneSegment is the mock of issue 13: --kyc-max 1 --custom-fields segment.
func kycOneSegment(t *testing.T) *mocktest.Server {
	rc := rules.DefaultConfig()
	rc.KYCMax, rc.CustomFields = 1, []string{"segment"}
	return mocktest.New(t, mocktest.WithConfig(mockserver.Config{Rules: &rc}))
}

// Against a mock started with --kyc-max 1 --custom-fields segment, contract
// and fixtures --post take the mock's rules from GET /__admin/config and say
// so: the contract passes (it failed 19 checks before) and the tally matches
// the labels. A rule flag given wins over the mock's.
func TestCommandsTakeTheMockRules(t *testing.T) {
	ts := kycOneSegment(t)
	const took = "the target is an algoreg-kit mock, version (devel); using its rules: custom_fields segment, kyc_max 1"
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string // "" for success
		wantOut []string
	}{
		{"contract", []string{"contract", "--cases", "20", "--seed", "3"}, "", []string{"contract: " + took + "\n", " 0 failed, "}},
		{"contract with a flag of its own", []string{"contract", "--cases", "5", "--seed", "3", "--run", "^behaviour/create-lists-added$", "--kyc-max", "3"},
			"1 of 1 check failed", []string{"contract: " + took + "; flags given override them: --kyc-max\n", "kyc_level_out_of_range"}},
		{"fixtures --post", []string{"fixtures", "--count", "400", "--invalid", "0.1"}, "", []string{"fixtures: " + took + "\n", " 0 mismatches"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{}, tt.args...), "--user", "ops", "--password", "pw")
			if tt.args[0] == "contract" {
				args = append(args, "--target", ts.URL)
			} else {
				args = append(args, "--post", ts.URL)
			}
			stdout, stderr, err := runSubcommand(t, nil, args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want %q; stdout:\n%s\nstderr:\n%s", err, tt.wantErr, stdout, stderr)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(stdout+stderr, want) {
					t.Errorf("the output lacks %q; stdout:\n%s\nstderr:\n%s", want, stdout, stderr)
				}
			}
		})
	}
}

// A target that is not the kit (a 404 for /__admin/config, or a stub that
// answers the mock's header and body but cannot repeat the nonce) leaves the
// flags' rules as they are, and nothing is printed; a target that cannot be
// reached is one line, and the flags' rules.
func TestTargetRulesOfOtherTargets(t *testing.T) {
	mock := kycOneSegment(t)
	recorded := getMock(t, mock, "/__admin/config?nonce=recorded")
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
		wantOut string
	}{
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, ""},
		{"a stub that replays the mock's answer", func(w http.ResponseWriter, r *http.Request) {
			for k, v := range recorded.Header() {
				w.Header()[k] = v
			}
			w.Write(recorded.Body.Bytes())
		}, ""},
		{"unreachable", nil, "fixtures: cannot ask the target for its settings ("},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			if tt.handler == nil {
				srv.Close()
			} else {
				defer srv.Close()
			}
			cfg, err := parseFixtures([]string{"--post", srv.URL, "--basic", "--user", "u", "--password", "p", "--kyc-min", "1", "--kyc-max", "2"}, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			rc, _, err := targetRules(context.Background(), &out, "fixtures", cfg.Rules,
				contract.Config{Target: srv.URL, User: "u", Password: "p", Basic: true}, printUnreachable(&out, "fixtures"))
			if err != nil {
				t.Fatal(err)
			}
			want := rules.DefaultConfig()
			want.KYCMin, want.KYCMax = 1, 2
			if rc.KYCMin != 1 || rc.KYCMax != 2 || len(rc.CustomFields) != 0 {
				t.Errorf("got rules %+v, want the flags' %+v", rc, want)
			}
			if got := out.String(); (tt.wantOut == "" && got != "") || !strings.HasPrefix(got, tt.wantOut) {
				t.Errorf("printed %q, want %q", got, tt.wantOut)
			}
		})
	}
}

// getMock answers GET path of the mock with Basic credentials.
func getMock(t *testing.T, ts *mocktest.Server, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.SetBasicAuth("ops", "pw")
	rec := httptest.NewRecorder()
	ts.Mock.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.Bytes())
	}
	return rec
}

// over applies the rule flags given, and only those, over another
// configuration: a flag given with the default value wins too.
func TestRuleFlagsOver(t *testing.T) {
	base := rules.DefaultConfig()
	base.KYCMax, base.CustomFields, base.ReviewGroups = 1, []string{"segment"}, []string{"vip"}
	base.RelationTypes, base.MaxBody = []rules.RelationType{{Value: 9}}, 1000
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want func(c *rules.Config)
	}{
		{nil, nil, func(c *rules.Config) {}},
		{[]string{"--kyc-max", "3"}, nil, func(c *rules.Config) { c.KYCMax = 3 }},
		{nil, map[string]string{"ALGOREG_FIXTURES_KYC_MAX": "2"}, func(c *rules.Config) { c.KYCMax = 2 }},
		{[]string{"--custom-fields", ""}, nil, func(c *rules.Config) { c.CustomFields = nil }},
		{[]string{"--relation-types", "1,2,3,4,5,6,7,8,9,10", "--max-body", "16MiB"}, nil, func(c *rules.Config) {
			c.RelationTypes, c.MaxBody = []rules.RelationType{{Value: 1}, {Value: 2}, {Value: 3}, {Value: 4}, {Value: 5}, {Value: 6}, {Value: 7}, {Value: 8}, {Value: 9}, {Value: 10}}, 16<<20
		}},
		{[]string{"--review-groups", "a;b"}, nil, func(c *rules.Config) { c.ReviewGroups = []string{"a", "b"} }},
	} {
		cfg, err := parseFixtures(tt.args, func(k string) string { return tt.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfg.Rules.over(base)
		if err != nil {
			t.Fatal(err)
		}
		want := base
		want.RelationTypes = append([]rules.RelationType(nil), base.RelationTypes...)
		tt.want(&want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v %v: got %+v, want %+v", tt.args, tt.env, got, want)
		}
	}
}

// contract --target asks a mock for GET /__admin/config once (targetRules'
// answer goes to the suite in contract.Config.Asked), and a target it cannot
// reach is one error, not also a "cannot ask" line.
func TestContractAsksTheTargetOnce(t *testing.T) {
	mock := mocktest.NewMock(t, mockserver.Config{})
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/__admin/config" {
			asked.Add(1)
		}
		mock.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name      string
		target    string
		wantAsked int32
		wantErr   string // "" for success
	}{
		{"a mock", srv.URL, 1, ""},
		{"unreachable", "http://127.0.0.1:1", 0, "connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			asked.Store(0)
			stdout, stderr, err := runSubcommand(t, nil, "contract", "--target", tt.target, "--user", "ops", "--password", "pw",
				"--run", "^behaviour/create-lists-added$")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v; stdout:\n%s\nstderr:\n%s", err, stdout, stderr)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want %q; stdout:\n%s\nstderr:\n%s", err, tt.wantErr, stdout, stderr)
			}
			if got := asked.Load(); got != tt.wantAsked {
				t.Errorf("GET /__admin/config was sent %d times, want %d; stderr:\n%s", got, tt.wantAsked, stderr)
			}
			if strings.Contains(stderr, "cannot ask the target") {
				t.Errorf("stderr repeats the error as a line of its own:\n%s", stderr)
			}
		})
	}
}
