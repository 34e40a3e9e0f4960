package mockserver_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/store"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scrape reads GET /metrics of ts, without credentials.
func scrape(tb testing.TB, ts *mocktest.Server) map[string]*dto.MetricFamily {
	tb.Helper()
	r := do(tb, http.DefaultClient, http.MethodGet, ts.URL+"/metrics", "", "")
	require.Equal(tb, http.StatusOK, r.status, "GET /metrics: %s", r.body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
	require.NoError(tb, err)
	return families
}

// value is the value of the sample of family name with labels (name=value
// pairs), or -1 when there is none.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	return -1
}

// GET /metrics counts what the mock did, with no business or id in any
// label: every label name is of a fixed list, and no label value holds the
// names the clients sent.
func TestMetrics(t *testing.T) {
	url, events, _ := webhookReceiver(t, 1)
	ts := newServer(t, mockserver.Config{WebhookURL: url})
	secret := ts.ClientFor("business-secret-name", "x")
	saveAs(t, ts, secret, `{"customers":[{"external_id":"cust-secret-id","account_type":"N","last_name":"A"},{"external_id":"bad-secret-id","account_type":"X","last_name":"B"}]}`)
	nextEvent(t, events) // the webhook was retried once, then delivered
	saveAs(t, ts, ts.Client, `{"customers":[{"external_id":"c2","account_type":"N","last_name":"A","kyc_level":9}]}`)
	do(t, http.DefaultClient, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{}`) // 401
	do(t, secret, http.MethodGet, ts.URL+"/no/such/path", "", "")
	r := do(t, secret, http.MethodPost, ts.URL+"/api/v1/customers/save", "application/json", `{"customers":[]}`, "Prefer", "code=503")
	require.Equal(t, http.StatusServiceUnavailable, r.status)

	families := scrape(t, ts)
	// The receiver hands the event on before the sender has read its answer.
	for deadline := time.Now().Add(10 * time.Second); value(families, "algoreg_mock_webhook_attempts_total", "outcome", "delivered") < 1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		families = scrape(t, ts)
	}
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"algoreg_mock_requests_total", []string{"route", "POST /api/v1/customers/save", "status", "200"}, 2},
		{"algoreg_mock_requests_total", []string{"route", "POST /api/v1/customers/save", "status", "401"}, 1},
		{"algoreg_mock_requests_total", []string{"route", "POST /api/v1/customers/save", "status", "503"}, 1},
		{"algoreg_mock_requests_total", []string{"route", "unmatched", "status", "404"}, 1},
		{"algoreg_mock_request_duration_seconds", []string{"route", "POST /api/v1/customers/save"}, 4},
		{"algoreg_mock_findings_total", []string{"code", "account_type_invalid", "severity", "error"}, 1},
		{"algoreg_mock_findings_total", []string{"code", "kyc_level_out_of_range", "severity", "error"}, 1},
		{"algoreg_mock_stored_customers", nil, 1}, // c2 was rejected
		{"algoreg_mock_stored_businesses", nil, 1},
		{"algoreg_mock_stored_relations", nil, 0},
		{"algoreg_mock_webhook_attempts_total", []string{"outcome", "retry"}, 1},
		{"algoreg_mock_webhook_attempts_total", []string{"outcome", "delivered"}, 1},
		{"algoreg_mock_faults_injected_total", []string{"kind", "status"}, 1},
		{"algoreg_mock_journal_entries", nil, 3}, // not the 401 and the 404: they have no business
		{"algoreg_mock_journal_dropped_total", nil, 0},
	} {
		assert.Equal(t, tt.want, value(families, tt.name, tt.labels...), "%s %v", tt.name, tt.labels)
	}
	for _, name := range []string{"algoreg_mock_journal_bytes", "algoreg_mock_open_connections", "algoreg_mock_webhook_pending_events",
		"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		assert.GreaterOrEqual(t, value(families, name), 0.0, name)
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(mockserver.MetricLabels(), l.GetName()) {
					t.Errorf("%s has label %q, not of the fixed list %v", name, l.GetName(), mockserver.MetricLabels())
				}
				if strings.Contains(l.GetValue(), "secret") {
					t.Errorf("%s has a label value %q from a client", name, l.GetValue())
				}
			}
		}
	}
}

// Config.NoMetrics turns /metrics off; two servers count apart.
func TestMetricsSettings(t *testing.T) {
	off := newServer(t, mockserver.Config{NoMetrics: true})
	r := do(t, http.DefaultClient, http.MethodGet, off.URL+"/metrics", "", "")
	assert.Equal(t, http.StatusNotFound, r.status)

	a, b := newServer(t, mockserver.Config{}), newServer(t, mockserver.Config{})
	save(t, a, `{"customers":[{"external_id":"c","account_type":"N","last_name":"A"}]}`)
	route := []string{"route", "POST /api/v1/customers/save", "status", "200"}
	assert.Equal(t, 1.0, value(scrape(t, a), "algoreg_mock_requests_total", route...))
	assert.Equal(t, -1.0, value(scrape(t, b), "algoreg_mock_requests_total", route...), "a registry per server")
}

// Every store counts its pending webhook events for the metrics.
func TestPendingEventCount(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		st := ts.open(t)
		pc, ok := st.(interface {
			PendingEventCount(context.Context) (int, error)
		})
		require.True(t, ok, "%T has no PendingEventCount", st)
		for _, b := range []string{"a", "a", "b"} {
			require.NoError(t, st.Update(t.Context(), b, func(tx store.Tx) error {
				return tx.AddEvent(store.Event{Payload: []byte(`{}`), CreatedAt: testNow})
			}))
		}
		n, err := pc.PendingEventCount(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
}
