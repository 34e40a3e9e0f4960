package mockserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/retry"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/getkin/kin-openapi/openapi3"
)

// MaxInjectedDelay bounds every latency the mock injects, by Prefer: delay
// or by a fault rule, so that no request is held longer than this.
const MaxInjectedDelay = 60 * time.Second

// preferences are the preferences of a request's Prefer headers (RFC 7240)
// that the mock acts on, in the convention of Prism: code=NNN answers that
// status, delay=D waits first, fault=KIND breaks the answer. The zero value
// asks for nothing.
type preferences struct {
	code  int // 0: none
	delay time.Duration
	fault faultKind
}

// errPreferSyntax and the other errors of parsePrefer say what is allowed;
// the handler answers them 400.
var errPreferSyntax = errors.New("the Prefer header cannot be read: send preferences as token[=value] separated by commas, e.g. Prefer: code=503, delay=250ms")

// parsePrefer reads the preferences of the Prefer header values hs (one per
// header line; each a comma-separated list). As RFC 7240 says, a preference
// given more than once counts at its first occurrence, names are
// case-insensitive, a value may be a quoted string, and parameters after ';'
// are ignored, as are unknown preferences (return=minimal, respond-async,
// Prism's example=…). A known preference with a value it cannot take is an
// error that says what it can take.
func parsePrefer(hs []string) (preferences, error) {
	var p preferences
	var seen [3]bool // code, delay, fault
	for _, h := range hs {
		for h != "" {
			var elem string
			var err error
			if elem, h, err = nextPreference(h); err != nil {
				return preferences{}, err
			}
			name, value, hasValue := strings.Cut(elem, "=")
			name = strings.TrimRight(name, " \t")
			value = strings.TrimLeft(value, " \t")
			if name == "" {
				if elem == "" {
					continue // an empty list element: 1#element allows it
				}
				return preferences{}, errPreferSyntax
			}
			if !isToken(name) {
				return preferences{}, errPreferSyntax
			}
			if strings.HasPrefix(value, `"`) {
				if value, err = unquote(value); err != nil {
					return preferences{}, err
				}
			} else if hasValue && !isToken(value) {
				return preferences{}, errPreferSyntax
			}
			var k int
			switch {
			case strings.EqualFold(name, "code"):
				k = 0
			case strings.EqualFold(name, "delay"):
				k = 1
			case strings.EqualFold(name, "fault"):
				k = 2
			default:
				continue
			}
			if seen[k] {
				continue
			}
			seen[k] = true
			switch k {
			case 0:
				n, err := strconv.Atoi(value)
				if err != nil || n < 400 || n > 599 {
					return preferences{}, fmt.Errorf("Prefer: code=%q is not a status the mock can answer: give a 4xx or 5xx status the document lists for this operation", value)
				}
				p.code = n
			case 1:
				d, err := parseDelay(value)
				if err != nil {
					return preferences{}, fmt.Errorf("Prefer: delay=%q: %w", value, err)
				}
				p.delay = d
			case 2:
				f, ok := parseFault(value)
				if !ok {
					return preferences{}, fmt.Errorf("Prefer: fault=%q is not a fault the mock injects: give %s", value, faultNames)
				}
				p.fault = f
			}
		}
	}
	if p.code != 0 && p.fault != faultNone {
		return preferences{}, errors.New("Prefer gives code and fault: a request gets one answer, so give one of them, not both (delay combines with either)")
	}
	return p, nil
}

// nextPreference returns the preference at the start of h (before any ';'
// parameter, trimmed) and what follows the comma after it.
func nextPreference(h string) (elem, rest string, err error) {
	inQuote, escaped := false, false
	end := -1 // where the parameters start
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ';' && end < 0:
			end = i
		case !inQuote && c == ',':
			if end < 0 {
				end = i
			}
			return strings.Trim(h[:end], " \t"), h[i+1:], nil
		}
	}
	if inQuote {
		return "", "", errPreferSyntax
	}
	if end < 0 {
		end = len(h)
	}
	return strings.Trim(h[:end], " \t"), "", nil
}

// unquote reads an RFC 9110 quoted-string that is the whole of s.
func unquote(s string) (string, error) {
	if len(s) < 2 || s[len(s)-1] != '"' {
		return "", errPreferSyntax
	}
	s = s[1 : len(s)-1]
	if !strings.ContainsRune(s, '\\') {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				return "", errPreferSyntax
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseDelay reads a delay: a Go duration (250ms, 1.5s) or a bare number of
// milliseconds, from 0 to MaxInjectedDelay.
func parseDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseInt(s, 10, 64)
		if nerr != nil || n > int64(MaxInjectedDelay/time.Millisecond) {
			return 0, fmt.Errorf("give a duration such as 250ms or 2s (or a number of milliseconds) from 0 to %s", MaxInjectedDelay)
		}
		d = time.Duration(n) * time.Millisecond
	}
	if d < 0 || d > MaxInjectedDelay {
		return 0, fmt.Errorf("give a duration from 0 to %s", MaxInjectedDelay)
	}
	return d, nil
}

// preferFaults serves the Prefer header on the vendor operation of pattern
// ("POST /api/v1/customers/save"): delay=D waits D once the request's body
// is read (a client that goes away ends the wait, and gets no answer), then
// code=NNN answers that status as a problem and fault=KIND breaks the
// answer, both instead of next, so that the request changes nothing;
// without either, next serves the request as usual, D late. code takes the 4xx and 5xx statuses the document
// lists for the operation with a problem body. A Prefer the mock cannot
// honour is answered 400 in the operation's own error form, saying what
// it can take. Without a Prefer header it costs a map lookup.
func (s *Server) preferFaults(pattern string, next http.Handler) http.Handler {
	op := injectable(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs := r.Header["Prefer"]
		if len(hs) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		p, err := parsePrefer(hs)
		if err == nil && p.code != 0 && !slices.Contains(op.statuses, p.code) {
			err = fmt.Errorf("Prefer: code=%d is not an answer the document lists for %s; give one of %s", p.code, pattern, op.list)
		}
		if err != nil {
			if op.oauth400 {
				writeOAuthError(w, "invalid_request", err.Error())
			} else {
				writeProblem(w, r, http.StatusBadRequest, "bad-prefer", "Bad Prefer header", err.Error()+".")
			}
			return
		}
		if p.delay > 0 {
			s.countFault("latency")
		}
		if p.code == 0 && p.fault == faultNone {
			if p.delay > 0 {
				r.Body = &delayedBody{ReadCloser: r.Body, ctx: r.Context(), delay: p.delay}
			}
			next.ServeHTTP(w, r)
			return
		}
		if p.delay > 0 {
			io.CopyN(io.Discard, r.Body, s.rules.MaxBody) // see delayedBody
			if retry.Sleep(r.Context(), p.delay) != nil {
				noteCancelled(r.Context())
				return
			}
		}
		if p.code != 0 {
			s.answerInjected(w, r, p.code, 0, "Prefer: code="+strconv.Itoa(p.code), false)
			return
		}
		s.breakAnswer(w, r, p.fault, nil, s.rules.MaxBody)
	})
}

// delayedBody waits delay when its body ends, before it says so: a
// request's handler then runs as usual, late. The wait is there, and not
// before the handler, because net/http watches the connection for a client
// that goes away (and ends the request's context) only once the body has
// been read to its end; a wait before that would outlive its client. A
// client that goes away ends the wait, and the read fails with the
// context's error.
type delayedBody struct {
	io.ReadCloser
	ctx    context.Context
	delay  time.Duration
	waited bool
}

func (b *delayedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.waited {
		b.waited = true
		if err := retry.Sleep(b.ctx, b.delay); err != nil {
			return n, err
		}
	}
	return n, err
}

// injectableOp is what Prefer: code may ask of one operation.
type injectableOp struct {
	statuses []int  // the 4xx and 5xx the document lists with a problem body
	list     string // the same, for messages: "400, 401, …"
	oauth400 bool   // its 400 is an OAuth error, not a problem (the token endpoint)
}

// injectable returns the answers the document lists for the operation of
// pattern ("METHOD /path").
func injectable(pattern string) injectableOp {
	method, path, _ := strings.Cut(pattern, " ")
	var op injectableOp
	doc, err := loadDocument()
	if err != nil {
		return op // cannot happen: the embedded document's tests load it
	}
	item := doc.Paths.Find(path)
	if item == nil || item.GetOperation(method) == nil {
		return op
	}
	for code, resp := range item.GetOperation(method).Responses.Map() {
		n, err := strconv.Atoi(code)
		if err != nil || n < 400 || resp.Value == nil {
			continue
		}
		if resp.Value.Content.Get(openapi.ProblemContentType) == nil {
			op.oauth400 = op.oauth400 || n == http.StatusBadRequest
			continue
		}
		op.statuses = append(op.statuses, n)
	}
	slices.Sort(op.statuses)
	names := make([]string, len(op.statuses))
	for i, n := range op.statuses {
		names[i] = strconv.Itoa(n)
	}
	op.list = strings.Join(names, ", ")
	return op
}

// loadDocument is the embedded document, loaded once per process.
var loadDocument = sync.OnceValues(func() (*openapi3.T, error) { return openapi.Load(context.Background()) })
