package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// maxBody is the mock's default body limit, so the baseline reads what the mock reads.
const maxBody = 16 << 20

// decodeFunc turns a body into the typed model; a nil request with a nil error
// means the body was not decoded at all.
type decodeFunc func(body []byte) (*openapi.SaveCustomersRequest, error)

// decoders lists the -decode modes.
var decoders = map[string]decodeFunc{
	"none": func([]byte) (*openapi.SaveCustomersRequest, error) { return nil, nil },
	"std": func(body []byte) (*openapi.SaveCustomersRequest, error) {
		var req openapi.SaveCustomersRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		return &req, nil
	},
	"project": openapi.DecodeSaveCustomers,
}

// decoderNames returns the -decode modes in a stable order, for usage and errors.
func decoderNames() string {
	names := make([]string, 0, len(decoders))
	for n := range decoders {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// fixedResponse is a valid SaveCustomersResponse, the same bytes for every request
// (as a WireMock stub answers).
var fixedResponse = []byte(`{"added":[],"detail":[],"status":"ok","verify_input":false}`)

// newHandler returns the baseline's routes: POST /api/v1/customers/save and
// GET /healthz. It is safe for concurrent use.
func newHandler(decode decodeFunc) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/customers/save", handleSave(decode))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})
	return mux
}

func handleSave(decode decodeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeProblem(w, http.StatusRequestEntityTooLarge, "The body is larger than 16 MiB; split the batch.")
				return
			}
			writeProblem(w, http.StatusBadRequest, fmt.Sprintf("Could not read the body: %v.", err))
			return
		}
		if _, err := decode(body); err != nil {
			writeProblem(w, decodeStatus(err), fmt.Sprintf("The body cannot be decoded: %v.", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixedResponse)
	})
}

// decodeStatus maps a decode error to the endpoint's status: 400 for malformed
// JSON, 422 for JSON that does not match the schema.
func decodeStatus(err error) int {
	var (
		syntax    *json.SyntaxError
		ourSyntax *openapi.SyntaxError
		typeError *json.UnmarshalTypeError
		violation *openapi.ValidationError
	)
	switch {
	case errors.As(err, &syntax), errors.As(err, &ourSyntax):
		return http.StatusBadRequest
	case errors.As(err, &typeError), errors.As(err, &violation):
		return http.StatusUnprocessableEntity
	default:
		return http.StatusBadRequest
	}
}

// writeProblem answers an RFC 9457 problem, the shape of every error of the API.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", openapi.ProblemContentType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(openapi.Problem{
		Type:   "urn:algoreg-kit:problem:baseline",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}
