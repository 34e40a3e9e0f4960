package mockserver

import (
	"context"
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

// noteRefused records, for the journal, the business of username when it
// is an account of Config.Users whose login was refused (a wrong password, a
// lock): the attempt goes to that business's journal, credentials redacted.
// An unknown username (and open mode, where every login is accepted) names
// no business.
func (s *Server) noteRefused(ctx context.Context, username string) {
	if u, ok := s.auth.users[username]; ok {
		noteTenant(ctx, tenant(u.Business))
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

// journalRequest adds the entry of one request to the journal. It keeps
// what it is handed (copies of the headers, the kept bodies, the save's
// ids) and leaves the rest of the document's view to the reads.
func (s *Server) journalRequest(r *http.Request, sw *statusWriter, cb *captureBody, note *logNote, status int, start time.Time, d time.Duration) {
	e := &journalEntry{time: start.UTC(), method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, route: note.route,
		credentials: credentialKind(r.Header.Get("Authorization")), status: status, duration: d,
		reqHeader: redactedPairs(r.Header), respHeader: sw.Header(), // the handler is done with it; net/http never writes to it
		respBody: sw.kept.String(), respBytes: sw.bytes}
	e.size = journalEntryOverhead + int64(len(e.method)+len(e.path)+len(e.query)) + pairBytes(e.reqHeader) + headerBytes(e.respHeader) + int64(sw.kept.Cap())
	if cb != nil {
		e.reqBody, e.reqBytes = cb.kept.String(), max(cb.total, r.ContentLength)
		e.size += int64(cb.kept.Cap())
	}
	if note.route == tokenRoute { // the password asked, the token answered
		form := mediaType(r.Header.Get("Content-Type")) == "application/x-www-form-urlencoded"
		e.reqBody, e.respBody = redactKey(e.reqBody, form, "password"), redactKey(e.respBody, false, "access_token")
	}
	if note.saveReq != nil {
		var n int
		e.externalIDs, e.idsOmitted, n = touchedIDs(note.touched, int(s.cfg.JournalBodyBytes))
		e.size += int64(n)
	}
	if note.saveResp != nil && len(note.saveResp.Detail) > 0 {
		e.codes = answeredCodes(note.saveResp.Detail)
		e.size += int64(16 * len(e.codes)) // the strings are the catalogue's
	}
	s.journal.add(string(note.business), e)
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

// redactedPairs returns request header h as name, value pairs, one
// allocation, with the credentials replaced: Authorization and
// Proxy-Authorization keep their scheme only, Cookie nothing.
func redactedPairs(h http.Header) []string {
	n := 0
	for _, vs := range h {
		n += 2 * len(vs)
	}
	pairs := make([]string, 0, n)
	for k, vs := range h {
		for _, v := range vs {
			switch k {
			case "Authorization", "Proxy-Authorization":
				scheme, _, _ := strings.Cut(v, " ")
				v = scheme + " " + redacted
			case "Cookie":
				v = redacted
			}
			pairs = append(pairs, k, v)
		}
	}
	return pairs
}

// pairBytes is what the journal counts for header pairs.
func pairBytes(pairs []string) int64 {
	n := int64(24 + 16*len(pairs))
	for _, s := range pairs {
		n += int64(len(s))
	}
	return n
}

// headerBytes is what the journal counts for a header.
func headerBytes(h http.Header) int64 {
	n := int64(48)
	for k, vs := range h {
		n += int64(len(k)) + 48
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	return n
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

// touchedIDs returns the first of all, the customer external_ids that a save
// touched (requestIDs: in request order, repeats left to the view), until
// they take keep bytes; the number left out; and the bytes the kept ones
// take. The ids are copied into one string: the decoder's share the pieces
// of the body they came from, which the journal must not keep alive.
func touchedIDs(all []string, keep int) (ids []string, omitted int64, size int) {
	n, total := 0, 0
	for _, id := range all {
		if total+len(id) > keep {
			break
		}
		n, total = n+1, total+len(id)
	}
	var b strings.Builder
	b.Grow(total)
	for _, id := range all[:n] {
		b.WriteString(id)
	}
	joined := b.String()
	ids = make([]string, n)
	for i, id := range all[:n] {
		ids[i], joined = joined[:len(id)], joined[len(id):]
	}
	return ids, int64(len(all) - n), total + 16*n
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
