package contract

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExchangeCurl: the report's curl command of an exchange, run by a real
// shell and curl, sends the request the suite sent (method, path, content
// type, body byte for byte, the credentials from the environment), and the
// report keeps no credential.
func TestExchangeCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine")
	}
	type got struct {
		method, path, ct, auth string
		body                   []byte
		user, pass             string
		basic                  bool
	}
	gotc := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, basic := r.BasicAuth()
		gotc <- got{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b, u, p, basic}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	now := time.Now()
	const user, pass = "api@acme.example", `s3cret 'quoted' $HOME "dq" \\ \n`
	const lockUser, lockPass = "lock@acme.example", "may-be-locked '$1'"
	tests := []struct {
		name     string
		creds    credSpec
		req      request
		wantAuth string // the Authorization header curl sends ("" to check Basic)
		wantBody string // "" for the request's own
	}{
		{"bearer save with quotes in the body", credSpec{user: user, password: pass, fixed: "tok-from-env"}, request{method: http.MethodPost, path: savePath,
			body: []byte(`{"customers":[{"external_id":"ctTEST-1","last_name":"O'Brien \"the $1\" \\ é"}]}`)}, "Bearer tok-from-env", ""},
		{"basic save", credSpec{user: user, password: pass, basic: true}, request{method: http.MethodPost, path: savePath, body: []byte(`{"verify_input":true,"customers":[]}`)}, "", ""},
		{"made-up credentials kept", credSpec{user: user, password: pass, fixed: "tok-from-env"}, request{method: http.MethodPost, path: savePath, body: []byte(`{}`), auth: authMadeUp, rawAuth: "Bearer not-a-token-ctTEST-"}, "Bearer not-a-token-ctTEST-", ""},
		{"token request", credSpec{user: user, password: pass, fixed: "tok-from-env"}, request{method: http.MethodPost, path: tokenPath, auth: authNone,
			body: tokenBody(user, pass)}, "", ""},
		{"token request of the lockout account", credSpec{user: user, password: pass, fixed: "tok-from-env"}, request{method: http.MethodPost, path: tokenPath, auth: authNone,
			body: tokenBody(lockUser, lockPass)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, srv, tt.creds, &now)
			r := &runner{cfg: Config{Target: srv.URL, User: user, Password: pass, LockoutUser: lockUser, LockoutPassword: lockPass}, client: c}
			x := c.do(t.Context(), tt.req, "test")
			<-gotc
			e := r.record(x, true)
			for _, secret := range []string{pass, "tok-from-env", "may-be-locked", lockUser} {
				assert.NotContains(t, e.Curl+e.RequestBody+e.RequestHeaders.Get("Authorization"), secret, "the report holds a credential")
			}
			cmd := exec.Command("sh", "-c", e.Curl)
			cmd.Env = append(os.Environ(), "ALGOREG_USER="+user, "ALGOREG_PASSWORD="+pass, "ALGOREG_TOKEN=tok-from-env",
				"ALGOREG_CONTRACT_LOCKOUT_USER="+lockUser, "ALGOREG_CONTRACT_LOCKOUT_PASSWORD="+lockPass)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s\n%s", e.Curl, out)
			g := <-gotc
			assert.Equal(t, tt.req.method, g.method)
			assert.Equal(t, tt.req.path, g.path)
			assert.Equal(t, "application/json", g.ct)
			assert.Equal(t, string(tt.req.body), string(g.body), "the body, byte for byte")
			if tt.wantAuth != "" {
				assert.Equal(t, tt.wantAuth, g.auth)
			} else if tt.req.auth != authNone {
				assert.True(t, g.basic && g.user == user && g.pass == pass, "Basic %s:%s", g.user, g.pass)
			}
		})
	}
}

// tokenBody is the JSON body of a password grant, as the suite sends it.
func tokenBody(user, pass string) []byte {
	b, err := json.Marshal(map[string]string{"grant_type": "password", "password": pass, "username": user})
	if err != nil {
		panic(err)
	}
	return b
}

// TestExchangeCutsLongBodies: a body beyond MaxReportBody is kept up to it,
// with its length, and its curl command reads the whole body from a file.
func TestExchangeCutsLongBodies(t *testing.T) {
	body := append([]byte(`{"comment":"`), bytes.Repeat([]byte("é"), MaxReportBody)...)
	r := &runner{cfg: Config{Target: "http://127.0.0.1:1"}, client: &client{}}
	e := r.record(&exchange{Method: http.MethodPost, Path: savePath, ReqBody: body, ReqHeader: http.Header{}, Status: 413, Body: []byte("{}"), Auth: authPrimary}, true)
	assert.True(t, e.Truncated())
	assert.Equal(t, len(body), e.RequestBodyBytes)
	assert.LessOrEqual(t, len(e.RequestBody), MaxReportBody)
	assert.True(t, strings.HasSuffix(e.RequestBody, "é"), "cut between characters")
	assert.Contains(t, e.Curl, "--data-binary @body.json # the report keeps the first")
}

// A replayed request carries the headers its check added (Content-Encoding)
// and not those the client sets itself.
func TestReplayRequestKeepsCheckHeaders(t *testing.T) {
	r := &runner{cfg: Config{Target: "http://127.0.0.1:1"}, client: &client{}, prefix: "ctNEW-"}
	e := Exchange{Method: http.MethodPost, URL: "http://127.0.0.1:1" + savePath, Auth: authPrimary, RequestBody: `{"customers":[]}`, RequestBodyBytes: 16,
		RequestHeaders: http.Header{"Authorization": {"Bearer <redacted>"}, "Content-Type": {"application/json"}, "Accept": {"application/json"}, "Content-Encoding": {"br"}}}
	req, why := r.replayRequest(e, "ctOLD-")
	require.Empty(t, why)
	assert.Equal(t, http.Header{"Content-Encoding": {"br"}}, req.header)
	e.RequestHeaders.Del("Content-Encoding")
	req, _ = r.replayRequest(e, "ctOLD-")
	assert.Nil(t, req.header)
}
