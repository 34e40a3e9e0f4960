package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

const validBody = `{"customers":[{"external_id":"c-1","account_type":"N","last_name":"Doe","review_groups":"a;b","kyc_level":1,"variations":[{"first_name":"J"}]}],"verify_input":false}`

func TestHandlerSave(t *testing.T) {
	v := openapi.MustNewValidator()
	tests := []struct {
		mode, body string
		wantStatus int
	}{
		{"none", validBody, http.StatusOK},
		{"none", `{`, http.StatusOK}, // nothing decoded, so nothing rejected
		{"std", validBody, http.StatusOK},
		{"std", `{`, http.StatusBadRequest},
		{"std", `{"customers":[{"kyc_level":"high"}]}`, http.StatusUnprocessableEntity},
		{"project", validBody, http.StatusOK},
		{"project", `{`, http.StatusBadRequest},
		{"project", `{"customers":[{"kyc_level":"high"}]}`, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.mode+"/"+tt.body, func(t *testing.T) {
			srv := httptest.NewServer(newHandler(decoders[tt.mode]))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/customers/save", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.StatusCode; got != tt.wantStatus {
				t.Fatalf("got status %d, want %d (body %s)", got, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusOK {
				if !bytes.Equal(body, fixedResponse) {
					t.Errorf("got body %s, want %s", body, fixedResponse)
				}
				// The fixed answer must be one the real endpoint may give.
				if err := v.ValidateResponse(req, resp.StatusCode, resp.Header, body); err != nil {
					t.Errorf("fixed response is off-spec: %v", err)
				}
			}
		})
	}
}

func TestDecodersAllKnown(t *testing.T) {
	for _, name := range []string{"none", "std", "project"} {
		if decoders[name] == nil {
			t.Errorf("got no decoder %q, want one", name)
		}
	}
}

func TestRunRejectsUnknownMode(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"baseline", "-decode", "bogus"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `unknown -decode "bogus"`) {
		t.Errorf("got %v, want an unknown -decode error", err)
	}
}
