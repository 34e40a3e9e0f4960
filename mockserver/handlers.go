package mockserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// handleSaveCustomers is POST /api/v1/customers/save.
func handleSaveCustomers(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		if ct := r.Header.Get("Content-Type"); !isJSON(ct, s.cfg.Lenient) {
			writeProblem(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
				fmt.Sprintf("Content-Type %q is not the vendor's JSON; send Content-Type: application/json (optionally ; charset=utf-8), or run the mock with --lenient to accept any application/*+json type.", ct))
			return
		}
		body, ok := s.readSaveBody(w, r)
		if !ok {
			return
		}
		// Every limit of the request is checked while decoding, so a body of
		// millions of empty objects stops at the limit instead of costing
		// gigabytes.
		req, err := openapi.DecodeSaveCustomersLimits(body, s.rules.DecodeLimits(maxViolations))
		if !s.cfg.KinValidation {
			putBody(body)
		}
		if err != nil {
			var se *openapi.SyntaxError
			var ve *openapi.ValidationError
			var le *openapi.LimitError
			switch {
			case errors.As(err, &le):
				beyondLimit(w, r, le)
			case errors.As(err, &se):
				off := se.Offset
				writeProblemBody(w, http.StatusBadRequest, openapi.Problem{
					Type: "urn:algoreg-kit:problem:malformed-json", Title: "Malformed JSON", Status: http.StatusBadRequest,
					Detail:   fmt.Sprintf("The body is not valid JSON: %s at byte offset %d.", se.Msg, se.Offset),
					Instance: r.URL.Path, Offset: &off, Violations: []openapi.Violation{},
				})
			case errors.As(err, &ve):
				schemaViolation(w, r, ve)
			default:
				panic(err)
			}
			return
		}
		if s.cfg.KinValidation { // for comparison: the generic validator on a well-formed body
			vr := r.Clone(r.Context())
			vr.Body = io.NopCloser(bytes.NewReader(body))
			if err := s.validator.ValidateRequest(vr); err != nil {
				var ve *openapi.ValidationError
				if errors.As(err, &ve) {
					schemaViolation(w, r, ve)
					return
				}
				panic(err) // the route exists: any other error is a bug
			}
		}
		act, fire := s.faultRules.pick(business, r.URL.Path, req) // faultrules.go
		if fire && s.injectBefore(w, r, act) {
			return
		}
		resp, stats, err := s.save(r.Context(), string(business), req, rules.DetailBudget(len(body)))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		noteSave(r.Context(), stats, req, resp)
		if fire && act.applyThenFail {
			s.failAfter(w, r, act, resp)
			return
		}
		if stats.DetailOmitted > 0 {
			w.Header().Set(detailOmittedHeader, strconv.Itoa(stats.DetailOmitted))
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// readBody reads all of r. With a Content-Length it reads into a buffer of
// exactly that size (from a pool, given back with putBody), so that large
// bodies are not copied while growing.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length <= 0 || length > 64<<20 {
		return io.ReadAll(r)
	}
	buf := getBody(int(length))
	n, err := io.ReadFull(r, buf)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return buf[:n], nil
		}
		return nil, err
	}
	// Nothing more is expected; look with one byte rather than io.ReadAll,
	// which would allocate a buffer to find EOF.
	var probe [1]byte
	n, err = r.Read(probe[:])
	if n == 0 && errors.Is(err, io.EOF) {
		return buf, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	rest, err := io.ReadAll(r)
	return append(append(buf, probe[:n]...), rest...), err
}

// bodyPool recycles request buffers of up to 4 MiB. DecodeSaveCustomers copies
// every string it keeps, so a buffer is free again once the request is decoded.
var bodyPool sync.Pool

func getBody(n int) []byte {
	if p, ok := bodyPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func putBody(b []byte) {
	if cap(b) <= 4<<20 {
		bodyPool.Put(&b)
	}
}

// maxViolations bounds the violations a 422 lists, so a hostile body cannot
// make the answer as large as the request.
const maxViolations = 1000

func schemaViolation(w http.ResponseWriter, r *http.Request, ve *openapi.ValidationError) {
	vs := ve.Violations
	if vs == nil {
		vs = []openapi.Violation{}
	}
	detail := fmt.Sprintf("The body does not match the SaveCustomersRequest schema: %d violation(s). Fix the JSON types listed in violations.", len(vs))
	if ve.Truncated {
		detail = fmt.Sprintf("The body does not match the SaveCustomersRequest schema: more than %d violations; the first %d are listed. Fix the JSON types listed in violations.", len(vs), len(vs))
	}
	writeProblemBody(w, http.StatusUnprocessableEntity, openapi.Problem{
		Type: "urn:algoreg-kit:problem:schema-violation", Title: "Request does not match the schema",
		Status: http.StatusUnprocessableEntity, Instance: r.URL.Path, Violations: vs, Detail: detail,
	})
}

// handleHealth is GET /healthz.
func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, openapi.Health{Status: "ok"})
	})
}

// handleDocument is GET /openapi.yaml.
func handleDocument() http.Handler {
	doc := openapi.Document()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(doc)
	})
}

// The inspection API.

// timeOf is a stored time (Unix nanoseconds) in UTC, which encoding/json
// writes in RFC 3339 with the nanoseconds that are not zero.
func timeOf(nanos int64) time.Time {
	return time.Unix(0, nanos).UTC()
}

func fieldMap(fs []rules.Field) map[string]any {
	if len(fs) == 0 {
		return nil
	}
	m := make(map[string]any, len(fs))
	for _, f := range fs {
		m[f.Key] = f.Value
	}
	return m
}

// viewRelation and viewCustomer turn what the store holds into the
// document's StoredRelation and StoredCustomer.
func viewRelation(r rules.Relation) openapi.StoredRelation {
	return openapi.StoredRelation{
		RelationExternalID: r.RelationExternalID, ParentCustomerExternalID: r.ParentExternalID,
		ChildCustomerExternalID: r.ChildExternalID, RelationType: r.RelationType, Disabled: r.Disabled,
		Fields: fieldMap(r.Fields), CreatedAt: timeOf(r.CreatedAt), UpdatedAt: timeOf(r.UpdatedAt),
	}
}

func viewCustomer(c rules.Customer, rels []rules.Relation) openapi.StoredCustomer {
	v := openapi.StoredCustomer{
		CustomerID: c.CustomerID.String(), Fields: fieldMap(c.Fields),
		CreatedAt: timeOf(c.CreatedAt), UpdatedAt: timeOf(c.UpdatedAt),
		Variations: make([]openapi.StoredVariation, 0, len(c.Variations)),
		Relations:  make([]openapi.StoredRelation, 0, len(rels)),
	}
	held, view := reflect.ValueOf(&c).Elem(), reflect.ValueOf(&v).Elem()
	for _, f := range sameFields() {
		view.Field(f.view).Set(held.Field(f.held))
	}
	if c.HasKYCLevel {
		v.KYCLevel = &c.KYCLevel
	}
	if c.HasKYCRequested {
		v.KYCLevelRequested = &c.KYCLevelRequested
	}
	if c.HasDisabled {
		v.Disabled = &c.Disabled
	}
	for _, x := range c.Variations {
		v.Variations = append(v.Variations, openapi.StoredVariation(x))
	}
	for _, r := range rels {
		v.Relations = append(v.Relations, viewRelation(r))
	}
	return v
}

// sameFields lists the fields that rules.Customer and openapi.StoredCustomer
// share, by name and type: the external_id, the account type, the names, the
// strings and lists stored as given. viewCustomer copies them without a line
// of its own, so a property added to both needs none here; the others (ids,
// times, the Has flags, custom fields, variations) it converts by hand.
// TestViewSetsEveryProperty fails for a property the view leaves empty. (The
// copy by reflection costs about 0.6 µs per customer viewed, on the inspection
// API only.)
var sameFields = sync.OnceValue(func() []struct{ held, view int } {
	held, view := reflect.TypeFor[rules.Customer](), reflect.TypeFor[openapi.StoredCustomer]()
	var same []struct{ held, view int }
	for i := range view.NumField() {
		if h, ok := held.FieldByName(view.Field(i).Name); ok && h.Type == view.Field(i).Type {
			same = append(same, struct{ held, view int }{h.Index[0], i})
		}
	}
	return same
})

// pageParams reads offset (≥ 0, default 0) and limit (1 to 1000, default 100).
func pageParams(w http.ResponseWriter, r *http.Request) (offset, limit int, ok bool) {
	offset, limit = 0, 100
	q := r.URL.Query()
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"offset", &offset, 0, 1 << 31}, {"limit", &limit, 1, 1000}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < p.min || n > p.max {
			writeProblem(w, r, http.StatusBadRequest, "bad-parameter", "Bad query parameter",
				fmt.Sprintf("%s=%q must be an integer from %d to %d.", p.name, s, p.min, p.max))
			return 0, 0, false
		}
		*p.dst = n
	}
	return offset, limit, true
}

// handleListCustomers is GET /__admin/customers.
func handleListCustomers(s *Server) http.Handler {
	return listing(s, store.Tx.Customers, func(tx store.Tx, cs []rules.Customer, offset, limit, total int) (any, error) {
		page := openapi.CustomerPage{Customers: []openapi.StoredCustomer{}, Offset: int64(offset), Limit: int64(limit), Total: int64(total)}
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = c.ExternalID
		}
		rels, err := tx.RelationsOf(ids...)
		if err != nil {
			return nil, err
		}
		relsOf := map[string][]rules.Relation{}
		for _, rel := range rels {
			relsOf[rel.ParentExternalID] = append(relsOf[rel.ParentExternalID], rel)
			if rel.ChildExternalID != rel.ParentExternalID {
				relsOf[rel.ChildExternalID] = append(relsOf[rel.ChildExternalID], rel)
			}
		}
		for _, c := range cs {
			page.Customers = append(page.Customers, viewCustomer(c, relsOf[c.ExternalID]))
		}
		return page, nil
	})
}

// listing answers a paged listing of the caller's business, in one read of
// the store: read returns the records of the request's offset and limit and
// the total, page builds the body from them.
func listing[T any](s *Server, read func(tx store.Tx, offset, limit int) ([]T, int, error),
	page func(tx store.Tx, items []T, offset, limit, total int) (any, error)) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		var body any
		err := s.store.View(r.Context(), string(business), func(tx store.Tx) error {
			items, total, err := read(tx, offset, limit)
			if err == nil {
				body, err = page(tx, items, offset, limit, total)
			}
			return err
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// handleGetCustomer is GET /__admin/customers/{external_id}.
func handleGetCustomer(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		eid := r.PathValue("external_id") // unescaped: a%2Fb is a/b
		var view *openapi.StoredCustomer
		err := s.store.View(r.Context(), string(business), func(tx store.Tx) error {
			c, ok, err := tx.Customer(eid)
			if err != nil {
				return err
			}
			if !ok {
				return store.ErrNotFound
			}
			rels, err := tx.RelationsOf(eid)
			if err != nil {
				return err
			}
			v := viewCustomer(c, rels)
			view = &v
			return nil
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			writeProblem(w, r, http.StatusNotFound, "not-found", "Customer not found",
				fmt.Sprintf("Your business has no customer with external_id %q.", eid))
		case err != nil:
			s.fail(w, r, err)
		default:
			writeJSON(w, http.StatusOK, view)
		}
	})
}

// handleListRelations is GET /__admin/relations.
func handleListRelations(s *Server) http.Handler {
	return listing(s, store.Tx.Relations, func(_ store.Tx, rs []rules.Relation, offset, limit, total int) (any, error) {
		page := openapi.RelationPage{Relations: []openapi.StoredRelation{}, Offset: int64(offset), Limit: int64(limit), Total: int64(total)}
		for _, rel := range rs {
			page.Relations = append(page.Relations, viewRelation(rel))
		}
		return page, nil
	})
}

// handleResetState is DELETE /__admin/state.
func handleResetState(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		if err := s.store.Reset(r.Context(), string(business)); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// retryAfter is the Retry-After of a 503: a store that failed (a database
// restarting, a lock held too long) is worth retrying soon.
const retryAfter = "1"

// fail answers an error of the store with a 503 problem and Retry-After, and
// logs it. The store committed nothing of the request, so the state is as it
// was and a retry is safe. A request whose context is done (the client went
// away) gets no answer and is logged as cancelled, not as an error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		noteCancelled(r.Context())
		return
	}
	s.log.Error("store failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", retryAfter)
	writeProblem(w, r, http.StatusServiceUnavailable, "unavailable", "Service unavailable",
		"The mock's state store failed on this request, which changed nothing; retry after "+retryAfter+" s (Retry-After). The failure was logged.")
}
