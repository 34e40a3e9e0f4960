package mockserver

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// route is one pattern of the mock's http.ServeMux. A GET pattern also
// serves HEAD.
type route struct {
	pattern string
	public  bool // served without credentials; the others are behind requireAuth
	handler http.Handler
}

// routeTable lists every route of the mock.
func (s *Server) routeTable() []route {
	return slices.Concat([]route{
		{"POST /api/v1/customers/save", false, s.rateLimit(s.boundBody(s.rules.MaxBody, handleSaveCustomers(s)))},
		{"POST /api/v1/token", true, s.boundBody(maxTokenBody, handleToken(s))},
		{"GET /__admin/customers", false, handleListCustomers(s)},
		{"GET /__admin/customers/{external_id}", false, handleGetCustomer(s)},
		{"GET /__admin/relations", false, handleListRelations(s)},
		{"GET /__admin/webhooks", false, handleListWebhooks(s)},
		{"DELETE /__admin/state", false, handleResetState(s)},
		{"POST /__admin/faults", false, handleCreateFaultRule(s)},
		{"GET /__admin/faults", false, handleListFaultRules(s)},
		{"DELETE /__admin/faults", false, handleDeleteFaultRules(s)},
		{"GET /__admin/faults/{id}", false, handleGetFaultRule(s)},
		{"DELETE /__admin/faults/{id}", false, handleDeleteFaultRule(s)},
		{"GET /__admin/config", false, handleConfig(s)},
		{"GET /healthz", true, handleHealth()},
		{"GET /openapi.yaml", true, handleDocument()},
	}, s.journalRoutes(), s.metricsRoutes())
}

// routes serves the route table, with noRoute's answers for the rest.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		h := rt.handler
		if strings.HasPrefix(rt.pattern, "POST /api/") { // the vendor's operations
			h = s.preferFaults(rt.pattern, h)
		}
		if !rt.public {
			h = s.requireAuth(h)
		}
		mux.Handle(rt.pattern, h)
	}
	for _, rt := range s.operatorRoutes() {
		mux.Handle(rt.pattern, s.requireOperator(rt.handler))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuseAmbiguous(w, r) {
			return
		}
		_, pattern := mux.Handler(r)
		if pattern == "" || !isClean(r.URL.EscapedPath()) {
			noRoute(mux, w, r)
			return
		}
		noteRoute(r.Context(), pattern)
		mux.ServeHTTP(w, r)
	})
}

// noRoute answers, as problem details, what ServeMux answers in text/plain
// for a request no pattern matches: 405 with ServeMux's Allow when another
// method would match, 404 otherwise. A path with "//", "." or ".." segments is
// 404 too: ServeMux would redirect it to its cleaned form, and the mock serves
// paths as they are sent (an external_id "." is escaped %2E).
func noRoute(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	detail := "No such path. The API is POST /api/v1/customers/save and POST /api/v1/token; the mock's inspection API is under /__admin (see /openapi.yaml)."
	if !isClean(r.URL.EscapedPath()) {
		detail = "No such path: the path has an empty, \".\" or \"..\" segment, and the mock does not redirect; send it as /openapi.yaml lists it (escape an external_id \".\" or \"..\" as %2E or %2E%2E)."
	} else if h, _ := mux.Handler(r); h != nil {
		probe := headerProbe{header: http.Header{}}
		if h.ServeHTTP(&probe, r); probe.status == http.StatusMethodNotAllowed {
			allow := probe.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeProblem(w, r, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
				"Method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.ReplaceAll(allow, ", ", " or ")+".")
			return
		}
	}
	writeProblem(w, r, http.StatusNotFound, "not-found", "Not found", detail)
}

// isClean reports whether p is what ServeMux would leave alone: no empty,
// "." or ".." segment.
func isClean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// headerProbe records the status and header that ServeMux's own 404 and 405
// handlers write, and drops their text/plain body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(status int)      { p.status = status }

// mediaType returns the lower-case media type of a Content-Type header, or "".
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}

// isJSON reports whether contentType is the JSON the vendor documents:
// application/json, with at most a charset parameter of utf-8 (RFC 8259
// section 8.1: JSON is UTF-8). lenient also takes any application/*+json
// type and any parameters (Config.Lenient).
func isJSON(contentType string, lenient bool) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return false
	case lenient:
		return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
	case mt != "application/json":
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
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
