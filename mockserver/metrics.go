package mockserver

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The Prometheus metrics of GET /metrics, in a registry of the Server's own
// (never the global one), so that two servers in one process, or two tests,
// count apart. No label value names a business, a customer or anything a
// client sends: the labels are the route patterns, statuses, codes of the
// catalogue and the fixed words below (metricLabels lists them).

// metricLabels are the label names /metrics uses, with the Go collector's
// version and quantile, the histograms' le and promhttp's cause (TestMetrics).
var metricLabels = []string{"route", "status", "code", "severity", "outcome", "kind", "version", "quantile", "le", "cause"}

// metricsStoreCache is how long the store's counts are reused between
// scrapes, and metricsStoreTimeout how long a scrape waits for them: a
// count of a large PostgreSQL state is a query over every row.
const (
	metricsStoreCache   = 10 * time.Second
	metricsStoreTimeout = 2 * time.Second
)

// metrics holds the Server's collectors. A nil *metrics (Config.NoMetrics)
// counts nothing.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	findings *prometheus.CounterVec
	webhooks *prometheus.CounterVec
	faults   *prometheus.CounterVec
}

// newMetrics registers the collectors of s, which must have its store,
// journal and connection limiter.
func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "algoreg_mock_requests_total",
			Help: "Requests answered, by route pattern (\"unmatched\": none) and status (0: the connection taken over by an injected fault; 499: the client went away)."},
			[]string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "algoreg_mock_request_duration_seconds",
			Help:    "Time from the request's headers to the end of its answer, by route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
			[]string{"route"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "algoreg_mock_findings_total",
			Help: "Error and warning messages in the answers of saves, by code of the catalogue and severity (error or warning)."},
			[]string{"code", "severity"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "algoreg_mock_webhook_attempts_total",
			Help: "Webhook delivery attempts of this process, by outcome: delivered, retry (failed, tried again later) or failed (failed, and the event given up)."},
			[]string{"outcome"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "algoreg_mock_faults_injected_total",
			Help: "Faults injected by Prefer headers and fault rules, by kind: status, latency, reset, empty, truncated or malformed."},
			[]string{"kind"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.findings, m.webhooks, m.faults,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{s: s},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "algoreg_mock_open_connections",
			Help: "Connections open on the mock's Listener (at most --max-conns)."}, func() float64 { return float64(s.conns.openCount()) }))
	if j := s.journal; j != nil {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "algoreg_mock_journal_entries",
				Help: "Requests held by the request journal, every business together."}, func() float64 { return float64(j.stats().entries) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "algoreg_mock_journal_bytes",
				Help: "Bytes the request journal counts for its entries (at most --journal-total-bytes)."}, func() float64 { return float64(j.stats().bytes) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "algoreg_mock_journal_dropped_total",
				Help: "Journal entries dropped by its bounds, oldest first."}, func() float64 { return float64(j.stats().dropped) }))
	}
	return m
}

// handler serves the registry in the Prometheus text format (or OpenMetrics,
// when the scraper asks for it).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// metricsRoutes is GET /metrics, without credentials (it names no
// business); none with Config.NoMetrics (404).
func (s *Server) metricsRoutes() []route {
	if s.metrics == nil {
		return nil
	}
	return []route{{"GET /metrics", true, s.metrics.handler()}}
}

// observeRequest counts one answered request and, for a save, the findings
// of its answer.
func (m *metrics) observeRequest(route string, status int, d time.Duration, resp *openapi.SaveCustomersResponse) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, statusLabel(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
	if resp == nil || len(resp.Detail) == 0 {
		return
	}
	type finding struct{ code, severity string }
	n := map[finding]int{}
	for _, d := range resp.Detail {
		for _, msg := range d.Errors {
			n[finding{msg.Code, "error"}]++
		}
		for _, msg := range d.Warnings {
			n[finding{msg.Code, "warning"}]++
		}
	}
	for f, c := range n {
		m.findings.WithLabelValues(f.code, f.severity).Add(float64(c))
	}
}

// faultInjected counts one fault of kind (a fault's name, "status" or
// "latency").
func (m *metrics) faultInjected(kind string) {
	if m != nil {
		m.faults.WithLabelValues(kind).Inc()
	}
}

// webhookAttempt counts one delivery attempt: delivered, or failed and
// retried later, or failed and given up.
func (m *metrics) webhookAttempt(delivered, givenUp bool) {
	if m == nil {
		return
	}
	outcome := "retry"
	switch {
	case delivered:
		outcome = "delivered"
	case givenUp:
		outcome = "failed"
	}
	m.webhooks.WithLabelValues(outcome).Inc()
}

// statusLabels are the status label values, made once.
var statusLabels = func() (l [600]string) {
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

func statusLabel(status int) string {
	if status >= 0 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

// openCount is the number of connections open.
func (l *connLimiter) openCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// pendingCounter is a store that counts its pending webhook events in one
// step (every store of algoreg-kit).
type pendingCounter interface {
	PendingEventCount(ctx context.Context) (int, error)
}

// storeCollector reports what the store holds, every business together: the
// customers, relations and businesses (store.Store.Businesses), and the
// webhook events pending in the outbox. On a shared database it is the
// database's, the same on every replica. The counts are read at most every
// metricsStoreCache, within metricsStoreTimeout; when the store fails, the
// last counts read are reported.
type storeCollector struct {
	s *Server

	mu                                    sync.Mutex // guards the fields below; one read of the store at a time
	read                                  time.Time
	ok                                    bool
	customers, relations, businesses, pnd int
	pendingOK                             bool
}

var (
	descCustomers  = prometheus.NewDesc("algoreg_mock_stored_customers", "Customers in the state, every business together.", nil, nil)
	descRelations  = prometheus.NewDesc("algoreg_mock_stored_relations", "Relations in the state, every business together.", nil, nil)
	descBusinesses = prometheus.NewDesc("algoreg_mock_stored_businesses", "Businesses with any customer or relation in the state.", nil, nil)
	descPending    = prometheus.NewDesc("algoreg_mock_webhook_pending_events", "Webhook events waiting in the outbox to be delivered: the sender's queue.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCustomers
	ch <- descRelations
	ch <- descBusinesses
	ch <- descPending
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.read) >= metricsStoreCache {
		c.refresh()
	}
	if c.ok {
		ch <- prometheus.MustNewConstMetric(descCustomers, prometheus.GaugeValue, float64(c.customers))
		ch <- prometheus.MustNewConstMetric(descRelations, prometheus.GaugeValue, float64(c.relations))
		ch <- prometheus.MustNewConstMetric(descBusinesses, prometheus.GaugeValue, float64(c.businesses))
	}
	if c.pendingOK {
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(c.pnd))
	}
}

// refresh reads the counts from the store.
func (c *storeCollector) refresh() {
	c.read = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), metricsStoreTimeout)
	defer cancel()
	const page = 1 << 20 // in practice one call: a page is an O(businesses) pass on every store
	var customers, relations, total int
	for offset := 0; ; offset += page {
		list, n, err := c.s.store.Businesses(ctx, offset, page)
		if err != nil {
			c.s.log.Warn("metrics: cannot count the stored customers; /metrics reports the last counts read", "err", err)
			customers = -1
			break
		}
		for _, b := range list {
			customers += b.Customers
			relations += b.Relations
		}
		total = n
		if len(list) < page || offset+page >= n {
			break
		}
	}
	if customers >= 0 {
		c.customers, c.relations, c.businesses, c.ok = customers, relations, total, true
	}
	if pc, ok := c.s.store.(pendingCounter); ok {
		if n, err := pc.PendingEventCount(ctx); err == nil {
			c.pnd, c.pendingOK = n, true
		} else {
			c.s.log.Warn("metrics: cannot count the pending webhook events; /metrics reports the last count read", "err", err)
		}
	}
}
