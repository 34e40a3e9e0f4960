package mockserver

import (
	"fmt"
	"net/http"

	"github.com/algoreg-kit/algoreg-kit/internal/buildinfo"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// maxNonce is the longest nonce GET /__admin/config echoes.
const maxNonce = 128

// kitConfig is the body of GET /__admin/config: the settings in force, each
// taken from where the server keeps it (the rules from the rules.Config the
// mock runs, the rest from its Config), so that there is no second list of
// them. The document's schema of the answer lists every property, and the
// tests check every answer against it.
type kitConfig struct {
	Kit       kitInfo           `json:"kit"`
	Rules     ruleSettings      `json:"rules"`
	Auth      authSettings      `json:"auth"`
	Requests  requestSettings   `json:"requests"`
	Transport transportSettings `json:"transport"`
	Webhooks  webhookSettings   `json:"webhooks"`
}

// kitInfo says which kit answered, and repeats what the request said: the
// nonce of its query and the business of its credentials. A stub generated
// from the document (or recorded from another run) cannot know either, so a
// client that sent a fresh random nonce and gets it back, with the header,
// knows it is talking to an algoreg-kit mock.
type kitInfo struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Revision string `json:"revision"`
	Nonce    string `json:"nonce"`
	Business string `json:"business"`
}

// ruleSettings is rules.Config as JSON, with the values of _op, which no
// setting changes.
type ruleSettings struct {
	rules.Config
	VariationOps []string `json:"variation_ops"`
}

type authSettings struct {
	OpenMode               bool    `json:"open_mode"`
	Accounts               int     `json:"accounts"`
	TokenTTLSeconds        float64 `json:"token_ttl_seconds"`
	LockoutThreshold       int     `json:"lockout_threshold"`
	LockoutDurationSeconds float64 `json:"lockout_duration_seconds"`
	OperatorEndpoints      bool    `json:"operator_endpoints"`
}

type requestSettings struct {
	Lenient       bool    `json:"lenient"`
	KinValidation bool    `json:"kin_validation"`
	RateLimit     float64 `json:"rate_limit"`
	RateBurst     int     `json:"rate_burst"`
}

type transportSettings struct {
	MaxConns                 int     `json:"max_conns"`
	MaxHeaderBytes           int     `json:"max_header_bytes"`
	BodyMemory               int64   `json:"body_memory"`
	BodyWaitSeconds          float64 `json:"body_wait_seconds"`
	MinBodyRate              int64   `json:"min_body_rate"`
	ReadHeaderTimeoutSeconds float64 `json:"read_header_timeout_seconds"`
	IdleTimeoutSeconds       float64 `json:"idle_timeout_seconds"`
}

type webhookSettings struct {
	Enabled         bool    `json:"enabled"`
	Signed          bool    `json:"signed"`
	RetryForSeconds float64 `json:"retry_for_seconds"`
}

// handleConfig is GET /__admin/config: the settings in force, for any
// authenticated caller, with the kit's version in the Algoreg-Kit-Version
// header and the request's nonce and business repeated (see kitInfo).
func handleConfig(s *Server) http.Handler {
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		nonce := r.URL.Query().Get("nonce")
		if !validNonce(nonce) {
			writeProblem(w, r, http.StatusBadRequest, "bad-parameter", "Bad query parameter",
				fmt.Sprintf("nonce must be at most %d letters, digits, '-', '_', '.' or '~'; send a fresh random one, e.g. 32 hex digits.", maxNonce))
			return
		}
		body := s.settings()
		body.Kit.Nonce, body.Kit.Business = nonce, string(business)
		w.Header().Set(openapi.KitVersionHeader, body.Kit.Version)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, body)
	})
}

// validNonce reports whether n is a nonce GET /__admin/config echoes: empty,
// or up to maxNonce of the URL's unreserved characters (RFC 3986), so that
// the echo is plain text wherever it is written.
func validNonce(n string) bool {
	if len(n) > maxNonce {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
		default:
			return false
		}
	}
	return true
}

// settings is the body of GET /__admin/config without what the request
// adds.
func (s *Server) settings() kitConfig {
	build := buildinfo.Current()
	rc := s.rules.Config
	rc.RelationTypes = nonNil(rc.RelationTypes)
	rc.ReviewGroups, rc.CustomFields = nonNil(rc.ReviewGroups), nonNil(rc.CustomFields)
	c := s.cfg
	body := kitConfig{
		Kit:   kitInfo{Name: openapi.KitName, Version: build.Version, Revision: build.Revision},
		Rules: ruleSettings{Config: rc, VariationOps: rules.VariationOps},
		Auth: authSettings{OpenMode: c.Users == nil, Accounts: len(c.Users), TokenTTLSeconds: c.TokenTTL.Seconds(),
			LockoutThreshold: c.LockoutThreshold, LockoutDurationSeconds: c.LockoutDuration.Seconds(),
			OperatorEndpoints: c.AdminToken != ""},
		Requests: requestSettings{Lenient: c.Lenient, KinValidation: c.KinValidation},
		Transport: transportSettings{MaxConns: c.MaxConns, MaxHeaderBytes: c.MaxHeaderBytes, BodyMemory: c.BodyMemory,
			BodyWaitSeconds: c.BodyWait.Seconds(), MinBodyRate: c.MinBodyRate,
			ReadHeaderTimeoutSeconds: c.ReadHeaderTimeout.Seconds(), IdleTimeoutSeconds: c.IdleTimeout.Seconds()},
		Webhooks: webhookSettings{Enabled: c.WebhookURL != "", Signed: c.WebhookSecret != "", RetryForSeconds: c.WebhookRetryFor.Seconds()},
	}
	if s.limits != nil {
		body.Requests.RateLimit, body.Requests.RateBurst = c.RateLimit, s.limits.burst
	}
	return body
}

// nonNil returns s, or an empty slice for nil, so that JSON has [] rather
// than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
