package mockserver

import (
	"encoding/json"
	"net/http"
	"sync"

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

// jsonAppender is a body that encodes itself as json.Marshal would, faster
// (openapi.SaveCustomersResponse).
type jsonAppender interface{ AppendJSON([]byte) []byte }

// answers holds the buffers that bodies of a jsonAppender are encoded into.
var answers = sync.Pool{New: func() any { return new([]byte) }}

// writeJSON answers a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if a, ok := v.(jsonAppender); ok {
		buf := answers.Get().(*[]byte)
		*buf = a.AppendJSON((*buf)[:0])
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(*buf)
		if cap(*buf) <= 1<<20 { // a very large answer's buffer is not kept
			answers.Put(buf)
		}
		return
	}
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
