package mockserver

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gorilla/mux"
)

// routes lists every route of the mock.
func (s *Server) routes() http.Handler {
	r := mux.NewRouter()
	r.UseEncodedPath()
	r.Handle("/api/v1/customers/save", methods{
		http.MethodPost: s.requireAuth(s.rateLimit(handleSaveCustomers(s))),
	})
	r.Handle("/api/v1/token", methods{http.MethodPost: handleToken(s)})
	r.Handle("/__admin/customers", methods{http.MethodGet: s.requireAuth(handleListCustomers(s))})
	r.Handle("/__admin/customers/{external_id}", methods{http.MethodGet: s.requireAuth(handleGetCustomer(s))})
	r.Handle("/__admin/relations", methods{http.MethodGet: s.requireAuth(handleListRelations(s))})
	r.Handle("/__admin/state", methods{http.MethodDelete: s.requireAuth(handleResetState(s))})
	r.Handle("/healthz", methods{http.MethodGet: handleHealth()})
	r.Handle("/openapi.yaml", methods{http.MethodGet: handleDocument()})
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "not-found", "Not found",
			"No such path. The API is POST /api/v1/customers/save and POST /api/v1/token; the mock's inspection API is under /__admin (see /openapi.yaml).")
	})
	return r
}

// methods dispatches by method and answers 405 with Allow for the others.
// HEAD is served by GET.
type methods map[string]http.Handler

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	if h, ok := m[http.MethodGet]; ok && r.Method == http.MethodHead {
		h.ServeHTTP(w, r)
		return
	}
	allow := make([]string, 0, len(m)+1)
	for k := range m {
		allow = append(allow, k)
		if k == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	sort.Strings(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, r, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
		"Method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, " or ")+".")
}

// mediaType returns the lower-case media type of a Content-Type header, or "".
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}

// isJSON reports whether mt is application/json or a +json type.
func isJSON(mt string) bool {
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

func parseQuery(s string) (map[string]string, error) {
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(v))
	for k, vs := range v {
		out[k] = vs[0]
	}
	return out, nil
}

func decodeStrict(b []byte, v any) error {
	return json.Unmarshal(b, v)
}
