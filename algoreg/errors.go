package algoreg

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// ErrNoCredentials is New's error when no option gave credentials.
var ErrNoCredentials = errors.New("algoreg: no credentials: give WithPasswordGrant, WithBasicAuth or WithBearerToken")

// Error is an answer the Client cannot use: a status other than 200 from the
// save or the token endpoint, after the retries. errors.As finds it in the
// errors of Save, also behind "gave up after N attempts".
type Error struct {
	// Method and URL are the request's (never its credentials).
	Method, URL string
	StatusCode  int
	// Problem is the problem-details body (RFC 9457), when the answer has one.
	Problem *openapi.Problem
	// OAuth is the token endpoint's error body (RFC 6749 section 5.2), when
	// the answer has one.
	OAuth *openapi.OAuthError
	// Body is the start of a body that is neither (never the token
	// endpoint's).
	Body string
	// Hint says what to do, when the client can tell.
	Hint string
}

// Error reads "POST https://…/api/v1/token answered 400 Bad Request:
// invalid_grant (…); check the user and password".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s answered %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Problem != nil && e.Problem.Detail != "":
		b.WriteString(": " + e.Problem.Detail)
	case e.Problem != nil && e.Problem.Title != "":
		b.WriteString(": " + e.Problem.Title)
	case e.OAuth != nil:
		b.WriteString(": " + e.OAuth.Error)
		if e.OAuth.ErrorDescription != "" {
			b.WriteString(" (" + e.OAuth.ErrorDescription + ")")
		}
	case e.Body != "":
		b.WriteString(": " + e.Body)
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

// showBody bounds how much of an unknown body an Error keeps.
const showBody = 200

// newError builds the Error of an answer to path, with what to do.
func (c *Client) newError(path string, status int, body []byte) *Error {
	e := &Error{Method: http.MethodPost, URL: c.base + path, StatusCode: status}
	var p openapi.Problem
	var oe openapi.OAuthError
	switch {
	case json.Unmarshal(body, &p) == nil && (p.Type != "" || p.Title != "" || p.Detail != ""):
		e.Problem = &p
	case path == TokenPath && json.Unmarshal(body, &oe) == nil && oe.Error != "":
		e.OAuth = &oe
	case path != TokenPath:
		e.Body = strings.TrimSpace(string(body[:min(len(body), showBody)]))
	}
	e.Hint = c.hint(path, e)
	return e
}

// hint says what to do about e, or "".
func (c *Client) hint(path string, e *Error) string {
	switch {
	case e.StatusCode == http.StatusNotFound && c.path != "",
		e.StatusCode == http.StatusUnauthorized && strings.Contains(c.path, "/api/v1"):
		// The client appends /api/v1/…: a base URL that has it already is the
		// mistake to fix first, whatever else the answer says.
		return c.pathHint()
	case e.StatusCode == http.StatusNotFound && path == TokenPath:
		return "the target has no token endpoint; try Basic auth (WithBasicAuth)"
	case e.StatusCode == http.StatusNotFound:
		return "the target has no Save customers endpoint at " + SavePath + "; check the base URL"
	case path == TokenPath && (e.StatusCode == http.StatusUnauthorized || e.OAuth != nil &&
		(e.OAuth.Error == "invalid_grant" || e.OAuth.Error == "invalid_client" || e.OAuth.Error == "unauthorized_client")):
		return "check the user and password"
	case path == SavePath && e.StatusCode == http.StatusUnauthorized:
		if h, ok := c.auth.(hinter); ok {
			return h.refusedHint()
		}
		return "check the credentials"
	case e.StatusCode == http.StatusRequestEntityTooLarge:
		return "send fewer customers per request"
	}
	return ""
}

// pathHint is the hint of a 404 when the base URL has a path.
func (c *Client) pathHint() string {
	root := strings.TrimSuffix(c.base, c.path)
	if i := strings.Index(c.path, "/api/"); i >= 0 {
		return fmt.Sprintf("the base URL must not include /api/v1 (the client adds %s itself): try %s", SavePath, root+c.path[:i])
	}
	return fmt.Sprintf("the base URL must not include /api/v1, nor a path where the API is not mounted: try %s", root)
}

// DecodeSaveResponse reads a Save customers 200 body. It is strict enough
// to notice a server that answers something else: added, detail and status
// must be there.
func DecodeSaveResponse(b []byte) (*openapi.SaveCustomersResponse, error) {
	var out struct {
		openapi.SaveCustomersResponse
		Added  *json.RawMessage `json:"added"`
		Detail *json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(b, &out.SaveCustomersResponse); err != nil {
		return nil, fmt.Errorf("the answer is not a Save customers response: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Added == nil || out.Detail == nil || out.Status == "" {
		return nil, errors.New("the answer is not a Save customers response: added, detail or status is missing")
	}
	return &out.SaveCustomersResponse, nil
}
