package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// handleListWebhooks is GET /__admin/webhooks: the caller's business's
// events of one status (?status=failed, the default, pending or delivered),
// paged like the other listings.
func handleListWebhooks(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		s.listWebhooks(w, r, string(business))
	})
}

// listWebhooks answers the page of business's events that r asks for.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, business string) {
	status := store.EventStatus(r.URL.Query().Get("status"))
	switch status {
	case "":
		status = store.EventFailed
	case store.EventFailed, store.EventPending, store.EventDelivered:
	default:
		writeProblem(w, r, http.StatusBadRequest, "bad-parameter", "Bad query parameter",
			fmt.Sprintf("status=%q must be failed, pending or delivered.", status))
		return
	}
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	evs, total, err := s.store.Events(r.Context(), business, status, offset, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := openapi.WebhookEventPage{Events: []openapi.WebhookDelivery{}, Status: string(status),
		Total: int64(total), Offset: int64(offset), Limit: int64(limit)}
	for _, e := range evs {
		page.Events = append(page.Events, viewEvent(e))
	}
	writeJSON(w, http.StatusOK, page)
}

// viewEvent is the inspection view of an outbox event.
func viewEvent(e store.Event) openapi.WebhookDelivery {
	v := openapi.WebhookDelivery{OutboxID: e.ID, EventID: webhookID(e), Status: string(e.Status),
		Attempts: int64(e.Attempts), LastError: e.LastError, CreatedAt: e.CreatedAt.UTC()}
	if !e.LastAttempt.IsZero() {
		v.LastAttemptAt = e.LastAttempt.UTC().Format(eventDateLayout)
	}
	if !e.NextAttempt.IsZero() && e.Status == store.EventPending {
		v.NextAttemptAt = e.NextAttempt.UTC().Format(eventDateLayout)
	}
	if err := json.Unmarshal(e.Payload, &v.Event); err != nil || v.Event == nil {
		v.Event = map[string]any{} // not the mock's payload: cannot happen
	}
	return v
}
