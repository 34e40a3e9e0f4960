package mockserver

import "github.com/algoreg-kit/algoreg-kit/internal/retry"

// WithWebhookBackoff sets the webhook sender's backoff of cfg, for tests
// that must not wait for the default one.
func WithWebhookBackoff(cfg Config, p retry.Policy) Config {
	cfg.webhookBackoff = &p
	return cfg
}

// BodyPeak is the most request-body bytes s held at once (its bodyBudget).
func BodyPeak(s *Server) int64 { return s.bodies.peak.Load() }

// MetricLabels are the label names /metrics may use.
func MetricLabels() []string { return metricLabels }
