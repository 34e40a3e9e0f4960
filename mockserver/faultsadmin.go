package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/google/uuid"
)

// savePath is the path fault rules match.
const savePath = "/api/v1/customers/save"

// maxFaultRuleBody bounds the body of POST /__admin/faults.
const maxFaultRuleBody = 64 << 10

// handleCreateFaultRule is POST /__admin/faults.
func handleCreateFaultRule(s *Server) http.Handler {
	statuses := injectable("POST " + savePath)
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		if ct := r.Header.Get("Content-Type"); !isJSON(ct, s.cfg.Lenient) {
			writeProblem(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
				fmt.Sprintf("Content-Type %q is not JSON; send the rule as Content-Type: application/json.", ct))
			return
		}
		rule, detail := readFaultRule(http.MaxBytesReader(w, r.Body, maxFaultRuleBody), statuses)
		if detail != "" {
			writeProblem(w, r, http.StatusBadRequest, "bad-fault-rule", "Bad fault rule", detail)
			return
		}
		rule.view.ID = uuid.NewString()
		rule.view.CreatedAt = s.now().UTC()
		if refused := s.faultRules.add(business, rule); refused != "" {
			writeProblem(w, r, http.StatusConflict, "too-many-fault-rules", "Too many fault rules", refused)
			return
		}
		w.Header().Set("Location", "/__admin/faults/"+rule.view.ID)
		writeJSON(w, http.StatusCreated, rule.answer())
	})
}

// readFaultRule reads a rule from body, or says what is wrong with it.
func readFaultRule(body io.Reader, statuses injectableOp) (*faultRule, string) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Sprintf("The body cannot be read or is larger than %d KiB.", maxFaultRuleBody>>10)
	}
	one := 1.0
	v := openapi.FaultRule{Path: savePath, Probability: &one} // the defaults of absent properties
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || dec.More() {
		if err == nil {
			err = fmt.Errorf("more than one JSON value")
		}
		return nil, fmt.Sprintf("The body is not a fault rule (%v); see the FaultRule schema in /openapi.yaml.", err)
	}
	r := &faultRule{view: v, probability: *v.Probability, remaining: -1}
	actions := 0
	switch {
	case v.ID != "" || v.Fired != 0 || v.Remaining != nil || !v.CreatedAt.IsZero():
		return nil, "id, fired, remaining and created_at are set by the mock; leave them out."
	case v.Path != savePath:
		return nil, fmt.Sprintf("path %q: fault rules match %s only (the token endpoint has no business before its grant; use Prefer there).", v.Path, savePath)
	case len(v.ExternalIDPrefix) > 1024:
		return nil, "external_id_prefix is longer than 1024 bytes, the longest external_id."
	case v.Probability == nil:
		return nil, "probability is null; give a number from 0 to 1, or leave it out for 1."
	case math.IsNaN(*v.Probability) || *v.Probability < 0 || *v.Probability > 1:
		return nil, fmt.Sprintf("probability %g must be from 0 to 1.", *v.Probability)
	case v.Times != nil && *v.Times < 1:
		return nil, fmt.Sprintf("times %d must be at least 1 (leave it out for every matching save).", *v.Times)
	}
	if v.Times != nil {
		r.remaining = *v.Times
	}
	if v.Status != nil {
		actions++
		r.status = int(*v.Status)
		if !slices.Contains(statuses.statuses, r.status) {
			return nil, fmt.Sprintf("status %d is not an answer the document lists for POST %s; give one of %s.", r.status, savePath, statuses.list)
		}
	}
	if v.RetryAfter != nil {
		if r.status != http.StatusTooManyRequests && r.status != http.StatusServiceUnavailable {
			return nil, "retry_after goes with status 429 or 503."
		}
		if *v.RetryAfter < 0 || *v.RetryAfter > 3600 {
			return nil, fmt.Sprintf("retry_after %d must be from 0 to 3600 seconds.", *v.RetryAfter)
		}
		r.retryAfter = int(*v.RetryAfter)
	}
	if v.Latency != nil {
		actions++
		var detail string
		if r.latency, detail = readLatency(v.Latency); detail != "" {
			return nil, detail
		}
	}
	if v.Fault != "" {
		actions++
		var ok bool
		if r.fault, ok = parseFault(v.Fault); !ok {
			return nil, fmt.Sprintf("fault %q must be %s.", v.Fault, faultNames)
		}
	}
	switch {
	case actions != 1:
		return nil, "Give exactly one of status, latency and fault."
	case v.ApplyThenFail != nil && *v.ApplyThenFail && v.Latency != nil:
		return nil, "apply_then_fail goes with status or fault: a latency rule always applies the save."
	}
	r.applyThenFail = v.ApplyThenFail != nil && *v.ApplyThenFail
	return r, ""
}

// readLatency reads a rule's latency: exactly one of fixed, min and max,
// median (and sigma).
func readLatency(l *openapi.FaultLatency) (latency, string) {
	var out latency
	for _, d := range []struct {
		name, value string
		into        *time.Duration
	}{{"fixed", l.Fixed, &out.fixed}, {"min", l.Min, &out.min}, {"max", l.Max, &out.max}, {"median", l.Median, &out.median}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v < 0 || v > MaxInjectedDelay {
			return out, fmt.Sprintf("latency.%s %q must be a duration such as 250ms or 2s, from 0 to %s.", d.name, d.value, MaxInjectedDelay)
		}
		*d.into = v
	}
	forms := 0
	for _, set := range []bool{l.Fixed != "", l.Min != "" || l.Max != "", l.Median != "" || l.Sigma != nil} {
		if set {
			forms++
		}
	}
	switch {
	case forms != 1:
		return out, "latency takes one of: fixed; min and max (uniform); median and optionally sigma (log-normal)."
	case (l.Min != "") != (l.Max != ""):
		return out, "latency.min and latency.max go together (uniform between them)."
	case out.min > out.max:
		return out, fmt.Sprintf("latency.min %s is more than latency.max %s.", out.min, out.max)
	case l.Sigma != nil && l.Median == "":
		return out, "latency.sigma goes with latency.median (log-normal)."
	case l.Sigma != nil && (math.IsNaN(*l.Sigma) || *l.Sigma < 0 || *l.Sigma > 4):
		return out, fmt.Sprintf("latency.sigma %g must be from 0 to 4.", *l.Sigma)
	}
	out.sigma = 0.5
	if l.Sigma != nil {
		out.sigma = *l.Sigma
	}
	return out, ""
}

// handleListFaultRules is GET /__admin/faults.
func handleListFaultRules(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		writeJSON(w, http.StatusOK, openapi.FaultRuleList{Rules: s.faultRules.list(business), Limit: MaxFaultRules})
	})
}

// handleGetFaultRule is GET /__admin/faults/{id}.
func handleGetFaultRule(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		v, ok := s.faultRules.get(business, r.PathValue("id"))
		if !ok {
			noFaultRule(w, r)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// handleDeleteFaultRule is DELETE /__admin/faults/{id}; handleDeleteFaultRules
// is DELETE /__admin/faults.
func handleDeleteFaultRule(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		if !s.faultRules.remove(business, r.PathValue("id")) {
			noFaultRule(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleDeleteFaultRules(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		s.faultRules.remove(business, "")
		w.WriteHeader(http.StatusNoContent)
	})
}

func noFaultRule(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotFound, "not-found", "Fault rule not found",
		fmt.Sprintf("Your business has no fault rule with id %q; GET /__admin/faults lists them.", r.PathValue("id")))
}
