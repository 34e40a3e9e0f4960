package mockserver

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// observe records a request that logRequests saw answered with status
// (statusAborted: closed without an answer) in the metrics and, for a
// request of a business to the vendor's paths, in the journal. The note
// tells it the route, the business and what a save answered; sw and cb kept
// the first Config.JournalBodyBytes of the bodies as they passed.
func (s *Server) observe(r *http.Request, sw *statusWriter, cb *captureBody, note *logNote, status int, start time.Time) {
	d := time.Since(start)
	s.metrics.observeRequest(note.route, status, d, note.saveResp)
	if s.journal != nil && note.business != "" && !strings.HasPrefix(r.URL.Path, "/__admin/") {
		s.journalRequest(r, sw, cb, note, status, start, d)
	}
}

// statusAborted is the status the request log, the journal and the
// metrics give a request whose connection the mock took over or closed
// without an answer of its own (an injected fault: reset, empty, truncated,
// malformed).
const statusAborted = 0

// journalKeep is how much of each body the journal keeps (0 without it).
func (s *Server) journalKeep() int {
	if s.journal == nil {
		return 0
	}
	return int(s.cfg.JournalBodyBytes)
}

// captureBody makes r's body keep what it reads for the journal; nil when
// the journal is off or r has no body.
func (s *Server) captureBody(r *http.Request) *captureBody {
	if s.journal == nil || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	cb := &captureBody{ReadCloser: r.Body, keep: int(s.cfg.JournalBodyBytes), length: r.ContentLength}
	r.Body = cb
	return cb
}

// journalRequest adds the entry of one request to the journal.
func (s *Server) journalRequest(r *http.Request, sw *statusWriter, cb *captureBody, note *logNote, status int, start time.Time, d time.Duration) {
	keep := int(s.cfg.JournalBodyBytes)
	v := openapi.JournalEntry{
		Time: start.UTC(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: note.route,
		Credentials: credentialKind(r.Header.Get("Authorization")), Status: int64(status), DurationUs: d.Microseconds(),
		ExternalIDs: []string{}, Codes: []string{},
	}
	size := int64(journalEntryOverhead + len(v.Method) + len(v.Path) + len(v.Query))
	var n int64
	v.RequestHeaders, n = journalHeaders(r.Header, true)
	size += n
	v.ResponseHeaders, n = journalHeaders(sw.Header(), false)
	size += n
	reqBody, respBody := "", sw.kept.String()
	if cb != nil {
		reqBody, v.RequestBodyBytes = cb.kept.String(), max(cb.total, r.ContentLength)
		size += int64(cb.kept.Cap())
	}
	v.RequestBodyTruncated = v.RequestBodyBytes > int64(len(reqBody))
	v.ResponseBodyBytes, v.ResponseBodyTruncated = sw.bytes, sw.bytes > int64(len(respBody))
	if note.route == tokenRoute { // the password asked, the token answered
		form := mediaType(r.Header.Get("Content-Type")) == "application/x-www-form-urlencoded"
		reqBody, respBody = redactKey(reqBody, form, "password"), redactKey(respBody, false, "access_token")
	}
	v.RequestBody, v.RequestBodyBase64 = bodyText(reqBody)
	v.ResponseBody, v.ResponseBodyBase64 = bodyText(respBody)
	size += int64(sw.kept.Cap()) + int64(max(0, len(v.RequestBody)-len(reqBody))) + int64(max(0, len(v.ResponseBody)-len(respBody)))
	if note.saveReq != nil {
		var idBytes int
		v.ExternalIDs, v.ExternalIDsOmitted, idBytes = touchedIDs(note.saveReq, keep)
		size += int64(idBytes)
	}
	if note.saveResp != nil {
		v.Codes = answeredCodes(note.saveResp.Detail)
		size += int64(16 * len(v.Codes)) // the strings are the catalogue's
	}
	s.journal.add(string(note.business), v, size)
}

// tokenRoute is the pattern of the token endpoint, whose body's password
// the journal replaces.
const tokenRoute = "POST /api/v1/token"

// credentialKind is the kind of an Authorization header: none, bearer,
// basic or other.
func credentialKind(h string) string {
	scheme, _, _ := strings.Cut(h, " ")
	switch {
	case h == "":
		return "none"
	case strings.EqualFold(scheme, "Bearer"):
		return "bearer"
	case strings.EqualFold(scheme, "Basic"):
		return "basic"
	}
	return "other"
}

// redacted replaces a secret in the journal.
const redacted = "[redacted]"

// journalHeaders copies h as the document's free map of lists, with the
// credentials of a request redacted, and returns its size in bytes.
func journalHeaders(h http.Header, request bool) (map[string]any, int64) {
	m := make(map[string]any, len(h))
	var n int64
	for k, vs := range h {
		if request && (k == "Authorization" || k == "Proxy-Authorization" || k == "Cookie") {
			c := make([]string, len(vs))
			for i, v := range vs {
				if scheme, _, ok := strings.Cut(v, " "); ok && k != "Cookie" {
					c[i] = scheme + " " + redacted
				} else {
					c[i] = redacted
				}
			}
			vs = c
		} else {
			vs = slices.Clone(vs)
		}
		m[k] = vs
		n += int64(len(k)) + 32
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	return m, n
}

// redactKey returns a body of the token endpoint with the value of key
// replaced by "[redacted]": a JSON object's, or a form's. A body that is
// neither (or that the journal cut) is replaced whole, since its secret
// cannot be picked out.
func redactKey(body string, form bool, key string) string {
	if body == "" {
		return body
	}
	if form {
		if f, err := url.ParseQuery(body); err == nil {
			if f.Has(key) {
				f.Set(key, redacted)
			}
			return f.Encode()
		}
	} else {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(body), &m) == nil {
			if _, ok := m[key]; ok {
				m[key] = json.RawMessage(`"` + redacted + `"`)
			}
			if b, err := json.Marshal(m); err == nil {
				return string(b)
			}
		}
	}
	return "[redacted: not a JSON object or a form, so its " + key + " could not be picked out]"
}

// bodyText returns b as text when it is UTF-8 (a rune that the cut split
// does not count against it), else as base64.
func bodyText(b string) (string, bool) {
	t := b
	for i := 0; i < utf8.UTFMax-1 && len(t) > 0; i++ { // a rune cut short at the end
		if r, size := utf8.DecodeLastRuneInString(t); r != utf8.RuneError || size != 1 {
			break
		}
		t = t[:len(t)-1]
	}
	if utf8.ValidString(t) {
		return b, false
	}
	return base64.StdEncoding.EncodeToString([]byte(b)), true
}

// touchedIDs returns the customer external_ids that a save touched, each
// once, in request order, until they take keep bytes; the number left out;
// and the bytes the kept ones take.
func touchedIDs(req *openapi.SaveCustomersRequest, keep int) (ids []string, omitted int64, size int) {
	customers, _ := requestIDs(req)
	seen := make(map[string]struct{}, len(customers))
	ids = []string{}
	for _, id := range customers {
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		if size+len(id) > keep {
			omitted++
			continue
		}
		ids = append(ids, id)
		size += len(id) + 16
	}
	return ids, omitted, size
}

// answeredCodes returns the codes of detail, each once, sorted.
func answeredCodes(detail []openapi.RecordDetail) []string {
	codes := []string{}
	for _, d := range detail {
		for _, list := range [][]openapi.Message{d.Errors, d.Warnings} {
			for _, m := range list {
				if !slices.Contains(codes, m.Code) {
					codes = append(codes, m.Code)
				}
			}
		}
	}
	slices.Sort(codes)
	return codes
}

// captureBody keeps the first keep bytes read of a request body and counts
// them all.
type captureBody struct {
	io.ReadCloser
	keep   int
	length int64 // the Content-Length, -1 when unknown
	kept   strings.Builder
	total  int64
}

func (c *captureBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.total += int64(n)
	if room := c.keep - c.kept.Len(); room > 0 && n > 0 {
		if c.kept.Cap() == 0 && c.length > 0 {
			c.kept.Grow(int(min(c.length, int64(c.keep))))
		}
		c.kept.Write(p[:min(n, room)])
	}
	return n, err
}
