package mockserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var stateUsers = []mockserver.User{{Username: "alice", Password: "s3cret", Business: "acme"}, {Username: "bob", Password: "pw", Business: "acme"}}

// bearerSave posts a save of one customer with the token and answers the status.
func bearerSave(t *testing.T, ts *mocktest.Server, tok, externalID string) response {
	t.Helper()
	return do(t, &http.Client{}, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json",
		`{"customers":[{"external_id":"`+externalID+`",`+indiv+`}]}`, "Authorization", "Bearer "+tok)
}

// tokenFor posts a password grant and answers the status and the body.
func tokenFor(t *testing.T, ts *mocktest.Server, user, password string) (int, map[string]any) {
	t.Helper()
	r := do(t, &http.Client{}, http.MethodPost, ts.URL+"/api/v1/token", "application/json",
		`{"grant_type":"password","username":"`+user+`","password":"`+password+`"}`)
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "token answer %s", r.body)
	return r.status, m
}

// Tokens and lockouts are the store's: a token issued by one server is
// accepted by another on the same state and, when the state is durable, by a
// server started after both closed; a lockout on one holds on the others;
// a tampered, expired or foreign token is refused everywhere.
func TestTokensAndLockoutsLiveInTheStore(t *testing.T) {
	for _, st := range testStores {
		t.Run(st.name, func(t *testing.T) {
			clock := &fakeClock{now: testNow}
			open := st.state(t)
			server := func(s store.Store) *mocktest.Server {
				return newServer(t, mockserver.Config{Store: s, Users: stateUsers, TokenTTL: time.Hour,
					LockoutThreshold: 3, LockoutDuration: time.Minute, Now: clock.Now})
			}
			storeA, storeB := open(), open()
			a, b := server(storeA), server(storeB)

			tok := a.Token(t, "alice", "s3cret")
			r := bearerSave(t, b, tok, "c1")
			require.Equal(t, http.StatusOK, r.status, "A's token on B: %s", r.body)
			_, ok := getCustomer(t, a, a.ClientFor("bob", "pw"), "c1")
			assert.True(t, ok, "the customer saved on B with A's token is not seen on A")

			for range 3 {
				r := do(t, a.Client, http.MethodGet, a.URL+"/__admin/customers", "", "", "Authorization", basic("bob", "wrong"))
				require.Equal(t, http.StatusUnauthorized, r.status)
			}
			assertLocked(t, b, "bob", "pw", "locked on A, on B")

			foreign := server(memstore.New()).Token(t, "alice", "s3cret")
			mid := len(tok) / 2
			tampered := tok[:mid] + string("AB"[boolInt(tok[mid] == 'A')]) + tok[mid+1:]
			for _, tt := range []struct{ name, tok string }{
				{"tampered", tampered},
				{"signed with another store's secret", foreign},
				{"cut short", tok[:len(tok)-1]},
			} {
				t.Run(tt.name, func(t *testing.T) {
					assertRefused(t, bearerSave(t, b, tt.tok, "c2"))
				})
			}

			last := b
			if st.durable { // a restart: every handle closed, then a new server on the file
				for _, s := range []store.Store{storeA, storeB} {
					require.NoError(t, s.Close())
				}
				last = server(open())
				r := bearerSave(t, last, tok, "c3")
				require.Equal(t, http.StatusOK, r.status, "the token after a restart: %s", r.body)
				assertLocked(t, last, "bob", "pw", "locked before the restart, after it")
			}
			clock.advance(time.Hour)
			assertRefused(t, bearerSave(t, last, tok, "c4"))
			status, m := tokenFor(t, last, "bob", "pw")
			assert.Equal(t, http.StatusOK, status, "after the lockout ended: %v", m)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func basic(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, password)
	return req.Header.Get("Authorization")
}

// assertLocked checks that user cannot log in on ts with the right password,
// neither for a token nor with Basic.
func assertLocked(t *testing.T, ts *mocktest.Server, user, password, what string) {
	t.Helper()
	status, m := tokenFor(t, ts, user, password)
	assert.Equal(t, http.StatusBadRequest, status, what)
	assert.Equal(t, "invalid_grant", m["error"], what)
	assert.Contains(t, m["error_description"], "locked", what)
	r := do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/customers", "", "", "Authorization", basic(user, password))
	assert.Equal(t, http.StatusUnauthorized, r.status, "%s: Basic", what)
	assert.Contains(t, problemOf(t, r).Detail, "locked", "%s: Basic", what)
}

// assertRefused checks a 401 for a bearer token.
func assertRefused(t *testing.T, r response) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, r.status, "%s", r.body)
	assert.Contains(t, problemOf(t, r).Detail, "access token is unknown or expired")
	assert.Equal(t, `Bearer realm="algoreg", Basic realm="algoreg"`, r.header.Get("WWW-Authenticate"))
}

// A store failing at any call of a login (the secret, the lockout, counting
// a failure, forgetting the failures) answers 503 with Retry-After, on the
// token endpoint and with Basic or Bearer credentials; a failed grant
// leaves the account's lockout as it was.
func TestLoginStoreFailureIs503(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		failures int // alice's wrong passwords before the request (3 lock her)
		auth     string
		token    bool // a password grant, else a listing with auth
		password string
		want     int
	}{
		{"token, right password after a failure", 1, "", true, "s3cret", http.StatusOK},
		{"token, wrong password", 0, "", true, "wrong", http.StatusBadRequest},
		{"token, locked", 3, "", true, "s3cret", http.StatusBadRequest},
		{"basic, right password after a failure", 1, basic("alice", "s3cret"), false, "", http.StatusOK},
		{"basic, wrong password", 1, basic("alice", "wrong"), false, "", http.StatusUnauthorized},
		{"bearer", 0, "bearer", false, "", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mem := memstore.New()
			failing := &failingStore{Store: mem}
			cfg := mockserver.Config{Store: failing, Users: stateUsers, LockoutThreshold: 3}
			auth := tt.auth
			if auth == "bearer" {
				auth = "Bearer " + newServer(t, mockserver.Config{Store: mem, Users: stateUsers}).Token(t, "alice", "s3cret")
			}
			failures := 0
			for n := 1; ; n++ {
				require.NoError(t, mem.ClearFailures(ctx, "alice"))
				for range tt.failures {
					_, err := mem.RecordFailure(ctx, "alice", testNow, 3, time.Minute)
					require.NoError(t, err)
				}
				before, err := mem.Lockout(ctx, "alice")
				require.NoError(t, err)
				ts := newServer(t, cfg) // a new server each time: the secret is not read yet
				failing.arm(n)
				var r response
				if tt.token {
					r = do(t, &http.Client{}, http.MethodPost, ts.URL+"/api/v1/token", "application/json",
						`{"grant_type":"password","username":"alice","password":"`+tt.password+`"}`)
				} else {
					r = do(t, &http.Client{}, http.MethodGet, ts.URL+"/__admin/customers", "", "", "Authorization", auth)
				}
				if !failing.reached() {
					require.Equal(t, tt.want, r.status, "no call failing: %s", r.body)
					break
				}
				failures++
				require.Equal(t, http.StatusServiceUnavailable, r.status, "call %d failing: %s", n, r.body)
				assert.Equal(t, "1", r.header.Get("Retry-After"), "call %d failing", n)
				assert.Equal(t, "urn:algoreg-kit:problem:unavailable", problemOf(t, r).Type)
				if tt.token { // a grant is only a login (a listing may fail after it succeeded)
					after, err := mem.Lockout(ctx, "alice")
					require.NoError(t, err)
					assert.Equal(t, before, after, "call %d failing: the lockout changed", n)
				}
				failing.arm(0)
			}
			assert.GreaterOrEqual(t, failures, 2, "the secret and the lockout (or the listing) must each fail once")
		})
	}
}

// In open mode a username names the business, which a token carries: one
// longer than mockserver.MaxBusinessBytes is refused, the longest is served.
func TestLongestBusiness(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	longest := strings.Repeat("b", mockserver.MaxBusinessBytes)
	r := bearerSave(t, ts, ts.Token(t, longest, "x"), "c1")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	status, m := tokenFor(t, ts, longest+"b", "x")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_request", m["error"])
	assert.Contains(t, m["error_description"], "longer than 256 bytes")
	r = do(t, ts.Client, http.MethodGet, ts.URL+"/__admin/customers", "", "", "Authorization", basic(longest+"b", "x"))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, problemOf(t, r).Detail, "longer than 256 bytes")
}
