package mockserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// The journal's part of the inspection API: GET /__admin/requests (a page,
// newest first), GET /__admin/requests/count, GET /__admin/requests/{id} and
// DELETE /__admin/requests, each of the caller's business only.

// journalRoutes are the routes of the journal; none when it is off (404).
func (s *Server) journalRoutes() []route {
	if s.journal == nil {
		return nil
	}
	return []route{
		{"GET /__admin/requests", false, handleListJournal(s)},
		{"GET /__admin/requests/count", false, handleCountJournal(s)},
		{"GET /__admin/requests/{id}", false, handleGetJournalEntry(s)},
		{"DELETE /__admin/requests", false, handleClearJournal(s)},
	}
}

// handleListJournal is GET /__admin/requests.
func handleListJournal(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		f, ok := journalQuery(w, r, true)
		if !ok {
			return
		}
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		entries, total, dropped := s.journal.find(string(business), f, offset, limit)
		if entries == nil {
			entries = []openapi.JournalEntry{}
		}
		writeJSON(w, http.StatusOK, openapi.JournalPage{Requests: entries, Total: int64(total), Dropped: dropped,
			Offset: int64(offset), Limit: int64(limit)})
	})
}

// handleCountJournal is GET /__admin/requests/count.
func handleCountJournal(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		f, ok := journalQuery(w, r, false)
		if !ok {
			return
		}
		_, total, dropped := s.journal.find(string(business), f, 0, 0)
		writeJSON(w, http.StatusOK, openapi.JournalCount{Count: int64(total), Dropped: dropped})
	})
}

// handleGetJournalEntry is GET /__admin/requests/{id}.
func handleGetJournalEntry(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		raw := r.PathValue("id")
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			writeProblem(w, r, http.StatusBadRequest, "bad-parameter", "Bad path parameter",
				fmt.Sprintf("id %q must be the positive integer id of an entry of GET /__admin/requests.", raw))
			return
		}
		e, ok := s.journal.get(string(business), id)
		if !ok {
			writeProblem(w, r, http.StatusNotFound, "not-found", "Journal entry not found",
				fmt.Sprintf("Your business's journal has no entry %d: it was never yours, or the journal's bounds dropped it, or DELETE /__admin/requests did.", id))
			return
		}
		writeJSON(w, http.StatusOK, e)
	})
}

// handleClearJournal is DELETE /__admin/requests.
func handleClearJournal(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		s.journal.clear(string(business))
		w.WriteHeader(http.StatusNoContent)
	})
}

// journalQuery reads the filters of r (and, when paged, lets offset and
// limit through for pageParams); on a bad one it answers 400 and returns
// false.
func journalQuery(w http.ResponseWriter, r *http.Request, paged bool) (journalFilter, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		var f journalFilter
		if f, err = parseJournalFilter(q, paged); err == nil {
			return f, true
		}
	}
	writeProblem(w, r, http.StatusBadRequest, "bad-parameter", "Bad query parameter", err.Error())
	return journalFilter{}, false
}

// parseJournalFilter reads the filters of the journal's endpoints from q:
// external_id, status (0 to 599), code (of rules.Catalogue) and since (RFC
// 3339), each at most once; offset and limit too when paged (pageParams
// reads them). Any other parameter is an error, so that a misspelt filter
// cannot match everything; each error is a sentence for the caller.
func parseJournalFilter(q url.Values, paged bool) (journalFilter, error) {
	var f journalFilter
	for name, vs := range q {
		if len(vs) != 1 {
			return f, fmt.Errorf("%s is given %d times; give it once.", name, len(vs))
		}
		v := vs[0]
		switch name {
		case "external_id":
			f.externalID = &v
		case "status":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 599 {
				return f, fmt.Errorf("status=%q must be an HTTP status, an integer from 100 to 599 (or 0: closed without an answer).", v)
			}
			f.status = &n
		case "code":
			if _, ok := rules.Lookup(v); !ok {
				return f, fmt.Errorf("code=%q is not an error or warning code of the mock's catalogue (see the Message schema of /openapi.yaml).", v)
			}
			f.code = v
		case "since":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fmt.Errorf("since=%q must be a time in RFC 3339, e.g. 2026-06-15T09:30:00Z.", v)
			}
			f.since = t
		case "offset", "limit":
			if !paged {
				return f, fmt.Errorf("%s is not a parameter of the count; its parameters are external_id, status, code and since.", name)
			}
		default:
			params := "external_id, status, code and since"
			if paged {
				params = "external_id, status, code, since, offset and limit"
			}
			return f, fmt.Errorf("%q is not a parameter of the journal; its parameters are %s.", name, params)
		}
	}
	return f, nil
}
