package mockserver_test

import (
	"io"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
)

func TestSmoke(t *testing.T) {
	ts := mockserver.NewTestServer(t)
	for _, body := range []string{
		`{"customers":[{"external_id":"a","account_type":"N","last_name":"X","fist_name":"Y"}],"relations":[{"relation_external_id":"r","parent_customer_external_id":"a","child_customer_external_id":"b","relation_type":1}]}`,
		`{"customers":[{"external_id":"a","kyc_level":"x"}]}`,
		`{"customers":[`,
	} {
		resp, err := ts.Client.Post(ts.URL+"/api/v1/customers/save", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		t.Logf("%d %s", resp.StatusCode, b)
	}
	for _, p := range []string{"/__admin/customers", "/__admin/customers/a", "/__admin/relations", "/healthz", "/nope"} {
		resp, err := ts.Client.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		t.Logf("%s %d %s", p, resp.StatusCode, b)
	}
}
