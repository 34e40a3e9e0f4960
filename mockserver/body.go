package mockserver

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// readSaveBody reads the body of a save, decoded as its Content-Encoding says
// (gzip, deflate, identity or none), with Config.MaxBody applied both to the
// bytes received and to the decoded bytes (a zip bomb stops at the limit). On
// any failure it answers (413, 415 or 400) and returns false.
func (s *Server) readSaveBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	limit := s.rules.MaxBody
	coding := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if coding != "" && coding != "identity" && coding != "gzip" && coding != "x-gzip" && coding != "deflate" {
		w.Header().Set("Accept-Encoding", "gzip, deflate")
		writeProblem(w, r, http.StatusUnsupportedMediaType, "unsupported-encoding", "Unsupported content encoding",
			fmt.Sprintf("Content-Encoding %q is not supported; send the body as is, or with Content-Encoding gzip or deflate.", r.Header.Get("Content-Encoding")))
		return nil, false
	}
	if r.ContentLength > limit {
		tooLarge(w, r, "body", limit)
		return nil, false
	}
	raw := http.MaxBytesReader(w, r.Body, limit)
	if coding == "" || coding == "identity" {
		body, err := readBody(raw, r.ContentLength)
		return body, s.bodyRead(w, r, err)
	}
	var zr io.ReadCloser
	var err error
	if coding == "deflate" {
		zr, err = zlib.NewReader(raw) // HTTP's deflate is the zlib format (RFC 9110 §8.4.1.2)
	} else {
		zr, err = gzip.NewReader(raw)
	}
	if err != nil {
		return nil, s.bodyRead(w, r, err)
	}
	defer zr.Close()
	body, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err == nil && int64(len(body)) > limit {
		err = errDecodedTooLarge
	}
	return body, s.bodyRead(w, r, err)
}

// errDecodedTooLarge is the error of a body larger than the limit once decoded.
var errDecodedTooLarge = errors.New("the decoded body is too large")

// bodyRead answers the error of reading a body, if any: 413 when a limit
// stopped it, 408 when the body came too slowly (boundBody's deadline), 400
// otherwise.
func (s *Server) bodyRead(w http.ResponseWriter, r *http.Request, err error) bool {
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.Is(err, errDecodedTooLarge):
		tooLarge(w, r, "decoded-body", s.rules.MaxBody)
	case errors.As(err, &mbe):
		tooLarge(w, r, "body", s.rules.MaxBody)
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.bodyTimeout(w, r)
	case errors.Is(err, context.Canceled): // the client went away during a Prefer: delay (delayedBody)
		noteCancelled(r.Context())
	default:
		writeProblem(w, r, http.StatusBadRequest, "unreadable-body", "Unreadable body",
			"The body could not be read completely: "+err.Error()+". Send it whole, encoded as its Content-Encoding says.")
	}
	return false
}

// tooLarge answers 413 for a body (what "body") or decoded body
// ("decoded-body") larger than limit.
func tooLarge(w http.ResponseWriter, r *http.Request, what string, limit int64) {
	// The rest of the body is not read: close the connection after answering.
	w.Header().Set("Connection", "close")
	detail := fmt.Sprintf("The body is larger than the limit of %d bytes; split the batch, or raise the limit with --max-body.", limit)
	if what == "decoded-body" {
		detail = fmt.Sprintf("The body, once decoded as its Content-Encoding says, is larger than the limit of %d bytes; split the batch, or raise the limit with --max-body.", limit)
	}
	writeProblemBody(w, http.StatusRequestEntityTooLarge, openapi.Problem{
		Type: "urn:algoreg-kit:problem:too-large", Title: "Body too large", Status: http.StatusRequestEntityTooLarge,
		Detail: detail, Instance: r.URL.Path, Limit: what, LimitValue: &limit, Flag: "--max-body",
	})
}

// beyondLimit answers 413 for a request that the decoder stopped at one of
// the request limits of rules.Config.
func beyondLimit(w http.ResponseWriter, r *http.Request, le *openapi.LimitError) {
	flag := "--" + rules.LimitFlag(le.What)
	v := int64(le.Limit)
	title := "Request beyond a limit"
	if le.What == openapi.LimitCustomers {
		title = "Batch too large"
	}
	writeProblemBody(w, http.StatusRequestEntityTooLarge, openapi.Problem{
		Type: "urn:algoreg-kit:problem:too-large", Title: title, Status: http.StatusRequestEntityTooLarge,
		Detail:   fmt.Sprintf("Beyond a limit of the mock: %s. Its %s changes the limit.", le, flag),
		Instance: r.URL.Path, Limit: le.What, LimitValue: &v, Flag: flag, Pointer: le.Pointer,
	})
}

// detailOmittedHeader counts the messages that the answer's detail leaves
// out: its JSON text is bounded by the body's size (rules.DetailBudget).
const detailOmittedHeader = "Algoreg-Kit-Detail-Omitted"
