package contract

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/algoreg-kit/algoreg-kit/internal/fakeapi"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// credSpec says which credentials a test client has.
type credSpec struct {
	user, password string
	basic          bool
	fixed          string
}

// newTestClient returns a client of srv for creds, with a clock the test
// moves.
func newTestClient(tb testing.TB, srv *httptest.Server, creds credSpec, now *time.Time) *client {
	tb.Helper()
	c := &client{
		base: srv.URL, hc: srv.Client(), v: openapi.MustNewValidator(), prefix: "ctTEST-",
		now: func() time.Time { return *now }, tally: newTally(),
	}
	c.primary = c.newCredentials(creds.user, creds.password, creds.basic, creds.fixed)
	return c
}

func saveReq() request {
	return request{method: http.MethodPost, path: savePath, body: []byte(`{"verify_input":true,"customers":[{"external_id":"ctTEST-1"}]}`)}
}

func TestClientAuth(t *testing.T) {
	tests := []struct {
		name       string
		creds      credSpec
		reject     int // 401s the server answers first
		advance    time.Duration
		wantStatus int
		wantTokens int // token requests over the two saves
		wantSaves  int
		wantAuth   string // prefix of the last Authorization sent
	}{
		{"token got once and reused", credSpec{user: "u", password: "p"}, 0, 0, 200, 1, 2, "Bearer tok-1"},
		{"token renewed before it expires", credSpec{user: "u", password: "p"}, 0, 59*time.Minute + time.Second, 200, 2, 2, "Bearer tok-2"},
		{"token renewed once on a 401", credSpec{user: "u", password: "p"}, 1, 0, 200, 2, 3, "Bearer tok-2"},
		{"a second 401 in a row is answered, not retried again", credSpec{user: "u", password: "p"}, 2, 0, 401, 2, 3, "Bearer tok-2"},
		{"Basic sends the credentials", credSpec{user: "u", password: "p", basic: true}, 0, 0, 200, 0, 2, "Basic "},
		{"a given token is never renewed", credSpec{fixed: "given"}, 0, 0, 401, 0, 2, "Bearer given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := fakeapi.New(t)
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			c := newTestClient(t, srv, tt.creds, &now)
			x := c.do(context.Background(), saveReq(), "test")
			require.NoError(t, x.Err)
			now = now.Add(tt.advance)
			for range tt.reject {
				f.ScriptSave(fakeapi.Problem(http.StatusUnauthorized, "no"))
			}
			x = c.do(context.Background(), saveReq(), "test")
			require.NoError(t, x.Err)
			assert.Equal(t, tt.wantStatus, x.Status)
			tokens, saves := f.Counts()
			assert.Equal(t, tt.wantTokens, tokens, "token requests")
			assert.Equal(t, tt.wantSaves, saves, "save requests")
			auths := f.Auths()
			assert.True(t, strings.HasPrefix(auths[len(auths)-1], tt.wantAuth), "got %q, want prefix %q", auths[len(auths)-1], tt.wantAuth)
		})
	}
}

func TestClientWrongPasswordSaysWhatToFix(t *testing.T) {
	_, srv := fakeapi.New(t)
	now := time.Now()
	c := newTestClient(t, srv, credSpec{user: "u", password: "secret-wrong"}, &now)
	_, err := c.authorization(context.Background(), c.primary, "setup")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_grant")
	assert.Contains(t, err.Error(), "check the user and password")
	assert.NotContains(t, err.Error(), "secret-wrong", "credentials are never printed")
}

func TestClientGuard(t *testing.T) {
	tests := []struct {
		name       string
		verifyOnly bool
		body       string
		wantErr    string // "" when the body is sent
		wantSent   []string
	}{
		{"prefixed ids pass and are kept for the clean-up", false, `{"customers":[{"external_id":"ctTEST-a"}],"relations":[{"relation_external_id":"ctTEST-r","parent_customer_external_id":"ctTEST-a","child_customer_external_id":"ctTEST-b"}]}`, "", []string{"ctTEST-a", "ctTEST-r"}},
		{"an unprefixed customer id is refused", false, `{"customers":[{"external_id":"cust-1"}]}`, "run prefix", nil},
		{"an unprefixed relation reference is refused", false, `{"relations":[{"relation_external_id":"ctTEST-r","parent_customer_external_id":"prod-42"}]}`, "run prefix", nil},
		{"verify-only refuses a real save", true, `{"customers":[{"external_id":"ctTEST-a"}]}`, "verify-only", nil},
		{"verify-only refuses verify_input: false", true, `{"verify_input":false,"customers":[]}`, "verify-only", nil},
		{"verify-only sends a dry run, keeps nothing for the clean-up", true, `{"verify_input":true,"customers":[{"external_id":"ctTEST-a"}]}`, "", nil},
		{"a dry run keeps nothing for the clean-up", false, `{"verify_input":true,"customers":[{"external_id":"ctTEST-a"}]}`, "", nil},
		{"malformed JSON cannot persist and passes", true, `{"customers":[`, "", nil},
		{"empty ids are sent (the server must reject them)", false, `{"customers":[{"external_id":""},{"external_id":null}]}`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := fakeapi.New(t)
			now := time.Now()
			c := newTestClient(t, srv, credSpec{user: "u", password: "p", basic: true}, &now)
			c.verifyOnly = tt.verifyOnly
			x := c.do(context.Background(), request{method: http.MethodPost, path: savePath, body: []byte(tt.body)}, "test")
			if tt.wantErr != "" {
				require.Error(t, x.Err)
				assert.Contains(t, x.Err.Error(), tt.wantErr)
				_, saves := f.Counts()
				assert.Zero(t, saves, "a refused body is never sent")
				assert.Len(t, c.tally.refused, 1)
				return
			}
			require.NoError(t, x.Err)
			_, saves := f.Counts()
			assert.Equal(t, 1, saves)
			var got []string
			if s := c.tally.sent[c.primary]; s != nil {
				got = append(append(got, s.customers...), s.relations...)
			}
			assert.Equal(t, tt.wantSent, got)
		})
	}
}

func TestClientRetries429(t *testing.T) {
	tests := []struct {
		name      string
		limited   int // 429s before a 200
		wantCalls int
		want      int
	}{
		{"one 429 is retried", 1, 2, http.StatusOK},
		{"retries are bounded", 10, 1 + maxRetries429, http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := fakeapi.New(t)
			limited := fakeapi.Problem(http.StatusTooManyRequests, "slow down")
			limited.Header["Retry-After"] = "0"
			for range tt.limited {
				f.ScriptSave(limited)
				f.ScriptToken(limited)
			}
			now := time.Now()
			c := newTestClient(t, srv, credSpec{user: "u", password: "p", basic: true}, &now)
			x := c.do(context.Background(), saveReq(), "test")
			require.NoError(t, x.Err)
			assert.Equal(t, tt.want, x.Status)
			_, saves := f.Counts()
			assert.Equal(t, tt.wantCalls, saves)

			// The token endpoint too.
			tok, x := c.fetchToken(context.Background(), "u", "p", "test")
			assert.Equal(t, tt.want, x.Status)
			assert.Equal(t, tt.want == http.StatusOK, tok != nil)
			tokens, _ := f.Counts()
			assert.Equal(t, tt.wantCalls, tokens)
		})
	}
}

func TestClientRate(t *testing.T) {
	_, srv := fakeapi.New(t)
	now := time.Now()
	c := newTestClient(t, srv, credSpec{user: "u", password: "p", basic: true}, &now)
	const perSecond, n = 50, 11
	c.lim = rate.NewLimiter(perSecond, 1)
	start := time.Now()
	for i := 0; i < n; i++ {
		require.NoError(t, c.do(context.Background(), saveReq(), "test").Err)
	}
	// A lower bound only: the limiter guarantees it whatever the load.
	min := time.Duration(n-1) * time.Second / perSecond
	assert.GreaterOrEqual(t, time.Since(start), min*9/10)
}

func TestExchangeTextRedacts(t *testing.T) {
	x := &exchange{
		Method: http.MethodPost, Path: tokenPath,
		ReqHeader: http.Header{"Authorization": {"Basic dTpw"}, "Content-Type": {"application/json"}},
		ReqBody:   []byte(`{"grant_type":"password","username":"api@acme.example","password":"s3cret"}`),
		Status:    200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"access_token":"9f2c4e1a","token_type":"Bearer","expires_in":3600}`),
	}
	text := x.RequestText() + x.ResponseText()
	for _, secret := range []string{"dTpw", "api@acme.example", "s3cret", "9f2c4e1a"} {
		assert.NotContains(t, text, secret)
	}
	assert.Contains(t, text, "Basic <redacted>")
	assert.Contains(t, text, "expires_in")
	form := &exchange{Method: http.MethodPost, Path: tokenPath, ReqBody: []byte("grant_type=password&username=a%40b&password=pw")}
	assert.NotContains(t, form.RequestText(), "pw&")
	assert.NotContains(t, form.RequestText(), "a%40b")
}

// FuzzRedactBody: whatever a token endpoint answers, the text shown for
// people never holds the access token, the password or the username.
func FuzzRedactBody(f *testing.F) {
	f.Add([]byte(`{"access_token":"SECRETVALUE","token_type":"Bearer","expires_in":3600}`))
	f.Add([]byte(`{"grant_type":"password","username":"SECRETVALUE","password":"SECRETVALUE"}`))
	f.Add([]byte(`grant_type=password&username=SECRETVALUE&password=SECRETVALUE`))
	f.Add([]byte(`{"access_token":["SECRETVALUE"]}`))
	f.Add([]byte(`not json SECRETVALUE`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := redactBody(tokenPath, body)
		var in map[string]any
		if json.Unmarshal(body, &in) == nil {
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("redacted JSON does not decode: %v: %s", err, out)
			}
			for k := range secretKeys {
				if _, ok := in[k]; ok && got[k] != "<redacted>" {
					t.Fatalf("the value of %q is shown: %s", k, out)
				}
			}
			return
		}
		if string(out) == "<redacted>" {
			return
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("a body that is neither JSON nor a form is shown: %s", out)
		}
		got, _ := url.ParseQuery(string(out))
		for k := range q {
			if !formKeys[k] {
				t.Fatalf("a form with the unknown key %q is shown: %s", k, out)
			}
			if secretKeys[k] && got.Get(k) != "<redacted>" {
				t.Fatalf("the value of %q is shown: %s", k, out)
			}
		}
	})
}
