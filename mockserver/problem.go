package mockserver

import (
	"encoding/json"
	"net/http"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// writeProblem answers an RFC 9457 problem-details body.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, kind, title, detail string) {
	writeProblemBody(w, status, openapi.Problem{
		Type:     "urn:algoreg-kit:problem:" + kind,
		Title:    title,
		Status:   status,
		Detail:   detail,
		Instance: r.URL.Path,
	})
}

func writeProblemBody(w http.ResponseWriter, status int, p openapi.Problem) {
	b, err := json.Marshal(p)
	if err != nil { // a Problem always encodes
		b = []byte(`{"type":"urn:algoreg-kit:problem:internal","title":"Internal server error","status":500,"detail":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", openapi.ProblemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// writeJSON answers a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblemBody(w, http.StatusInternalServerError, openapi.Problem{
			Type: "urn:algoreg-kit:problem:internal", Title: "Internal server error", Status: 500,
			Detail: "The mock could not encode its response; this is a bug in algoreg-kit.",
		})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
