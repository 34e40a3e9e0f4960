package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/google/uuid"
)

// SaveStats counts what one save did, for the request log.
type SaveStats struct {
	Customers, Relations int // records in the request
	Added                int // customers created
	Errors, Warnings     int // records with errors, with warnings
	DetailOmitted        int // messages left out of the answer (rules.Outcome.DetailOmitted)
}

// A store.Tx is what rules.Evaluate reads the stored records through.
var _ rules.State = store.Tx(nil)

// Save applies a decoded Save customers request to business, exactly as POST
// /api/v1/customers/save does after authentication and decoding, and returns
// the response body. It is how the mock preloads data, and how Go tests can
// drive the rules without HTTP. It is safe for concurrent use; one call is one
// atomic step for the business.
//
// The rules are rules.Evaluate's, run against the business's stored records
// inside the store's transaction; Save adds the customer_ids of new customers
// and writes what Evaluate decided to store. With Config.WebhookURL set, the
// customers_updated event of a save that stored customers is added to the
// store's outbox in the same transaction. An error of the store (a failed
// read or write, or a commit that failed) is returned, with nothing stored
// (no event either); the HTTP handler answers it 503.
func (s *Server) Save(ctx context.Context, business string, req *openapi.SaveCustomersRequest) (*openapi.SaveCustomersResponse, SaveStats, error) {
	return s.save(ctx, business, req, 0)
}

// save is Save with the answer's detail bounded to detailBudget bytes (see
// rules.Env.DetailBudget; 0 for no bound).
func (s *Server) save(ctx context.Context, business string, req *openapi.SaveCustomersRequest, detailBudget int) (*openapi.SaveCustomersResponse, SaveStats, error) {
	verify := req.VerifyInput != nil && *req.VerifyInput
	resp := openapi.NewSaveCustomersResponse(verify)
	now := s.now().UTC()
	y, m, d := now.Date()
	env := rules.Env{Today: rules.MakeDate(y, int(m), d), NowNanos: now.UnixNano(), DetailBudget: detailBudget}
	stats := SaveStats{Customers: len(req.Customers), Relations: len(req.Relations)}
	var out rules.Outcome
	event := false
	customerIDs, relationIDs := requestIDs(req)
	noteTouched(ctx, customerIDs)
	err := s.store.Update(ctx, business, func(tx store.Tx) error {
		event = false // fn may run again, should the store retry the transaction
		if p, ok := tx.(store.Preloader); ok {
			if err := p.Preload(customerIDs, relationIDs); err != nil {
				return err
			}
		}
		var err error
		if out, err = rules.Evaluate(s.rules, env, tx, req); err != nil || verify {
			return err
		}
		if err := write(tx, &out, resp); err != nil || s.webhooks == nil {
			return err
		}
		e, ok, err := customersUpdated(business, now, out.Customers)
		if err != nil || !ok {
			return err
		}
		event = true
		return tx.AddEvent(e)
	})
	stats.Errors, stats.Warnings, stats.DetailOmitted = out.Errors, out.Warnings, out.DetailOmitted
	if err != nil {
		return nil, stats, err
	}
	if !verify {
		stats.Added = len(out.New)
	}
	resp.Status = out.Status
	if out.Detail != nil {
		resp.Detail = out.Detail
	}
	if event {
		s.webhooks.wakeUp()
	}
	return resp, stats, nil
}

// requestIDs returns the ids of the stored records that evaluating req may
// read: its customers' external_ids, the customers its relations name that
// are not among those (the rules read a relation's end from the store only
// when the request does not save it), and its relation_external_ids.
func requestIDs(req *openapi.SaveCustomersRequest) (customers, relations []string) {
	customers = make([]string, 0, len(req.Customers)+2*len(req.Relations))
	for i := range req.Customers {
		if id := req.Customers[i].ExternalID; id != nil && *id != "" {
			customers = append(customers, *id)
		}
	}
	if len(req.Relations) == 0 {
		return customers, nil
	}
	inRequest := make(map[string]struct{}, len(customers))
	for _, id := range customers {
		inRequest[id] = struct{}{}
	}
	relations = make([]string, 0, len(req.Relations))
	for i := range req.Relations {
		r := &req.Relations[i]
		for _, id := range [...]*string{r.ParentCustomerExternalID, r.ChildCustomerExternalID} {
			if id == nil || *id == "" {
				continue
			}
			if _, ok := inRequest[*id]; !ok {
				inRequest[*id] = struct{}{} // once
				customers = append(customers, *id)
			}
		}
		if r.RelationExternalID != nil && *r.RelationExternalID != "" {
			relations = append(relations, *r.RelationExternalID)
		}
	}
	return customers, relations
}

// write gives the new customers of out their customer_ids, lists them in
// resp.Added, and writes out's customers and relations through tx.
func write(tx store.Tx, out *rules.Outcome, resp *openapi.SaveCustomersResponse) error {
	ids, err := newUUIDs(len(out.New))
	if err != nil {
		return err
	}
	resp.Added = make([]openapi.AddedCustomer, len(out.New))
	text := uuidText(ids)
	for j, c := range out.New {
		c.CustomerID = ids[j]
		resp.Added[j] = openapi.AddedCustomer{CustomerID: text[36*j : 36*j+36], ExternalID: c.ExternalID}
	}
	return store.PutAll(tx, out.Customers, out.Relations)
}

// newUUIDs returns n random (version 4) UUIDs from one read of crypto/rand.
func newUUIDs(n int) ([]uuid.UUID, error) {
	if n == 0 {
		return nil, nil
	}
	buf := make([]byte, 16*n)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("customer_id: %w", err)
	}
	ids := make([]uuid.UUID, n)
	for i := range ids {
		copy(ids[i][:], buf[16*i:])
		ids[i][6] = (ids[i][6] & 0x0f) | 0x40 // version 4
		ids[i][8] = (ids[i][8] & 0x3f) | 0x80 // variant RFC 9562
	}
	return ids, nil
}

// uuidText returns the text forms of ids (as uuid.UUID.String writes them),
// one after the other in one string: the customer_ids of an answer cost one
// allocation, not one each.
func uuidText(ids []uuid.UUID) string {
	b := make([]byte, 0, 36*len(ids))
	for _, id := range ids {
		b = hex.AppendEncode(b, id[0:4])
		for _, group := range [...][]byte{id[4:6], id[6:8], id[8:10], id[10:16]} {
			b = hex.AppendEncode(append(b, '-'), group)
		}
	}
	return string(b)
}
