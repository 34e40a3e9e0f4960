package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// storedIDs pages through /__admin/customers and returns each stored
// external_id's customer_id, failing on a customer_id given twice.
func storedIDs(tb testing.TB, ts *mocktest.Server, client *http.Client) map[string]string {
	tb.Helper()
	ids := map[string]string{}
	owner := map[string]string{}
	for offset := 0; ; offset += 1000 {
		resp, err := client.Get(fmt.Sprintf("%s/__admin/customers?limit=1000&offset=%d", ts.URL, offset))
		if err != nil {
			tb.Fatal(err)
		}
		var page openapi.CustomerPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			tb.Fatalf("list customers: %d %v", resp.StatusCode, err)
		}
		for _, c := range page.Customers {
			if other, ok := owner[c.CustomerID]; ok {
				tb.Errorf("customer_id %s is both %s's and %s's", c.CustomerID, other, c.ExternalID)
			}
			owner[c.CustomerID] = c.ExternalID
			ids[c.ExternalID] = c.CustomerID
		}
		if len(page.Customers) == 0 || offset+len(page.Customers) >= int(page.Total) {
			return ids
		}
	}
}

// tallyLines are the lines of fixtures --post's report that must not depend
// on the faults: what was added, the errors and warnings by code, the labels.
var tallyLines = regexp.MustCompile(`(?m)^fixtures: (added .*|\d+ labelled records?, .*)$`)

// fixtures --post through a mock that answers 10 % of the saves 503, resets
// 5 % and resets 5 % more after committing them (the lost answer) loads
// every record exactly once, and reports what a run without faults reports.
func TestFixturesPostThroughFaults(t *testing.T) {
	args := []string{"fixtures", "--count", "3000", "--invalid", "0.05", "--batch-size", "50", "--concurrency", "4",
		"--retries", "12", "--seed", "7", "--user", "ops", "--password", "pw"}
	run := func(rules ...string) (string, map[string]string) {
		ts := mocktest.New(t, mocktest.WithConfig(mockserver.Config{}))
		client := ts.ClientFor("ops", "pw")
		for _, rule := range rules {
			resp, err := client.Post(ts.URL+"/__admin/faults", "application/json", strings.NewReader(rule))
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("add rule %s: %v %v", rule, resp, err)
			}
			resp.Body.Close()
		}
		_, stderr, err := runSubcommand(t, nil, append(args[:1:1], append([]string{"--post", ts.URL}, args[1:]...)...)...)
		if err != nil {
			t.Fatalf("fixtures --post: %v\n%s", err, stderr)
		}
		if len(rules) > 0 {
			resp, err := client.Get(ts.URL + "/__admin/faults")
			if err != nil {
				t.Fatal(err)
			}
			var l openapi.FaultRuleList
			json.NewDecoder(resp.Body).Decode(&l)
			resp.Body.Close()
			if len(l.Rules) == 0 || l.Rules[0].Fired != 2 {
				t.Errorf("the first rule should have fired twice: %+v", l.Rules)
			}
			t.Logf("through faults: %s", stderr)
		}
		return stderr, storedIDs(t, ts, client)
	}
	clean, want := run()
	// The first rule makes sure that answers are lost after their saves
	// were applied (the first two saves are batches of customers: the
	// relations held back for follow-ups wait for them); the others are the
	// random mix.
	faulty, got := run(`{"times":2,"fault":"reset","apply_then_fail":true}`, `{"probability":0.1,"status":503,"retry_after":1}`, `{"probability":0.05,"fault":"reset"}`,
		`{"probability":0.05,"fault":"reset","apply_then_fail":true}`)
	if len(got) != len(want) {
		t.Errorf("%d customers stored through the faults, %d without", len(got), len(want))
	}
	for id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("customer %s is stored without faults, not through them", id)
		}
	}
	if g, w := tallyLines.FindAllString(faulty, -1), tallyLines.FindAllString(clean, -1); strings.Join(g, "\n") != strings.Join(w, "\n") || len(w) != 2 {
		t.Errorf("the report through faults:\n%s\nwithout:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	if !strings.Contains(faulty, "by attempts whose answers were lost") {
		t.Errorf("no answer was lost after its save was applied: the test tests nothing:\n%s", faulty)
	}
	if !strings.Contains(faulty, " 0 mismatches") {
		t.Errorf("mismatches through the faults:\n%s", faulty)
	}
}
