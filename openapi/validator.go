package openapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator validates requests and responses against the document. Build it once
// with NewValidator; it is safe for concurrent use and re-reads nothing per call.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// NewValidator builds the router of doc (a document from Load) once.
func NewValidator(doc *openapi3.T) (*Validator, error) {
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("build router: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// MustNewValidator loads the embedded document and builds a Validator, panicking
// on error. The embedded document is tested to load, so this only panics if the
// binary was built from a broken document; it is meant for tests and examples.
func MustNewValidator() *Validator {
	doc, err := Load(context.Background())
	if err != nil {
		panic(err)
	}
	v, err := NewValidator(doc)
	if err != nil {
		panic(err)
	}
	return v
}

// Doc returns the loaded document. Callers must not modify it.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// schemaOptions makes formats the document uses (uuid, date, date-time) checked.
var schemaOptions = []openapi3.SchemaValidationOption{
	openapi3.EnableFormatValidation(),
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
}

// ValidateRequest checks r (path, method, parameters, content type and body)
// against the document; authentication is not checked. It reads r.Body and puts
// an equal reader back, so the handler can still read it.
//
// It returns nil, a *ValidationError listing every violation, or an error
// wrapping routers.ErrPathNotFound or routers.ErrMethodNotAllowed.
func (v *Validator) ValidateRequest(r *http.Request) error {
	route, params, err := v.findRoute(r)
	if err != nil {
		return err
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    filterOptions(),
	}
	input.Options.SkipSettingDefaults = true
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		return newValidationError("request", err)
	}
	return nil
}

// ValidateResponse checks a response to req: that status is documented for the
// operation, and that the content type, the headers and the body match it. req
// may be a request to any host: only its method and path are used. It works for
// responses of any server, not only the mock.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.findRoute(req)
	if err != nil {
		return err
	}
	opts := filterOptions()
	opts.IncludeResponseStatus = true
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: opts,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: opts,
	}
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return newValidationError("response", err)
	}
	return nil
}

// ResponseChecker returns middleware that records every response of next,
// validates it with ValidateResponse, and calls report with the request and the
// error when it does not match the document. The response is passed on
// unchanged. Tests use it to fail on any off-spec answer of the mock; at run
// time it is optional, since it costs a copy of every response.
//
// Requests to paths the document does not define are not checked, nor are
// hijacked connections and requests whose client went away.
func (v *Validator) ResponseChecker(report func(*http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &recorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			if rec.hijacked || r.Context().Err() != nil {
				return // the handler wrote to the connection itself, or the client went away: no response to check
			}
			err := v.ValidateResponse(r, rec.status, w.Header(), rec.body.Bytes())
			if err != nil && !errors.Is(err, routers.ErrPathNotFound) && !errors.Is(err, routers.ErrMethodNotAllowed) {
				report(r, err)
			}
		})
	}
}

// recorder passes a response through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	hijacked    bool
	body        bytes.Buffer
}

// Hijack passes http.ResponseController's Hijack on, and notes it: what the
// handler then writes (a broken answer the mock injects on purpose) is not
// a response to check.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	r.hijacked = err == nil
	return c, rw, err
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// findRoute finds r's operation in the document; its error wraps
// routers.ErrPathNotFound or routers.ErrMethodNotAllowed.
func (v *Validator) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil, nil, fmt.Errorf("find route %s %s: %w", r.Method, r.URL.Path, err)
	}
	return route, params, nil
}

// filterOptions are the kin-openapi options of both directions: every
// violation, not the first; authentication left to the server.
func filterOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:              true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: schemaOptions,
	}
}
