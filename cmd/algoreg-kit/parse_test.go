package main

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/gcheadroom"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// getenvOf fakes the environment.
func getenvOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// checkParseErr fails unless err is a usage error containing want, or nil
// when want is "".
func checkParseErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got error %v, want one containing %q", err, want)
	}
	if code, _ := exitStatus(err); code != 2 {
		t.Errorf("got exit status %d for %v, want 2", code, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

// parseTest is one case of a parse function's table: the arguments and the
// environment, then a check of the config, or the error wanted.
type parseTest[C any] struct {
	name    string
	args    []string
	env     map[string]string
	check   func(t *testing.T, got C)
	wantErr string
}

func runParseTests[C any](t *testing.T, parse func([]string, func(string) string) (C, error), tests []parseTest[C]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.args, getenvOf(tt.env))
			checkParseErr(t, err, tt.wantErr)
			if tt.check != nil && err == nil {
				tt.check(t, got)
			}
		})
	}
}

func TestParseMock(t *testing.T) {
	runParseTests(t, parseMock, []parseTest[mockConfig]{
		{name: "defaults", check: func(t *testing.T, got mockConfig) {
			if got.Addr != "127.0.0.1:8080" || got.LogFormat != "text" || got.LogLevel.String() != "INFO" || got.PreloadBusiness != "" {
				t.Errorf("got %+v", got)
			}
			if !reflect.DeepEqual(got.Rules.Config, rules.DefaultConfig()) {
				t.Errorf("got rules %+v, want the defaults", got.Rules.Config)
			}
			if got.Server.TokenTTL != time.Hour || got.Server.LockoutThreshold != 5 {
				t.Errorf("got server settings %+v", got.Server)
			}
		}},
		{name: "flags", args: []string{"--addr", ":0", "--max-body", "1MiB", "--log-level", "debug", "--preload", "a.json, b.ndjson", "--webhook", "http://h/x", "--rate-limit", "2.5"},
			check: func(t *testing.T, got mockConfig) {
				if got.Addr != ":0" || got.Rules.MaxBody != 1<<20 || got.LogLevel.String() != "DEBUG" || got.Server.WebhookURL != "http://h/x" || got.Server.RateLimit != 2.5 {
					t.Errorf("got %+v", got)
				}
				if want := []string{"a.json", "b.ndjson"}; !reflect.DeepEqual(got.Preload, want) {
					t.Errorf("got preload %q, want %q", got.Preload, want)
				}
			}},
		{name: "connection and body limits", args: []string{"--max-conns", "100", "--max-body-memory", "64MiB", "--min-body-rate", "1MiB", "--max-header-bytes", "8192", "--idle-timeout", "5s", "--lenient"},
			check: func(t *testing.T, got mockConfig) {
				s := got.Server
				if s.MaxConns != 100 || s.BodyMemory != 64<<20 || s.MinBodyRate != 1<<20 || s.MaxHeaderBytes != 8192 || s.IdleTimeout != 5*time.Second || !s.Lenient {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "webhook settings", args: []string{"--webhook", "http://h/x", "--webhook-retry-for", "5m"}, env: map[string]string{"ALGOREG_MOCK_WEBHOOK_SECRET": "whsec_abc"},
			check: func(t *testing.T, got mockConfig) {
				s := got.Server
				if s.WebhookURL != "http://h/x" || s.WebhookRetryFor != 5*time.Minute || s.WebhookSecret != "whsec_abc" {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "journal", args: []string{"--journal-size", "10", "--journal-bytes", "1MiB", "--journal-total-bytes", "8MiB", "--journal-body-bytes", "1KiB"},
			check: func(t *testing.T, got mockConfig) {
				if s := got.Server; s.JournalSize != 10 || s.JournalBytes != 1<<20 || s.JournalTotalBytes != 8<<20 || s.JournalBodyBytes != 1<<10 {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "journal off", args: []string{"--journal-size", "0"}, check: func(t *testing.T, got mockConfig) {
			if s := got.Server; s.JournalSize != -1 || s.JournalBytes != mockserver.DefaultJournalBytes {
				t.Errorf("got journal size %d, bytes %d; want -1 (off) and the default", s.JournalSize, s.JournalBytes)
			}
		}},
		{name: "journal off by bytes", env: map[string]string{"ALGOREG_MOCK_JOURNAL_BYTES": "0"}, check: func(t *testing.T, got mockConfig) {
			if got.Server.JournalBytes != -1 {
				t.Errorf("got journal bytes %d, want -1 (off)", got.Server.JournalBytes)
			}
		}},
		{name: "metrics off", args: []string{"--metrics=false"}, check: func(t *testing.T, got mockConfig) {
			if !got.Server.NoMetrics {
				t.Error("got metrics on")
			}
		}},
		{name: "gc headroom default", check: func(t *testing.T, got mockConfig) {
			if got.GCHeadroom != gcheadroom.Default {
				t.Errorf("got gc headroom %d, want %d", got.GCHeadroom, gcheadroom.Default)
			}
		}},
		{name: "gc headroom", args: []string{"--gc-headroom", "256MiB"}, check: func(t *testing.T, got mockConfig) {
			if got.GCHeadroom != 256<<20 {
				t.Errorf("got gc headroom %d, want 256 MiB", got.GCHeadroom)
			}
		}},
		{name: "gc headroom from the variable", env: map[string]string{"ALGOREG_MOCK_GC_HEADROOM": "128MiB"}, check: func(t *testing.T, got mockConfig) {
			if got.GCHeadroom != 128<<20 {
				t.Errorf("got gc headroom %d, want 128 MiB", got.GCHeadroom)
			}
		}},
		{name: "gc headroom off", args: []string{"--gc-headroom", "off"}, env: map[string]string{"ALGOREG_MOCK_GC_HEADROOM": "64MiB"}, check: func(t *testing.T, got mockConfig) {
			if got.GCHeadroom != 0 {
				t.Errorf("got gc headroom %d, want 0 (off)", got.GCHeadroom)
			}
		}},
		{name: "bad gc headroom", args: []string{"--gc-headroom", "-1"}, wantErr: `"-1" is not a positive size`},
		{name: "bad journal size", args: []string{"--journal-size", "-3"}, wantErr: `"-3" is not a count`},
		{name: "webhook defaults", check: func(t *testing.T, got mockConfig) {
			if s := got.Server; s.WebhookRetryFor != time.Hour || s.WebhookSecret != "" {
				t.Errorf("got %+v", s)
			}
		}},
		{name: "connection defaults", check: func(t *testing.T, got mockConfig) {
			s := got.Server
			if s.MaxConns != 4096 || s.BodyMemory != 0 || s.MinBodyRate != 256<<10 || s.MaxHeaderBytes != 64<<10 || s.IdleTimeout != 2*time.Minute || s.Lenient {
				t.Errorf("got %+v", s)
			}
		}},
		{name: "env", env: map[string]string{"ALGOREG_MOCK_MAX_BATCH": "7", "ALGOREG_MOCK_KIN_VALIDATION": "true", "ALGOREG_MOCK_REVIEW_GROUPS": "retail;eu", "ALGOREG_MOCK_PRELOAD_BUSINESS": "acme"},
			check: func(t *testing.T, got mockConfig) {
				if got.Rules.MaxBatch != 7 || !got.Server.KinValidation || got.PreloadBusiness != "acme" || !reflect.DeepEqual(got.Rules.ReviewGroups, []string{"retail", "eu"}) {
					t.Errorf("got %+v", got)
				}
			}},
		{name: "a flag beats its variable", args: []string{"--kyc-max", "5"}, env: map[string]string{"ALGOREG_MOCK_KYC_MAX": "1", "ALGOREG_MOCK_KYC_MIN": "1"},
			check: func(t *testing.T, got mockConfig) {
				if got.Rules.KYCMin != 1 || got.Rules.KYCMax != 5 {
					t.Errorf("got kyc %d-%d, want 1-5", got.Rules.KYCMin, got.Rules.KYCMax)
				}
			}},
		{name: "relation types from a file are read later", args: []string{"--relation-types", "types.txt"},
			check: func(t *testing.T, got mockConfig) {
				if got.Rules.relationTypesFile != "types.txt" {
					t.Errorf("got %+v", got.Rules)
				}
			}},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope; run 'algoreg-kit mock --help'"},
		{name: "stray argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
		{name: "bad size", args: []string{"--max-body", "16 MB/s"}, wantErr: `"16 MB/s" is not a positive size`},
		{name: "bad variable", env: map[string]string{"ALGOREG_MOCK_TOKEN_TTL": "soon"}, wantErr: `ALGOREG_MOCK_TOKEN_TTL="soon": invalid value for --token-ttl`},
		{name: "bad choice", args: []string{"--log-format", "xml"}, wantErr: "use text or json"},
		{name: "server settings are mockserver.New's to check", args: []string{"--webhook", "example.org", "--rate-limit", "-1", "--token-ttl", "-1s"},
			check: func(t *testing.T, got mockConfig) {
				if got.Server.WebhookURL != "example.org" || got.Server.RateLimit != -1 || got.Server.TokenTTL != -time.Second {
					t.Errorf("got %+v, want the values as given", got.Server)
				}
			}},
		{name: "kyc range", args: []string{"--kyc-min", "4"}, wantErr: "kyc range: minimum 4 is above maximum 3"},
		{name: "duplicate relation type", args: []string{"--relation-types", "1,1"}, wantErr: "value 1 is listed twice"},
		{name: "state in memory by default", check: wantState(stateMemory, "", "", "state in memory")},
		{name: "state file", args: []string{"--state", "state.db"}, check: wantState(stateSQLite, "state.db", "", "state in SQLite file state.db, synchronous=NORMAL")},
		{name: "sqlite: and full sync from the environment", env: map[string]string{"ALGOREG_MOCK_STATE": "sqlite:/tmp/a b.db", "ALGOREG_MOCK_STATE_SYNC": "full"},
			check: wantState(stateSQLite, "/tmp/a b.db", "full", "state in SQLite file /tmp/a b.db, synchronous=FULL")},
		{name: "state-sync normal said aloud", args: []string{"--state", "s.db", "--state-sync", "normal"}, check: wantState(stateSQLite, "s.db", "normal", "synchronous=NORMAL")},
		{name: "postgres URL, password kept out of the banner", args: []string{"--state", "postgres://algoreg:s3cret@db:5432/algoreg?sslmode=disable"},
			check: wantState(statePostgres, "postgres://algoreg:s3cret@db:5432/algoreg?sslmode=disable", "", "state in PostgreSQL postgres://algoreg:xxxxx@db:5432/algoreg?sslmode=disable")},
		{name: "postgresql scheme", args: []string{"--state", "postgresql://db/x"}, check: wantState(statePostgres, "postgresql://db/x", "", "state in PostgreSQL postgresql://db/x")},
		{name: "an empty --state beats the variable", args: []string{"--state", ""}, env: map[string]string{"ALGOREG_MOCK_STATE": "s.db"}, check: wantState(stateMemory, "", "", "state in memory")},
		{name: "state-sync in memory", args: []string{"--state-sync", "full"}, wantErr: "--state-sync applies to a SQLite state file only, and the state is in memory"},
		{name: "state-sync on postgres", args: []string{"--state", "postgres://db/x", "--state-sync", "normal"}, wantErr: "the state is on PostgreSQL"},
		{name: "bad state-sync", args: []string{"--state", "s.db", "--state-sync", "always"}, wantErr: "use normal or full"},
		{name: "unknown state scheme", args: []string{"--state", "mysql://db/x"}, wantErr: "mysql:// is not a state the mock knows"},
		{name: "sqlite: without a path", args: []string{"--state", "sqlite:"}, wantErr: "sqlite: needs a file path"},
		{name: "unreadable postgres URL", args: []string{"--state", "postgres://u:pw@db:port/x"}, wantErr: "not a PostgreSQL URL"},
	})
}

// wantState checks the parsed --state: its engine, where, the sync mode and
// the banner's words (a part of them).
func wantState(kind stateKind, where, sync, banner string) func(*testing.T, mockConfig) {
	return func(t *testing.T, got mockConfig) {
		t.Helper()
		s := got.State
		if s.Kind != kind || s.Where != where || s.Sync != sync {
			t.Errorf("got state %+v, want kind %d, where %q, sync %q", s, kind, where, sync)
		}
		if !strings.Contains(s.String(), banner) || strings.Contains(s.String(), "s3cret") {
			t.Errorf("banner %q, want it to contain %q and no password", s.String(), banner)
		}
	}
}

func TestParseFixtures(t *testing.T) {
	runParseTests(t, parseFixtures, []parseTest[fixturesConfig]{
		{name: "defaults", check: func(t *testing.T, got fixturesConfig) {
			if got.Count != 10 || got.Format != "request" || got.BatchSize != 1000 || got.Progress != "auto" || got.Load.Retries != 5 || got.Load.Concurrency != 4 {
				t.Errorf("got %+v", got)
			}
		}},
		{name: "zero shares and retries mean none", args: []string{"--firms", "0", "--variations", "0", "--retries", "0"},
			check: func(t *testing.T, got fixturesConfig) {
				if got.Options.Firms >= 0 || got.Options.Variations >= 0 || got.Load.Retries >= 0 {
					t.Errorf("got %+v, want negative (none)", got)
				}
			}},
		{name: "post with credentials from the environment", args: []string{"--post", "http://127.0.0.1:1", "--verify-input"}, env: map[string]string{"ALGOREG_USER": "u", "ALGOREG_PASSWORD": "p"},
			check: func(t *testing.T, got fixturesConfig) {
				if got.Load.User != "u" || got.Load.Password != "p" || got.Load.BaseURL != "http://127.0.0.1:1" || !got.Load.VerifyOnly {
					t.Errorf("got %+v", got.Load)
				}
			}},
		{name: "a flag beats its variable", args: []string{"--count", "3", "--token", "flag"}, env: map[string]string{"ALGOREG_FIXTURES_COUNT": "9", "ALGOREG_FIXTURES_SEED": "8", "ALGOREG_TOKEN": "env"},
			check: func(t *testing.T, got fixturesConfig) {
				if got.Count != 3 || got.Seed != 8 || got.Load.Token != "flag" {
					t.Errorf("got count %d, seed %d, token %q", got.Count, got.Seed, got.Load.Token)
				}
			}},
		{name: "the rule flags of the mock", args: []string{"--max-body", "2MiB", "--max-batch", "50", "--risk-scan-limit", "3", "--custom-fields", "a,b"},
			check: func(t *testing.T, got fixturesConfig) {
				if r := got.Rules; r.MaxBody != 2<<20 || r.MaxBatch != 50 || r.RiskScanLimit != 3 || len(r.CustomFields) != 2 {
					t.Errorf("got %+v", r.Config)
				}
			}},
		{name: "post without credentials", args: []string{"--post", "http://127.0.0.1:1"}, wantErr: "--post needs credentials: give --user and --password (or set ALGOREG_USER and ALGOREG_PASSWORD), or --token (or ALGOREG_TOKEN)"},
		{name: "post with a user but no password", args: []string{"--post", "http://127.0.0.1:1", "--user", "u"}, wantErr: "--post needs credentials"},
		{name: "post with a format", args: []string{"--post", "http://127.0.0.1:1", "--token", "t", "--format", "csv"}, wantErr: "drop --out, --format and --relations-out"},
		{name: "unknown format", args: []string{"--format", "xml"}, wantErr: "unknown format"},
		{name: "negative count", env: map[string]string{"ALGOREG_FIXTURES_COUNT": "-1"}, wantErr: "--count -1 is negative"},
		{name: "request format to a file", args: []string{"--out", "x.json"}, wantErr: "give a folder"},
		{name: "bad progress", args: []string{"--progress", "sometimes"}, wantErr: "use auto, always or never"},
	})
}

func TestParseContract(t *testing.T) {
	runParseTests(t, parseContract, []parseTest[contractConfig]{
		{name: "defaults", check: func(t *testing.T, got contractConfig) {
			if got.Suite.Target != "" || got.Suite.Cases != 100 || got.Timeout != 30*time.Second || got.Suite.Run != nil {
				t.Errorf("got %+v", got)
			}
		}},
		{name: "max-body takes a size, as for the mock", args: []string{"--max-body", "16MiB", "--run", "^negative/"},
			check: func(t *testing.T, got contractConfig) {
				if got.Rules.MaxBody != 16<<20 || got.Suite.Run.String() != "^negative/" {
					t.Errorf("got max body %d, run %v", got.Rules.MaxBody, got.Suite.Run)
				}
			}},
		{name: "the new variables", env: map[string]string{"ALGOREG_USER": "u", "ALGOREG_PASSWORD": "p", "ALGOREG_CONTRACT_TARGET": "http://t", "ALGOREG_CONTRACT_SECOND_USER": "u2", "ALGOREG_CONTRACT_VERIFY_ONLY": "1"},
			check: func(t *testing.T, got contractConfig) {
				s := got.Suite
				if s.User != "u" || s.Password != "p" || s.Target != "http://t" || s.SecondUser != "u2" || !s.VerifyOnly {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "the old variables still work", env: map[string]string{"ALGOREG_CONTRACT_USER": "old-u", "ALGOREG_CONTRACT_PASSWORD": "old-p"},
			check: func(t *testing.T, got contractConfig) {
				if got.Suite.User != "old-u" || got.Suite.Password != "old-p" {
					t.Errorf("got %+v", got.Suite)
				}
				want := []string{
					"algoreg-kit: ALGOREG_CONTRACT_PASSWORD is deprecated and will stop working in the next release; set ALGOREG_PASSWORD instead",
					"algoreg-kit: ALGOREG_CONTRACT_USER is deprecated and will stop working in the next release; set ALGOREG_USER instead",
				}
				if !reflect.DeepEqual(got.notes, want) {
					t.Errorf("got notes %q, want %q", got.notes, want)
				}
			}},
		{name: "a new variable beats an old one, a flag both", args: []string{"--user", "flag"}, env: map[string]string{"ALGOREG_CONTRACT_USER": "old", "ALGOREG_TOKEN": "new", "ALGOREG_CONTRACT_TOKEN": "old"},
			check: func(t *testing.T, got contractConfig) {
				if got.Suite.User != "flag" || got.Suite.Token != "new" || len(got.notes) != 0 {
					t.Errorf("got user %q, token %q, notes %q", got.Suite.User, got.Suite.Token, got.notes)
				}
			}},
		{name: "bad regexp", args: []string{"--skip", "a("}, wantErr: `--skip "a(" is not a regular expression`},
		{name: "zero cases", env: map[string]string{"ALGOREG_CONTRACT_CASES": "0"}, wantErr: "--cases 0: give at least 1"},
		{name: "kyc range", args: []string{"--kyc-min", "3", "--kyc-max", "1"}, wantErr: "the target's rules: kyc range"},
		{name: "bad size", args: []string{"--max-body", "lots"}, wantErr: `"lots" is not a positive size`},
	})
}

func TestParseSpec(t *testing.T) {
	format := func(want string) func(*testing.T, specConfig) {
		return func(t *testing.T, got specConfig) {
			if got.Format != want {
				t.Errorf("got %q, want %q", got.Format, want)
			}
		}
	}
	runParseTests(t, parseSpec, []parseTest[specConfig]{
		{name: "default", check: format("yaml")},
		{name: "flag", args: []string{"--format", "json"}, check: format("json")},
		{name: "env", env: map[string]string{"ALGOREG_SPEC_FORMAT": "json"}, check: format("json")},
		{name: "flag beats env", args: []string{"--format", "yaml"}, env: map[string]string{"ALGOREG_SPEC_FORMAT": "json"}, check: format("yaml")},
		{name: "bad format", args: []string{"--format", "toml"}, wantErr: "use yaml or json"},
	})
}

// TestRuleFlagsAreShared: mock, fixtures and contract read the same rule
// flags into the same settings.
func TestRuleFlagsAreShared(t *testing.T) {
	args := []string{"--kyc-min", "1", "--kyc-max", "5", "--review-groups", "retail, eu", "--custom-fields", "segment",
		"--relation-types", "1=director,42=auditor", "--risk-scan-limit", "7", "--max-batch", "300", "--max-body", "64KiB",
		"--max-relations", "11", "--max-variations", "12", "--max-items", "13", "--max-keys", "14", "--max-id-length", "15", "--max-string-length", "16",
		"--max-all-variations", "17", "--max-all-keys", "18"}
	want := rules.Config{KYCMin: 1, KYCMax: 5, ReviewGroups: []string{"retail", "eu"}, CustomFields: []string{"segment"},
		RelationTypes: []rules.RelationType{{Value: 1, Name: "director"}, {Value: 42, Name: "auditor"}}, RiskScanLimit: 7, MaxBatch: 300, MaxBody: 64 << 10,
		RecordLimits: openapi.RecordLimits{MaxRelations: 11, MaxVariations: 12, MaxItems: 13, MaxKeys: 14, MaxIDLength: 15, MaxStringLength: 16,
			MaxAllVariations: 17, MaxAllKeys: 18}}
	parsers := map[string]func([]string) (*ruleFlags, error){
		"mock":     func(a []string) (*ruleFlags, error) { c, err := parseMock(a, getenvOf(nil)); return c.Rules, err },
		"fixtures": func(a []string) (*ruleFlags, error) { c, err := parseFixtures(a, getenvOf(nil)); return c.Rules, err },
		"contract": func(a []string) (*ruleFlags, error) { c, err := parseContract(a, getenvOf(nil)); return c.Rules, err },
		"lint": func(a []string) (*ruleFlags, error) {
			c, err := parseLint(append(a, "x.json"), getenvOf(nil))
			return c.Rules, err
		},
	}
	for name, parse := range parsers {
		t.Run(name, func(t *testing.T) {
			r, err := parse(args)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.resolve()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// anyParse is a subcommand's parse function with its config as any.
func anyParse[C any](parse func([]string, func(string) string) (C, error)) func([]string, func(string) string) (any, error) {
	return func(args []string, getenv func(string) string) (any, error) { return parse(args, getenv) }
}

// TestEveryFlagReadsItsVariable: for every flag of every subcommand, as its
// help lists them, ALGOREG_<SUBCOMMAND>_<FLAG> (ALGOREG_<FLAG> for the
// credentials) parses to the same config, or the same error, as the flag.
func TestEveryFlagReadsItsVariable(t *testing.T) {
	parsers := map[string]func([]string, func(string) string) (any, error){
		"mock": anyParse(parseMock), "fixtures": anyParse(parseFixtures), "contract": anyParse(parseContract),
		"spec": anyParse(parseSpec), "version": anyParse(parseVersion),
		"lint": func(args []string, getenv func(string) string) (any, error) {
			return parseLint(append(args, "x.json"), getenv) // lint needs a file
		},
	}
	// Values the flag's type alone does not give.
	values := map[string]string{
		"mock log-level": "debug", "mock log-format": "json", "spec format": "json",
		"fixtures format": "csv", "fixtures progress": "never", "fixtures codes": "phone_not_e164",
		"mock kyc-min": "1", "fixtures kyc-min": "1", "contract kyc-min": "1", "lint kyc-min": "1", "lint format": "json",
		"mock state-sync":   "full", // an error without --state, the same from the variable
		"mock journal-size": "7",
		"mock metrics":      "false",
	}
	byType := map[string]string{"": "true", "int": "7", "float": "0.5", "duration": "7s", "size": "1KiB", "list": "a,b", "table": "1,2"}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)(?: (\S+))?$`)
	for _, c := range commands() {
		parse, ok := parsers[c.name]
		if !ok {
			t.Errorf("no parse function for %s in this test", c.name)
			continue
		}
		_, err := parse([]string{"--help"}, getenvOf(nil))
		var help helpError
		if !errors.As(err, &help) {
			t.Fatalf("%s --help: got %v, want the help", c.name, err)
		}
		def, err := parse(nil, getenvOf(nil))
		if err != nil {
			t.Fatalf("%s without flags: %v", c.name, err)
		}
		for _, m := range flagLine.FindAllStringSubmatch(help.text, -1) {
			name, typ := m[1], m[2]
			t.Run(c.name+"/"+name, func(t *testing.T) {
				v, ok := values[c.name+" "+name]
				if !ok {
					if v, ok = byType[typ]; !ok {
						v = "x" // a string
					}
				}
				env := "ALGOREG_" + strings.ToUpper(c.name) + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if name == "user" || name == "password" || name == "token" {
					env = "ALGOREG_" + strings.ToUpper(name)
				}
				fromFlag, flagErr := parse([]string{"--" + name + "=" + v}, getenvOf(nil))
				fromEnv, envErr := parse(nil, getenvOf(map[string]string{env: v}))
				switch {
				case flagErr != nil || envErr != nil:
					if fmt.Sprint(flagErr) != fmt.Sprint(envErr) {
						t.Errorf("--%s=%s: %v; %s=%s: %v", name, v, flagErr, env, v, envErr)
					}
				case !reflect.DeepEqual(fromFlag, fromEnv):
					t.Errorf("%s=%s does not set --%s:\nflag: %+v\nenv:  %+v", env, v, name, fromFlag, fromEnv)
				case reflect.DeepEqual(fromFlag, def):
					t.Errorf("--%s=%s gives the default config: pick another value in this test", name, v)
				}
			})
		}
	}
}
