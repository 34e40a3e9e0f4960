package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// The replica test: three mock processes on one PostgreSQL database behave
// as one mock. 32 clients spread over them save the same new external_ids at
// the same moments, with a token one replica signed: each external_id gets
// one customer_id and is in added once across every answer. Wrong passwords
// spread over the replicas lock the account on all of them.

const (
	replicaCount   = 3
	replicaClients = 32
	replicaBatches = 12 // requests per client
	replicaBatch   = 8  // external_ids per request, the same for every client
)

func TestReplicasPostgreSQL(t *testing.T) {
	db := pgtest.NewDatabase(t) // skips locally without PostgreSQL, fails under CI=true
	bin := buildBinary(t)
	users := filepath.Join(t.TempDir(), "users.csv")
	os.WriteFile(users, []byte("username,password,business\napi@acme.example,s3cret,acme\nlocked@acme.example,pw,acme\n"), 0o600)
	replicas := make([]*mockProcess, replicaCount)
	for i := range replicas {
		replicas[i] = startProcess(t, bin, "--state", db, "--users", users, "--lockout-threshold", fmt.Sprint(replicaCount), "--lockout-duration", "1h")
	}
	token := replicaToken(t, replicas[0].URL, "api@acme.example", "s3cret")
	for i, r := range replicas {
		if status, b := replicaDo(r.URL, http.MethodGet, "/__admin/customers?limit=1", token, nil); status != 200 {
			t.Errorf("the token replica 0 signed, on replica %d: %d %s", i, status, b)
		}
	}
	added, requests := replicaSaves(t, replicas, token)
	checkAddedOnce(t, replicas[replicaCount-1].URL, token, added)
	checkLockoutShared(t, replicas)
	t.Logf("%d replicas, %d clients: %d requests answered 200, %d external_ids each added once with one customer_id",
		replicaCount, replicaClients, requests, len(added))
}

// replicaToken gets an access token with the password grant.
func replicaToken(t *testing.T, base, user, password string) string {
	t.Helper()
	resp, err := postToken(base, user, password)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token of %s: %d, %v", user, resp.StatusCode, err)
	}
	return tok.AccessToken
}

// replicaDo sends a request with a bearer token and returns the answer.
func replicaDo(base, method, path, token string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// replicaSaves runs the clients: client c sends its requests to replica
// c%3; request k of every client holds the same replicaBatch new
// external_ids (in an order of its own), so that every replica tries to
// create each of them at once. It returns, for each external_id, the
// customer_ids the answers' added lists gave it, and the number of answers.
func replicaSaves(t *testing.T, replicas []*mockProcess, token string) (map[string][]string, int) {
	var (
		mu       sync.Mutex
		added    = map[string][]string{}
		requests int
		wg       sync.WaitGroup
	)
	for c := range replicaClients {
		base := replicas[c%len(replicas)].URL
		rnd := rand.New(rand.NewPCG(uint64(c), 1))
		wg.Go(func() {
			for k := range replicaBatches {
				ids := make([]map[string]any, replicaBatch)
				for i, j := range rnd.Perm(replicaBatch) {
					ids[i] = map[string]any{"external_id": fmt.Sprintf("x%03d", k*replicaBatch+j), "account_type": "N", "last_name": fmt.Sprintf("client %d", c)}
				}
				body, _ := json.Marshal(map[string]any{"customers": ids})
				status, b := replicaDo(base, http.MethodPost, "/api/v1/customers/save", token, body)
				var resp openapi.SaveCustomersResponse
				if err := json.Unmarshal(b, &resp); status != 200 || err != nil || resp.Status != openapi.StatusOK {
					t.Errorf("client %d, request %d: %d %s", c, k, status, b)
					return
				}
				mu.Lock()
				requests++
				for _, a := range resp.Added {
					added[a.ExternalID] = append(added[a.ExternalID], a.CustomerID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return added, requests
}

// checkAddedOnce wants every external_id sent in added exactly once, with
// the customer_id the database holds, and no other customer stored.
func checkAddedOnce(t *testing.T, base, token string, added map[string][]string) {
	t.Helper()
	status, b := replicaDo(base, http.MethodGet, "/__admin/customers?limit=1000", token, nil)
	var page struct {
		Customers []struct {
			ExternalID string `json:"external_id"`
			CustomerID string `json:"customer_id"`
		} `json:"customers"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal(b, &page); status != 200 || err != nil {
		t.Fatalf("listing: %d %.300s", status, b)
	}
	if want := replicaBatches * replicaBatch; page.Total != want || len(added) != want {
		t.Errorf("%d customers stored and %d external_ids added, want %d of each", page.Total, len(added), want)
	}
	for _, c := range page.Customers {
		if ids := added[c.ExternalID]; len(ids) != 1 || ids[0] != c.CustomerID {
			t.Errorf("%s: stored with customer_id %s, added %d times with %v; want once, with the stored one", c.ExternalID, c.CustomerID, len(ids), ids)
		}
	}
}

// checkLockoutShared makes one wrong password on each replica (the
// threshold is their number), then wants the right password refused as
// locked on every replica, by the token endpoint and by Basic.
func checkLockoutShared(t *testing.T, replicas []*mockProcess) {
	t.Helper()
	grant := func(base, password string) (int, string) {
		resp, err := postToken(base, "locked@acme.example", password)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i, r := range replicas {
		if status, b := grant(r.URL, "wrong"); status != 400 || strings.Contains(b, "locked") {
			t.Errorf("wrong password %d, on replica %d: %d %s, want 400 invalid_grant, not yet locked", i+1, i, status, b)
		}
	}
	for i, r := range replicas {
		if status, b := grant(r.URL, "pw"); status != 400 || !strings.Contains(b, "locked") {
			t.Errorf("right password on replica %d after %d wrong ones spread over the replicas: %d %s, want invalid_grant locked", i, len(replicas), status, b)
		}
		if status, _ := mockDo(t, http.MethodGet, r.URL+"/__admin/customers", "locked@acme.example", "pw", ""); status != http.StatusUnauthorized {
			t.Errorf("Basic with the right password on replica %d while locked: %d, want 401", i, status)
		}
	}
}

// postToken asks base for a token with the password grant's JSON body.
func postToken(base, user, password string) (*http.Response, error) {
	body, _ := json.Marshal(openapi.TokenRequest{GrantType: "password", Username: user, Password: password})
	return http.Post(base+"/api/v1/token", "application/json", bytes.NewReader(body))
}
