package mockserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/internal/buildinfo"
	"github.com/algoreg-kit/algoreg-kit/internal/golden"
	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// kitAnswer is what a client reads of GET /__admin/config.
type kitAnswer struct {
	Kit struct {
		Name, Version, Revision, Nonce, Business string
	}
	Rules rules.Config
	Auth  struct {
		OpenMode         bool    `json:"open_mode"`
		Accounts         int     `json:"accounts"`
		TokenTTLSeconds  float64 `json:"token_ttl_seconds"`
		LockoutThreshold int     `json:"lockout_threshold"`
	}
	Requests struct {
		Lenient   bool    `json:"lenient"`
		RateLimit float64 `json:"rate_limit"`
		RateBurst int     `json:"rate_burst"`
	}
}

// getConfig asks ts for its settings with nonce, with ts.Client's
// credentials.
func getConfig(t *testing.T, ts *mocktest.Server, nonce string) (response, kitAnswer) {
	t.Helper()
	r := do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/config?nonce="+nonce, "", "")
	var k kitAnswer
	if r.status == http.StatusOK {
		require.NoError(t, json.Unmarshal(r.body, &k), "%s", r.body)
	}
	return r, k
}

// TestConfigGolden compares the answer of a mock of the zero Config (every
// default) with testdata/TestConfigGolden.golden.json, the version masked.
// Refresh with: go test ./mockserver -run TestConfigGolden -update
func TestConfigGolden(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	r, k := getConfig(t, ts, "golden-nonce")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	build := buildinfo.Current()
	assert.Equal(t, build.Version, r.header.Get(openapi.KitVersionHeader))
	assert.Equal(t, build.Version, k.Kit.Version)
	assert.Equal(t, build.Revision, k.Kit.Revision)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.body, &body))
	kit := body["kit"].(map[string]any)
	kit["version"], kit["revision"] = "masked", "masked"
	b, err := json.MarshalIndent(body, "", "  ")
	require.NoError(t, err)
	golden.Check(t, "TestConfigGolden.golden.json", append(b, '\n'))
}

// The answer is the server's own settings: its rules.Config read back
// whole, and the rest of its Config; it repeats the nonce and the caller's
// business.
func TestConfigReflectsSettings(t *testing.T) {
	custom := rulesWith(func(c *rules.Config) {
		c.KYCMin, c.KYCMax = 1, 2
		c.CustomFields, c.ReviewGroups = []string{"segment"}, []string{"retail", "vip"}
		c.RelationTypes = []rules.RelationType{{Value: 1, Name: "director"}, {Value: 7, Name: ""}}
		c.MaxBatch, c.MaxBody, c.MaxStringLength = 50, 1<<20, 99
	})
	for _, tt := range []struct {
		name     string
		cfg      mockserver.Config
		user     string
		business string
		want     func(t *testing.T, k kitAnswer)
	}{
		{"defaults", mockserver.Config{}, "test", "test", func(t *testing.T, k kitAnswer) {
			want := rules.DefaultConfig()
			want.ReviewGroups, want.CustomFields = []string{}, []string{}
			assert.Equal(t, want, k.Rules)
			assert.True(t, k.Auth.OpenMode)
			assert.Equal(t, 3600.0, k.Auth.TokenTTLSeconds)
			assert.Equal(t, mockserver.DefaultLockoutThreshold, k.Auth.LockoutThreshold)
			assert.False(t, k.Requests.Lenient)
			assert.Zero(t, k.Requests.RateLimit)
		}},
		{"configured", mockserver.Config{Rules: custom, Users: stateUsers, Lenient: true, RateLimit: 2.5, TokenTTL: time.Minute, LockoutThreshold: 2},
			"alice", "acme", func(t *testing.T, k kitAnswer) {
				assert.Equal(t, *custom, k.Rules)
				assert.False(t, k.Auth.OpenMode)
				assert.Equal(t, 2, k.Auth.Accounts)
				assert.Equal(t, 60.0, k.Auth.TokenTTLSeconds)
				assert.Equal(t, 2, k.Auth.LockoutThreshold)
				assert.True(t, k.Requests.Lenient)
				assert.Equal(t, 2.5, k.Requests.RateLimit)
				assert.Equal(t, 3, k.Requests.RateBurst, "the rate rounded up")
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pass := "test"
			if tt.cfg.Users != nil {
				pass = "s3cret"
			}
			ts := newServer(t, tt.cfg, mocktest.WithCredentials(tt.user, pass))
			r, k := getConfig(t, ts, "n-"+tt.name)
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			assert.Equal(t, openapi.KitName, k.Kit.Name)
			assert.Equal(t, "n-"+tt.name, k.Kit.Nonce)
			assert.Equal(t, tt.business, k.Kit.Business)
			tt.want(t, k)
		})
	}
}

// The nonce is echoed when it is up to 128 unreserved characters, refused
// with a 400 problem otherwise; without credentials the answer is 401.
func TestConfigNonce(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	for _, tt := range []struct {
		query string
		want  int
		echo  string
	}{
		{"", http.StatusOK, ""},
		{"nonce=", http.StatusOK, ""},
		{"nonce=0123abcdef", http.StatusOK, "0123abcdef"},
		{"nonce=a.b_c~d-e", http.StatusOK, "a.b_c~d-e"},
		{"nonce=" + strings.Repeat("x", 128), http.StatusOK, strings.Repeat("x", 128)},
		{"nonce=" + strings.Repeat("x", 129), http.StatusBadRequest, ""},
		{"nonce=a%20b", http.StatusBadRequest, ""},
		{"nonce=%3Cscript%3E", http.StatusBadRequest, ""},
		{"nonce=%C3%A9", http.StatusBadRequest, ""},
	} {
		r := do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/config?"+tt.query, "", "")
		require.Equal(t, tt.want, r.status, "%s: %s", tt.query, r.body)
		if tt.want != http.StatusOK {
			assert.Equal(t, "urn:algoreg-kit:problem:bad-parameter", problemOf(t, r).Type, tt.query)
			continue
		}
		var k kitAnswer
		require.NoError(t, json.Unmarshal(r.body, &k))
		assert.Equal(t, tt.echo, k.Kit.Nonce, tt.query)
	}
	r := do(t, &http.Client{}, http.MethodGet, ts.URL+"/__admin/config?nonce=x", "", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.NotEmpty(t, r.header.Get("WWW-Authenticate"))
}

// FuzzConfigNonce: whatever the query, GET /__admin/config answers 200 with
// the nonce echoed exactly, or a 400 problem; never anything else.
func FuzzConfigNonce(f *testing.F) {
	for _, seed := range []string{"", "abc", "a b", "%00", strings.Repeat("z", 129), "é", "a&nonce=b", "\xff"} {
		f.Add(seed)
	}
	s, err := mockserver.New(mockserver.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, nonce string) {
		req := httptest.NewRequest(http.MethodGet, "/__admin/config", nil)
		req.URL.RawQuery = "nonce=" + url.QueryEscape(nonce)
		req.Header.Set("Authorization", basic("fuzz", "fuzz"))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var k kitAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &k); err != nil || k.Kit.Nonce != req.URL.Query().Get("nonce") {
				t.Fatalf("200 for nonce %q: %s", nonce, rec.Body.Bytes())
			}
		case http.StatusBadRequest:
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("400 for nonce %q with Content-Type %q", nonce, ct)
			}
		default:
			t.Fatalf("nonce %q: status %d: %s", nonce, rec.Code, rec.Body.Bytes())
		}
	})
}
