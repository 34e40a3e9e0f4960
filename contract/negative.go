package contract

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// unitsPerCode is how many labelled invalid units each code's check sends,
// one request each, so that the fixtures' variants of a defect (a missing and
// an empty id, a bad parent and a bad child, …) are all tried.
const unitsPerCode = 3

// codeChecks returns one check per code of rules.Catalogue: a new code gets
// its check without any change here.
func codeChecks() []Check {
	var out []Check
	for _, c := range rules.Catalogue {
		code := c
		verb := "rejects the record with the error"
		if code.Severity == rules.Warning {
			verb = "saves the record with the warning"
		}
		out = append(out, Check{
			ID:          "negative/code/" + code.Code,
			Description: fmt.Sprintf("%s (%s): %s %s under the record's own id", code.Summary, code.Record, verb, code.Code),
			run:         func(t *checkT) { checkCode(t, code) },
		})
	}
	return out
}

func checkCode(t *checkT, code rules.Code) {
	if t.unknowable(code.Code) {
		t.Skipf("%s needs the server's list of %s; the suite does not know it (give the server's rules)", code.Code, code.Rule)
	}
	g := t.gen(0)
	rc := t.r.serverRules()
	for i := 0; i < unitsPerCode; i++ {
		u := t.invalid(g, code.Code, i)
		if len(u.Customers) > rc.MaxBatch || len(u.Relations) > rc.MaxRelations {
			t.Skipf("the labelled record of %s comes with %d customers and %d relations; the server's limits are %d and %d per request", code.Code, len(u.Customers), len(u.Relations), rc.MaxBatch, rc.MaxRelations)
		}
		resp, x := t.Save(unitRequest(u))
		t.expectLabels(u, resp, x)
	}
}

// expectLabels checks a response against a unit's labels: each labelled
// record has a detail entry under its own id with the code, as an error or a
// warning as labelled; a record with an error is not added, one with only
// warnings is; the status follows.
func (t *checkT) expectLabels(u fixtures.Unit, resp *openapi.SaveCustomersResponse, x *exchange) {
	det := details(resp)
	added := addedIDs(resp)
	for _, e := range u.Expect {
		d, ok := det[e.ExternalID]
		if !ok {
			t.Errorf(x, "a detail entry under %s id %q with the %s %s, got entries for %v", e.Record, e.ExternalID, e.Severity, e.Code, list(detailIDs(resp)))
			continue
		}
		msgs, other := d.Errors, d.Warnings
		if e.Severity == rules.Warning {
			msgs, other = d.Warnings, d.Errors
		}
		if !hasCode(msgs, e.Code) {
			where := "errors"
			if e.Severity == rules.Warning {
				where = "warnings"
			}
			t.Errorf(x, "%s among the %s of %q, got errors %v, warnings %v", e.Code, where, e.ExternalID, codes(d.Errors), codes(d.Warnings))
		}
		if hasCode(other, e.Code) {
			t.Errorf(x, "%s to be a%s, not listed as the other severity for %q", e.Code, map[rules.Severity]string{rules.Error: "n error", rules.Warning: " warning"}[e.Severity], e.ExternalID)
		}
		for _, m := range append(append([]openapi.Message{}, d.Errors...), d.Warnings...) {
			if strings.TrimSpace(m.Detail) == "" {
				t.Errorf(x, "a sentence in the detail of %s for %q", m.Code, e.ExternalID)
			}
		}
		if e.Record != rules.CustomerRecord || e.ExternalID == "" {
			continue
		}
		_, inAdded := added[e.ExternalID]
		switch {
		case e.Code == rules.ExternalIDDuplicate:
			// The first copy is saved (and added when new); the second is
			// rejected under the same id.
		case len(d.Errors) > 0:
			if inAdded {
				t.Errorf(x, "%q, rejected with %v, not in added", e.ExternalID, codes(d.Errors))
			}
		case !t.VerifyOnly() && !inAdded:
			t.Errorf(x, "%q, saved with only warnings (%v), in added", e.ExternalID, codes(d.Warnings))
		}
	}
	hasError := false
	for _, d := range resp.Detail {
		if len(d.Errors) > 0 {
			hasError = true
		}
	}
	wantError := false
	for _, e := range u.Expect {
		if e.Severity == rules.Error {
			wantError = true
		}
	}
	switch {
	case wantError && resp.Status == openapi.StatusOK:
		t.Errorf(x, "status partial or failed when a record is rejected, got ok")
	case !wantError && !hasError && resp.Status != openapi.StatusOK:
		t.Errorf(x, "status ok when records have only warnings, got %q", resp.Status)
	}
}

func authChecks() []Check {
	return []Check{
		{ID: "negative/auth/no-credentials-401", Description: "a save without credentials is answered 401 with WWW-Authenticate", run: checkNoCredentials},
		{ID: "negative/auth/wrong-password-401", Description: "a save with a wrong Basic user and password is answered 401", run: checkWrongPassword},
		{ID: "negative/auth/garbage-token-401", Description: "a save with a bearer token the server never issued is answered 401", run: checkGarbageToken},
		{ID: "negative/auth/token-grant", Description: "the token endpoint gives a bearer token for the user (no-store), and the token works on a save", run: checkTokenGrant},
		{ID: "negative/auth/token-wrong-password-400", Description: "the token endpoint answers a wrong user and password 400 invalid_grant", run: checkTokenWrongPassword},
		{ID: "negative/auth/token-unsupported-grant-400", Description: "the token endpoint answers a grant other than password 400 unsupported_grant_type", run: checkTokenUnsupportedGrant},
		{ID: "negative/auth/token-missing-parameter-400", Description: "the token endpoint answers a password grant without a password 400 invalid_request", run: checkTokenMissingParameter},
		{ID: "negative/auth/token-malformed-400", Description: "the token endpoint answers a body that is not well-formed JSON 400 invalid_request", run: checkTokenMalformed},
		{ID: "negative/auth/token-form-415", Description: "the token endpoint answers a form-encoded body 415 (the document takes JSON only)", run: checkTokenForm},
		{ID: "negative/auth/lockout", Description: "with --lockout-user: a wrong password is answered as an unknown user is, and after the lockout threshold of them the right password gets no token", run: checkLockout},
		{ID: "negative/auth/basic-accepted", Description: "HTTP Basic with the user's credentials works on a save", run: checkBasicAccepted},
	}
}

// probeBody is a save that can persist nothing: verify_input: true and a
// record without account_type.
func (t *checkT) probeBody() []byte {
	return []byte(fmt.Sprintf(`{"verify_input":true,"customers":[{"external_id":%q}]}`, t.NewID("probe")))
}

func (t *checkT) expect401(x *exchange, what string) {
	if x.Status != http.StatusUnauthorized {
		t.Errorf(x, "401 for %s", what)
		return
	}
	if x.Header.Get("WWW-Authenticate") == "" {
		t.Errorf(x, "a WWW-Authenticate header naming the accepted schemes with the 401")
	}
	t.expectProblem(x)
}

// expectProblem checks an error answer's media type and problem body.
func (t *checkT) expectProblem(x *exchange) {
	if ct := x.Header.Get("Content-Type"); !strings.HasPrefix(ct, openapi.ProblemContentType) {
		t.Errorf(x, "Content-Type %s on an error, got %q", openapi.ProblemContentType, ct)
		return
	}
	var p openapi.Problem
	if err := json.Unmarshal(x.Body, &p); err != nil || p.Status != x.Status {
		t.Errorf(x, "a problem body whose status is the response's %d", x.Status)
	}
}

func checkNoCredentials(t *checkT) {
	x := t.Do(request{method: http.MethodPost, path: savePath, body: t.probeBody(), auth: authNone})
	t.expect401(x, "a request without credentials")
}

// otherUser is the user of the wrong-password checks: one that exists on no
// server, and a different one for each check (so that no check's wrong
// password counts towards another's lockout), so that the suite never counts towards locking out the real
// programmatic user (the vendor locks an account after repeated wrong
// passwords).
func (t *checkT) otherUser() string {
	return strings.TrimSuffix(t.prefix, "-") + "@contract.invalid"
}

// openMode skips the check when the mock accepted made-up credentials and
// says at GET /__admin/config that it runs in open mode (no users file),
// where any password is accepted. A mock with a users file that accepts them
// fails the check.
func (t *checkT) openMode(x *exchange) {
	if !t.Mock() || x.Status != http.StatusOK {
		return
	}
	c := t.Do(request{method: http.MethodGet, path: openapi.ConfigPath})
	var cfg struct {
		Auth struct {
			OpenMode bool `json:"open_mode"`
		} `json:"auth"`
	}
	if c.Status == http.StatusOK && json.Unmarshal(c.Body, &cfg) == nil && cfg.Auth.OpenMode {
		t.Skipf("the mock runs in open mode (no users file): it accepts any user and password")
	}
}

func checkWrongPassword(t *checkT) {
	raw := "Basic " + base64.StdEncoding.EncodeToString([]byte(t.otherUser()+":wrong-"+t.prefix))
	x := t.Do(request{method: http.MethodPost, path: savePath, body: t.probeBody(), auth: authMadeUp, rawAuth: raw})
	t.openMode(x)
	t.expect401(x, "a wrong password")
}

func checkGarbageToken(t *checkT) {
	x := t.Do(request{method: http.MethodPost, path: savePath, body: t.probeBody(), auth: authMadeUp, rawAuth: "Bearer not-a-token-" + t.prefix})
	t.expect401(x, "a token the server never issued")
}

func (t *checkT) needUser() {
	if t.r.cfg.User == "" {
		t.Skipf("needs a user and password (the run uses a given token)")
	}
}

func checkTokenGrant(t *checkT) {
	t.needUser()
	tok, x := t.r.client.fetchToken(t.ctx, t.r.cfg.User, t.r.cfg.Password, t.id)
	t.nsent.Add(1)
	t.keep(x)
	t.checkExchange(x)
	if tok == nil {
		t.Fatalf(x, "200 with an access token for the configured user")
	}
	if tok.TokenType != "Bearer" {
		t.Errorf(x, "token_type Bearer, got %q", tok.TokenType)
	}
	if cc := x.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf(x, "Cache-Control: no-store on a token response (RFC 6749 5.1), got %q", cc)
	}
	x = t.Do(request{method: http.MethodPost, path: savePath, body: t.probeBody(), auth: authRaw, rawAuth: "Bearer " + tok.AccessToken})
	if x.Status != http.StatusOK {
		t.Errorf(x, "200 for a save with the token just issued")
	}
}

// tokenRequest posts fields to the token endpoint as the JSON body the
// vendor documents.
func (t *checkT) tokenRequest(fields map[string]string) *exchange {
	body, _ := json.Marshal(fields)
	return t.Do(request{method: http.MethodPost, path: tokenPath, body: body, contentType: "application/json", auth: authNone})
}

func (t *checkT) expectOAuthError(x *exchange, code string) {
	var oe openapi.OAuthError
	if x.Status != http.StatusBadRequest || json.Unmarshal(x.Body, &oe) != nil || oe.Error != code {
		t.Errorf(x, "400 with the OAuth2 error %s", code)
	}
}

func checkTokenWrongPassword(t *checkT) {
	x := t.tokenRequest(map[string]string{"grant_type": "password", "username": t.otherUser(), "password": "wrong-" + t.prefix})
	t.openMode(x)
	t.expectOAuthError(x, "invalid_grant")
}

// defaultLockoutThreshold is the wrong passwords in a row the lockout check
// sends a target that is not the mock (the mock's default; the mock says its
// own at GET /__admin/config).
const defaultLockoutThreshold = 5

// checkLockout locks the sacrificial account of Config.LockoutUser: it stays
// locked for the target's lockout duration (the suite does not unlock it).
func checkLockout(t *checkT) {
	user, pass := t.r.cfg.LockoutUser, t.r.cfg.LockoutPassword
	if user == "" {
		t.Skipf("needs --lockout-user and --lockout-password (Config.LockoutUser): an account of the target's --users that the suite may lock; never give a real one")
	}
	threshold := defaultLockoutThreshold
	if t.Mock() {
		c := t.Do(request{method: http.MethodGet, path: openapi.ConfigPath})
		var cfg struct {
			Auth struct {
				OpenMode  bool `json:"open_mode"`
				Threshold int  `json:"lockout_threshold"`
			} `json:"auth"`
		}
		if c.Status == http.StatusOK && json.Unmarshal(c.Body, &cfg) == nil {
			if cfg.Auth.OpenMode {
				t.Skipf("the mock runs in open mode (no users file): no account locks")
			}
			if cfg.Auth.Threshold > 0 {
				threshold = cfg.Auth.Threshold
			}
		}
	}
	grant := func(u, p string) *exchange {
		return t.tokenRequest(map[string]string{"grant_type": "password", "username": u, "password": p})
	}
	if x := grant(user, pass); x.Status != http.StatusOK {
		t.Errorf(x, "200 with a token for the lockout user's right password (is it an account of the target's --users, and not locked by an earlier run?)")
		return
	}
	unknown := grant(t.otherUser(), "wrong-"+t.prefix)
	wrong := grant(user, "wrong-"+t.prefix)
	if unknown.Status != wrong.Status || !bytes.Equal(unknown.Body, wrong.Body) {
		t.Errorf(wrong, "the answer an unknown user gets (%d %s): the answer must not tell whether an account exists", unknown.Status, unknown.Body)
		return
	}
	for i := 1; i < threshold; i++ {
		grant(user, "wrong-"+t.prefix)
	}
	x := grant(user, pass)
	t.expectOAuthError(x, "invalid_grant")
}

func checkTokenUnsupportedGrant(t *checkT) {
	x := t.tokenRequest(map[string]string{"grant_type": "client_credentials", "client_id": t.otherUser(), "client_secret": "x"})
	t.expectOAuthError(x, "unsupported_grant_type")
}

func checkTokenMissingParameter(t *checkT) {
	x := t.tokenRequest(map[string]string{"grant_type": "password", "username": t.otherUser()})
	t.expectOAuthError(x, "invalid_request")
}

func checkTokenMalformed(t *checkT) {
	x := t.Do(request{method: http.MethodPost, path: tokenPath, body: []byte(`{"grant_type":"password","username":`), contentType: "application/json", auth: authNone})
	t.expectOAuthError(x, "invalid_request")
}

func checkTokenForm(t *checkT) {
	body := "grant_type=password&username=" + url.QueryEscape(t.otherUser()) + "&password=wrong-" + url.QueryEscape(t.prefix)
	x := t.Do(request{method: http.MethodPost, path: tokenPath, body: []byte(body), contentType: "application/x-www-form-urlencoded", auth: authNone})
	if x.Status != http.StatusUnsupportedMediaType {
		t.Errorf(x, "415 for a form-encoded token request (the document takes application/json)")
		return
	}
	t.expectProblem(x)
}

func checkBasicAccepted(t *checkT) {
	t.needUser()
	raw := "Basic " + base64.StdEncoding.EncodeToString([]byte(t.r.cfg.User+":"+t.r.cfg.Password))
	x := t.Do(request{method: http.MethodPost, path: savePath, body: t.probeBody(), auth: authRaw, rawAuth: raw})
	if x.Status != http.StatusOK {
		t.Errorf(x, "200 for a save with the user's credentials as HTTP Basic")
	}
}
