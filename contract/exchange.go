package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxReportBody is how much of each request and response body the JSON
// report keeps of a failing check's exchanges (1 MiB); the body's length as
// sent or received is kept beside it. Only the oversized-body check sends
// more.
const MaxReportBody = 1 << 20

// maxReportExchanges is how many exchanges a failing check keeps, the last
// ones (a generative check keeps those of its failing case only).
const maxReportExchanges = 100

// Exchange is one request a failing check sent and the answer it got, whole
// but for credentials, as the JSON report keeps it: enough to read the
// failure, to paste it into a shell (Curl) and to send it again
// (algoreg-kit contract --replay).
type Exchange struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Auth says whose credentials the request carried: "primary" (the
	// run's user or token), "second" (the second business's), "none", or
	// "made-up" (a value the check made up, kept in RequestHeaders). The
	// credentials themselves are never kept: Authorization shows as
	// "Bearer <redacted>", and the user and password of a token request as
	// the ${ALGOREG_USER} and ${ALGOREG_PASSWORD} placeholders (the second
	// business's as ${ALGOREG_CONTRACT_SECOND_USER} and
	// ${ALGOREG_CONTRACT_SECOND_PASSWORD}, the lockout account's as
	// ${ALGOREG_CONTRACT_LOCKOUT_USER} and ${ALGOREG_CONTRACT_LOCKOUT_PASSWORD});
	// tokens in answers as <redacted>.
	Auth           string      `json:"auth"`
	RequestHeaders http.Header `json:"request_headers"`
	// RequestBody is the body as sent (with placeholders for credentials),
	// up to MaxReportBody bytes; RequestBodyBytes its whole length as sent,
	// and RequestBodyCut says whether the report cut it.
	RequestBody      string `json:"request_body,omitempty"`
	RequestBodyBytes int    `json:"request_body_bytes"`
	RequestBodyCut   bool   `json:"request_body_cut,omitempty"`
	// Status is 0 when there was no answer; Error then says why.
	Status            int         `json:"status,omitempty"`
	ResponseHeaders   http.Header `json:"response_headers,omitempty"`
	ResponseBody      string      `json:"response_body,omitempty"`
	ResponseBodyBytes int         `json:"response_body_bytes"`
	ResponseBodyCut   bool        `json:"response_body_cut,omitempty"`
	Error             string      `json:"error,omitempty"`
	// Failed: a failure of the check is about this exchange (the others
	// are the steps before it).
	Failed bool `json:"failed,omitempty"`
	// Curl sends the request again from a shell, the credentials read from
	// the environment variables of the placeholders (ALGOREG_TOKEN: a token
	// of the primary user, from the token endpoint).
	Curl string `json:"curl"`
}

// Truncated reports whether the report cut the request body.
func (e Exchange) Truncated() bool { return e.RequestBodyCut }

// The placeholders of credentials in reports and curl commands: environment
// variables, the names the command reads.
const (
	phUser         = "${ALGOREG_USER}"
	phPassword     = "${ALGOREG_PASSWORD}"
	phToken        = "${ALGOREG_TOKEN}"
	phSecondUser   = "${ALGOREG_CONTRACT_SECOND_USER}"
	phSecondPass   = "${ALGOREG_CONTRACT_SECOND_PASSWORD}"
	phSecondToken  = "${ALGOREG_CONTRACT_SECOND_TOKEN}"
	phLockoutUser  = "${ALGOREG_CONTRACT_LOCKOUT_USER}"
	phLockoutPass  = "${ALGOREG_CONTRACT_LOCKOUT_PASSWORD}"
	redactedSecret = "<redacted>"
)

var placeholderRE = regexp.MustCompile(`\$\{ALGOREG_(USER|PASSWORD|TOKEN|CONTRACT_SECOND_USER|CONTRACT_SECOND_PASSWORD|CONTRACT_SECOND_TOKEN|CONTRACT_LOCKOUT_USER|CONTRACT_LOCKOUT_PASSWORD)\}`)

// record turns x into the report's Exchange: credentials replaced, bodies cut
// at MaxReportBody, a curl command.
func (r *runner) record(x *exchange, failed bool) Exchange {
	e := Exchange{
		Method: x.Method, URL: r.cfg.Target + x.Path, Auth: x.Auth, RequestHeaders: http.Header{},
		RequestBodyBytes: len(x.ReqBody), Status: x.Status, ResponseBodyBytes: len(x.Body), Failed: failed,
	}
	for k, vs := range x.ReqHeader {
		if strings.EqualFold(k, "Authorization") && x.Auth != authFixed {
			vs = []string{redactHeader(k, x.ReqHeader.Get(k))}
		}
		e.RequestHeaders[k] = slices.Clone(vs)
	}
	reqBody, respBody := x.ReqBody, x.Body
	if x.Path == tokenPath {
		reqBody, respBody = r.placeholders(reqBody), redactTokens(respBody)
	}
	e.RequestBody, e.RequestBodyCut = cut(reqBody)
	e.ResponseBody, e.ResponseBodyCut = cut(respBody)
	if x.Header != nil {
		e.ResponseHeaders = x.Header.Clone()
	}
	if x.Err != nil {
		e.Error = x.Err.Error()
	}
	e.Curl = e.curl()
	return e
}

// placeholders replaces, in a token request's JSON body, the values that are
// credentials of the run by their placeholders; made-up users and
// passwords (the wrong-password checks') stay. A body that is not a JSON
// object is dropped whole.
func (r *runner) placeholders(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return []byte(redactedSecret)
	}
	known := map[string]string{}
	if p := r.client.primary; p != nil {
		known[p.user], known[p.password] = phUser, phPassword
	}
	if s := r.second; s != nil {
		known[s.user], known[s.password] = phSecondUser, phSecondPass
	}
	known[r.cfg.LockoutUser], known[r.cfg.LockoutPassword] = phLockoutUser, phLockoutPass
	delete(known, "")
	for k, v := range m {
		if s, ok := v.(string); ok && secretKeys[k] {
			if ph, ok := known[s]; ok {
				m[k] = ph
			}
		}
	}
	out, _ := json.Marshal(m)
	return out
}

// redactTokens hides the tokens of a token response.
func redactTokens(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		if _, ok := m[k]; ok {
			m[k] = redactedSecret
		}
	}
	out, _ := json.Marshal(m)
	return out
}

// cut returns b as text, at most MaxReportBody bytes of it, not in the
// middle of a UTF-8 sequence, and whether it cut.
func cut(b []byte) (string, bool) {
	if len(b) <= MaxReportBody {
		return string(b), false
	}
	n := MaxReportBody
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]), true
}

// curl returns the shell command that sends e's request again.
func (e Exchange) curl() string {
	args := []string{"curl", "-sS", "-i", "-X", e.Method, shellQuote(e.URL)}
	for _, k := range sortedKeys(e.RequestHeaders) {
		if strings.EqualFold(k, "Authorization") && e.Auth != authFixed {
			continue
		}
		for _, v := range e.RequestHeaders[k] {
			args = append(args, "-H", shellQuote(k+": "+v))
		}
	}
	scheme, _, _ := strings.Cut(e.RequestHeaders.Get("Authorization"), " ")
	switch {
	case e.Auth == authPrimary && scheme == "Basic":
		args = append(args, "-u", shellQuote(phUser+":"+phPassword))
	case e.Auth == authPrimary && scheme == "Bearer":
		args = append(args, "-H", shellQuote("Authorization: Bearer "+phToken))
	case e.Auth == authSecond && scheme == "Basic":
		args = append(args, "-u", shellQuote(phSecondUser+":"+phSecondPass))
	case e.Auth == authSecond && scheme == "Bearer":
		args = append(args, "-H", shellQuote("Authorization: Bearer "+phSecondToken))
	}
	switch {
	case e.Truncated():
		args = append(args, "--data-binary", "@body.json", fmt.Sprintf("# the report keeps the first %d of the body's %d bytes: put the whole body in body.json", len(e.RequestBody), e.RequestBodyBytes))
	case e.RequestBodyBytes > 0:
		args = append(args, "--data-binary", shellQuoteJSON(e.RequestBody))
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell, in single quotes, but for the
// credentials' placeholders, which it leaves to the shell to expand:
// 'Authorization: Bearer '"${ALGOREG_TOKEN}".
func shellQuote(s string) string {
	return quoteAround(s, func(ph string) string { return `"` + ph + `"` })
}

// shellQuoteJSON is shellQuote for a JSON body: a placeholder stands inside
// a JSON string there, so the shell expands it with its backslashes and
// double quotes escaped, and a password such as a"b\c still makes a valid
// body ('{"password":"'"$(printf %s "${ALGOREG_PASSWORD}" | sed …)"'"}').
// Control characters in a credential are not escaped: such a body needs
// --replay, which escapes everything.
func shellQuoteJSON(s string) string {
	return quoteAround(s, func(ph string) string {
		return `"$(printf %s "` + ph + `" | sed 's/[\\"]/\\&/g')"`
	})
}

// quoteAround single-quotes the parts of s between the credentials'
// placeholders and writes each placeholder as expand gives it.
func quoteAround(s string, expand func(ph string) string) string {
	var b strings.Builder
	last := 0
	quote := func(part string) {
		if part != "" {
			b.WriteString("'" + strings.ReplaceAll(part, "'", `'\''`) + "'")
		}
	}
	for _, m := range placeholderRE.FindAllStringIndex(s, -1) {
		quote(s[last:m[0]])
		b.WriteString(expand(s[m[0]:m[1]]))
		last = m[1]
	}
	quote(s[last:])
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}
