package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
)

// businesses is how many businesses the creates and updates spread over; the
// stored customers are counted in these at the end.
const businesses = 8

// A worker sends one request of a kind drawn from the mix after another.
type worker struct {
	id       int
	url      string
	client   *http.Client
	tally    *tally
	r        *rand.Rand
	seq      int
	created  *atomic.Int64 // customers sent in creates that were answered 2xx
	hostiles []hostileBody
}

// kinds are the kinds of requests a worker sends, by name.
var kinds = map[string]func(*worker, context.Context){
	"create":    (*worker).create,
	"update":    (*worker).update,
	"relations": (*worker).relations,
	"verify":    (*worker).verify,
	"reset":     (*worker).reset,
	"token":     (*worker).token,
	"hostile":   (*worker).hostile,
}

func (w *worker) business() string { return fmt.Sprintf("soak-%d", w.id%businesses) }

// customer is one valid customer with id; odd draws are firms.
func (w *worker) customer(id string) map[string]any {
	if w.r.IntN(2) == 0 {
		return map[string]any{"external_id": id, "account_type": "F", "company_name": fmt.Sprintf("Firm %d", w.r.IntN(1e6))}
	}
	return map[string]any{"external_id": id, "account_type": "N", "last_name": fmt.Sprintf("Doe%d", w.r.IntN(1e6)), "first_name": "Ann"}
}

// newIDs are n ids never used before.
func (w *worker) newIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		w.seq++
		ids[i] = fmt.Sprintf("w%d-%d", w.id, w.seq)
	}
	return ids
}

// save posts body (marshalled) to the save endpoint of business and counts
// the answer as kind; it returns the status (0 when none).
func (w *worker) save(ctx context.Context, kind, business string, body any) int {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.url+"/api/v1/customers/save", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(business, "pw")
	return w.send(kind, req)
}

// send sends req and counts its answer as kind.
func (w *worker) send(kind string, req *http.Request) int {
	resp, err := w.client.Do(req)
	if err != nil {
		if req.Context().Err() == nil {
			w.tally.add(kind, 0, err, err.Error())
		}
		return 0
	}
	head := make([]byte, 200)
	n, _ := io.ReadFull(resp.Body, head)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	w.tally.add(kind, resp.StatusCode, nil, fmt.Sprintf("%d %s", resp.StatusCode, head[:n]))
	return resp.StatusCode
}

func (w *worker) customers(ids []string) []map[string]any {
	cs := make([]map[string]any, len(ids))
	for i, id := range ids {
		cs[i] = w.customer(id)
	}
	return cs
}

// create saves 1 to 20 new customers.
func (w *worker) create(ctx context.Context) {
	ids := w.newIDs(1 + w.r.IntN(20))
	if w.save(ctx, "create", w.business(), map[string]any{"customers": w.customers(ids)})/100 == 2 {
		w.created.Add(int64(len(ids)))
	}
}

// update saves 1 to 20 of a fixed set of 500 customers of the business.
func (w *worker) update(ctx context.Context) {
	ids := make([]string, 1+w.r.IntN(20))
	for i := range ids {
		ids[i] = fmt.Sprintf("u-%d", w.r.IntN(500))
	}
	w.save(ctx, "update", w.business(), map[string]any{"customers": w.customers(ids)})
}

// relations saves a firm and 1 to 10 new people, each related to it.
func (w *worker) relations(ctx context.Context) {
	ids := w.newIDs(2 + w.r.IntN(10))
	cs := w.customers(ids)
	cs[0] = map[string]any{"external_id": ids[0], "account_type": "F", "company_name": "Parent"}
	var rels []map[string]any
	for _, id := range ids[1:] {
		rels = append(rels, map[string]any{"relation_external_id": "r-" + id, "parent_customer_external_id": ids[0],
			"child_customer_external_id": id, "relation_type": 1})
	}
	if w.save(ctx, "relations", w.business(), map[string]any{"customers": cs, "relations": rels})/100 == 2 {
		w.created.Add(int64(len(ids)))
	}
}

// verify sends a dry run of 1 to 20 new customers.
func (w *worker) verify(ctx context.Context) {
	ids := w.newIDs(1 + w.r.IntN(20))
	w.save(ctx, "verify", w.business(), map[string]any{"customers": w.customers(ids), "verify_input": true})
}

// reset saves 10 customers in a business of its own, then empties it.
func (w *worker) reset(ctx context.Context) {
	biz := fmt.Sprintf("churn-%d", w.id)
	w.save(ctx, "reset:save", biz, map[string]any{"customers": w.customers(w.newIDs(10))})
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, w.url+"/__admin/state", nil)
	req.SetBasicAuth(biz, "pw")
	w.send("reset", req)
}

// token asks for a token (the documented JSON), then saves with it.
func (w *worker) token(ctx context.Context) {
	body := fmt.Sprintf(`{"grant_type":"password","username":%q,"password":"pw"}`, w.business())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.url+"/api/v1/token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.tally.add("token", 0, err, err.Error())
		}
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	derr := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&tok)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	w.tally.add("token", resp.StatusCode, nil, fmt.Sprintf("%d decode: %v", resp.StatusCode, derr))
	if tok.AccessToken == "" {
		return
	}
	b, _ := json.Marshal(map[string]any{"customers": w.customers([]string{fmt.Sprintf("t-%d", w.r.IntN(100))})})
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, w.url+"/api/v1/customers/save", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	w.send("token:save", req)
}

// basic is the Authorization header of business.
func basic(business string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(business+":pw"))
}
