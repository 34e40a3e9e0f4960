package mockserver_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// journalPage lists the journal of client's business with query.
func journalPage(tb testing.TB, url string, client *http.Client, query string) openapi.JournalPage {
	tb.Helper()
	r := do(tb, client, http.MethodGet, url+"/__admin/requests?"+query, "", "")
	var page openapi.JournalPage
	if r.status != http.StatusOK || json.Unmarshal(r.body, &page) != nil {
		tb.Fatalf("GET /__admin/requests?%s: status %d: %s", query, r.status, r.body)
	}
	return page
}

func journalCount(tb testing.TB, url string, client *http.Client, query string) int64 {
	tb.Helper()
	r := do(tb, client, http.MethodGet, url+"/__admin/requests/count?"+query, "", "")
	var c openapi.JournalCount
	if r.status != http.StatusOK || json.Unmarshal(r.body, &c) != nil {
		tb.Fatalf("GET /__admin/requests/count?%s: status %d: %s", query, r.status, r.body)
	}
	return c.Count
}

// The journal records what a business sent and what the mock answered,
// without its credentials, and each business sees only its own.
func TestJournal(t *testing.T) {
	ts := newServer(t, mockserver.Config{})
	alice, bob := ts.ClientFor("alice", "alice-basic-secret"), ts.ClientFor("bob", "bob-secret")
	tok := do(t, http.DefaultClient, http.MethodPost, ts.URL+"/api/v1/token", "application/json",
		`{"grant_type":"password","username":"alice","password":"alice-token-secret"}`)
	require.Equal(t, http.StatusOK, tok.status)
	var tr openapi.TokenResponse
	require.NoError(t, json.Unmarshal(tok.body, &tr))
	bearer := "Bearer " + tr.AccessToken
	saveAs(t, ts, alice, `{"customers":[{"external_id":"cust-1","account_type":"N","last_name":"A"},{"external_id":"bad","account_type":"X","last_name":"B"}],
		"relations":[{"relation_external_id":"r1","parent_customer_external_id":"cust-1","child_customer_external_id":"cust-2","relation_type":1}]}`)
	r := do(t, http.DefaultClient, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json",
		`{"customers":[{"external_id":"cust-1","last_name":"A2"}]}`, "Authorization", bearer)
	require.Equal(t, http.StatusOK, r.status)
	r = do(t, alice, http.MethodPost, ts.URL+"/api/v1/customers/save", "text/plain", `{}`)
	require.Equal(t, http.StatusUnsupportedMediaType, r.status)
	saveAs(t, ts, bob, `{"customers":[{"external_id":"cust-1","account_type":"N","last_name":"B"}]}`)
	do(t, alice, http.MethodGet, ts.URL+"/__admin/customers", "", "") // the inspection API is not journaled

	page := journalPage(t, ts.URL, alice, "")
	require.Len(t, page.Requests, 4, "alice's token, two saves and the 415")
	assert.EqualValues(t, 4, page.Total)
	all, _ := json.Marshal(page)
	for _, secret := range []string{"alice-basic-secret", "alice-token-secret", tr.AccessToken,
		base64.StdEncoding.EncodeToString([]byte("alice:alice-basic-secret"))} {
		assert.NotContains(t, string(all), secret, "the journal keeps no credential")
	}
	newest, token := page.Requests[0], page.Requests[3]
	for i := 1; i < len(page.Requests); i++ {
		assert.Less(t, page.Requests[i].ID, page.Requests[i-1].ID, "newest first")
	}
	assert.Equal(t, int64(http.StatusUnsupportedMediaType), newest.Status)
	assert.Equal(t, "basic", newest.Credentials)
	assert.Equal(t, []any{"Basic [redacted]"}, newest.RequestHeaders["Authorization"])
	assert.Equal(t, "POST /api/v1/token", token.Route)
	assert.Equal(t, "none", token.Credentials)
	assert.JSONEq(t, `{"grant_type":"password","username":"alice","password":"[redacted]"}`, token.RequestBody)
	bearerSave := page.Requests[1]
	assert.Equal(t, "bearer", bearerSave.Credentials)
	assert.Equal(t, []string{"cust-1"}, bearerSave.ExternalIDs)
	first := page.Requests[2]
	assert.Equal(t, []string{"cust-1", "bad", "cust-2"}, first.ExternalIDs, "a save's customers and its relations' customers")
	assert.Equal(t, []string{"account_type_invalid", "relation_customer_unknown"}, first.Codes)
	assert.EqualValues(t, len(first.RequestBody), first.RequestBodyBytes)
	assert.False(t, first.RequestBodyTruncated)
	var answer openapi.SaveCustomersResponse
	require.NoError(t, json.Unmarshal([]byte(first.ResponseBody), &answer), "the response body as sent")
	assert.Equal(t, openapi.Status("partial"), answer.Status)

	for _, tt := range []struct {
		query string
		want  int64
	}{
		{"", 4},
		{"external_id=cust-1", 2},
		{"external_id=cust-2", 1},
		{"external_id=nobody", 0},
		{"status=200", 3},
		{"status=415", 1},
		{"code=account_type_invalid", 1},
		{"code=account_type_invalid&external_id=cust-1&status=200", 1},
		{"since=" + first.Time.Format("2006-01-02T15:04:05.999999999Z07:00"), 3},
		{"since=2999-01-01T00:00:00Z", 0},
	} {
		t.Run(tt.query, func(t *testing.T) {
			assert.Equal(t, tt.want, journalCount(t, ts.URL, alice, tt.query), "count")
			assert.EqualValues(t, tt.want, journalPage(t, ts.URL, alice, tt.query).Total, "listing's total")
		})
	}
	t.Run("paged", func(t *testing.T) {
		p := journalPage(t, ts.URL, alice, "offset=1&limit=2")
		require.Len(t, p.Requests, 2)
		assert.Equal(t, page.Requests[1].ID, p.Requests[0].ID)
		assert.EqualValues(t, 4, p.Total)
	})
	t.Run("one entry", func(t *testing.T) {
		r := do(t, alice, http.MethodGet, fmt.Sprint(ts.URL, "/__admin/requests/", first.ID), "", "")
		require.Equal(t, http.StatusOK, r.status)
		var e openapi.JournalEntry
		require.NoError(t, json.Unmarshal(r.body, &e))
		assert.Equal(t, first, e)
	})
	t.Run("isolation", func(t *testing.T) {
		bobs := journalPage(t, ts.URL, bob, "")
		require.Len(t, bobs.Requests, 1)
		assert.Equal(t, int64(1), journalCount(t, ts.URL, bob, "external_id=cust-1"))
		for _, id := range []int64{bobs.Requests[0].ID} {
			r := do(t, alice, http.MethodGet, fmt.Sprint(ts.URL, "/__admin/requests/", id), "", "")
			assert.Equal(t, http.StatusNotFound, r.status, "alice reads bob's entry %d", id)
		}
		r := do(t, bob, http.MethodGet, fmt.Sprint(ts.URL, "/__admin/requests/", first.ID), "", "")
		assert.Equal(t, http.StatusNotFound, r.status, "bob reads alice's entry")
	})
	t.Run("bad requests", func(t *testing.T) {
		for _, path := range []string{"/__admin/requests?status=abc", "/__admin/requests?limit=0", "/__admin/requests?external-id=x",
			"/__admin/requests/count?offset=1", "/__admin/requests/count?code=nope", "/__admin/requests/x", "/__admin/requests/0"} {
			r := do(t, alice, http.MethodGet, ts.URL+path, "", "")
			assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", path, r.body)
			assert.Contains(t, string(r.body), "bad-parameter", path)
		}
		r := do(t, http.DefaultClient, http.MethodGet, ts.URL+"/__admin/requests", "", "")
		assert.Equal(t, http.StatusUnauthorized, r.status)
	})
	t.Run("delete", func(t *testing.T) {
		r := do(t, alice, http.MethodDelete, ts.URL+"/__admin/requests", "", "")
		require.Equal(t, http.StatusNoContent, r.status)
		assert.Equal(t, int64(0), journalCount(t, ts.URL, alice, ""))
		assert.Equal(t, int64(1), journalCount(t, ts.URL, bob, ""), "bob's journal is untouched")
	})
}

// The bodies are cut at JournalBodyBytes, with their whole length; a body
// that is not text (gzip) is kept as base64; the journal turned off answers
// 404; the bounds drop the oldest entries, counted.
func TestJournalSettings(t *testing.T) {
	t.Run("cut", func(t *testing.T) {
		ts := newServer(t, mockserver.Config{JournalBodyBytes: 50})
		body := `{"customers":[{"external_id":"` + strings.Repeat("é", 40) + `","account_type":"N","last_name":"A"}]}`
		save(t, ts, body)
		e := journalPage(t, ts.URL, ts.Client, "").Requests[0]
		assert.True(t, e.RequestBodyTruncated)
		assert.False(t, e.RequestBodyBase64, "text cut inside a character is still text")
		assert.EqualValues(t, len(body), e.RequestBodyBytes)
		assert.Equal(t, body[:50], e.RequestBody)
		assert.True(t, e.ResponseBodyTruncated)
		assert.Len(t, e.ResponseBody, 50)
	})
	t.Run("gzip", func(t *testing.T) {
		ts := newServer(t, mockserver.Config{})
		gz := gzipped(t, []byte(`{"customers":[{"external_id":"g","account_type":"N","last_name":"A"}]}`))
		r := do(t, ts.Client, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", gz, "Content-Encoding", "gzip")
		require.Equal(t, http.StatusOK, r.status)
		e := journalPage(t, ts.URL, ts.Client, "").Requests[0]
		assert.True(t, e.RequestBodyBase64)
		raw, err := base64.StdEncoding.DecodeString(e.RequestBody)
		require.NoError(t, err)
		assert.Equal(t, gz, string(raw))
		assert.Equal(t, []string{"g"}, e.ExternalIDs)
	})
	t.Run("injected faults", func(t *testing.T) {
		ts := newServer(t, mockserver.Config{})
		body := `{"customers":[{"external_id":"f","account_type":"N","last_name":"A"}]}`
		for _, prefer := range []string{"fault=reset", "fault=truncated", "code=503"} {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/customers/save", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Prefer", prefer)
			if resp, err := ts.Client.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		// The client may see a fault before the mock, which closed the
		// connection itself, has journaled the request.
		for deadline := time.Now().Add(10 * time.Second); journalCount(t, ts.URL, ts.Client, "") < 3 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		status := map[string]int64{}
		for _, e := range journalPage(t, ts.URL, ts.Client, "").Requests {
			status[fmt.Sprint(e.RequestHeaders["Prefer"])] = e.Status
		}
		assert.Equal(t, map[string]int64{"[fault=reset]": 0, "[fault=truncated]": 0, "[code=503]": 503}, status,
			"0: the connection taken over by the fault")
	})
	t.Run("refused logins of an account", func(t *testing.T) {
		ts := newServer(t, mockserver.Config{Users: []mockserver.User{{Username: "u", Password: "right-pw", Business: "acme"}}})
		r := do(t, http.DefaultClient, http.MethodPost, ts.URL+"/api/v1/token", "application/json",
			`{"grant_type":"password","username":"u","password":"wrong-pw"}`)
		require.Equal(t, http.StatusBadRequest, r.status)
		r = do(t, ts.ClientFor("u", "wrong-pw2"), http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{}`)
		require.Equal(t, http.StatusUnauthorized, r.status)
		do(t, ts.ClientFor("nobody", "x"), http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{}`)
		page := journalPage(t, ts.URL, ts.ClientFor("u", "right-pw"), "")
		require.Len(t, page.Requests, 2, "the two refused logins of u; the unknown user's is in no journal")
		assert.EqualValues(t, 401, page.Requests[0].Status)
		assert.EqualValues(t, 400, page.Requests[1].Status)
		all, _ := json.Marshal(page)
		assert.NotContains(t, string(all), "wrong-pw")
		assert.Contains(t, string(all), `\"password\":\"[redacted]\"`)
	})
	t.Run("off", func(t *testing.T) {
		ts := newServer(t, mockserver.Config{JournalSize: -1})
		for _, m := range []string{http.MethodGet, http.MethodDelete} {
			r := do(t, ts.Client, m, ts.URL+"/__admin/requests", "", "")
			assert.Equal(t, http.StatusNotFound, r.status, m)
		}
	})
	t.Run("bound", func(t *testing.T) {
		ts := newServer(t, mockserver.Config{JournalSize: 3})
		for i := range 5 {
			save(t, ts, fmt.Sprintf(`{"customers":[{"external_id":"c%d","account_type":"N","last_name":"A"}]}`, i))
		}
		page := journalPage(t, ts.URL, ts.Client, "")
		assert.EqualValues(t, 3, page.Total)
		assert.EqualValues(t, 2, page.Dropped)
		assert.Equal(t, []string{"c4"}, page.Requests[0].ExternalIDs)
		assert.Equal(t, []string{"c2"}, page.Requests[2].ExternalIDs, "the oldest went first")
	})
}
