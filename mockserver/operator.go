package mockserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// The operator endpoints act across businesses: they exist only with
// Config.AdminToken, and take it as a bearer token (requireOperator), never a
// business's credentials.

// minAdminToken is the shortest Config.AdminToken New accepts.
const minAdminToken = 16

const operatorAuthenticate = `Bearer realm="algoreg-kit-operator"`

// checkAdminToken refuses an AdminToken that is too short to be a secret or
// that cannot be sent in a header as it is.
func checkAdminToken(tok string) error {
	if tok == "" {
		return nil
	}
	if len(tok) < minAdminToken {
		return fmt.Errorf("Config.AdminToken is %d characters; give at least %d (e.g. openssl rand -hex 16), or none to leave the operator endpoints out", len(tok), minAdminToken)
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return errors.New("Config.AdminToken has a space, a control or a non-ASCII character; use printable ASCII (e.g. openssl rand -hex 16)")
		}
	}
	return nil
}

// operatorRoutes are the operator endpoints, none without Config.AdminToken.
// routes serves them behind requireOperator instead of requireAuth (public
// in that sense: no business's credentials).
func (s *Server) operatorRoutes() []route {
	if s.cfg.AdminToken == "" {
		return nil
	}
	return []route{
		{"GET /__admin/operator/businesses", true, handleOperatorBusinesses(s)},
		{"DELETE /__admin/operator/businesses/{business}/state", true, handleOperatorResetBusiness(s)},
		{"GET /__admin/operator/businesses/{business}/webhooks", true, handleOperatorWebhooks(s)},
		{"DELETE /__admin/operator/state", true, handleOperatorResetAll(s)},
		{"GET /__admin/operator/accounts", true, handleOperatorAccounts(s)},
		{"DELETE /__admin/operator/accounts/{username}/lockout", true, handleOperatorUnlock(s)},
	}
}

// requireOperator passes on the requests that carry "Authorization: Bearer
// <Config.AdminToken>", and answers the others 401. The token is compared
// in constant time (as SHA-256 digests, so that its length does not show
// either).
func (s *Server) requireOperator(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", operatorAuthenticate)
			writeProblem(w, r, http.StatusUnauthorized, "unauthorized", "Unauthorized",
				"The operator endpoints take Authorization: Bearer <the mock's --admin-token>, not a business's credentials.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleOperatorBusinesses is GET /__admin/operator/businesses.
func handleOperatorBusinesses(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		list, total, err := s.store.Businesses(r.Context(), offset, limit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		page := openapi.BusinessPage{Businesses: []openapi.BusinessCount{}, Total: int64(total), Offset: int64(offset), Limit: int64(limit)}
		for _, b := range list {
			page.Businesses = append(page.Businesses, openapi.BusinessCount{Business: b.Business, Customers: int64(b.Customers), Relations: int64(b.Relations)})
		}
		writeJSON(w, http.StatusOK, page)
	})
}

// handleOperatorResetBusiness is DELETE
// /__admin/operator/businesses/{business}/state.
func handleOperatorResetBusiness(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.store.Reset(r.Context(), r.PathValue("business")); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleOperatorWebhooks is GET
// /__admin/operator/businesses/{business}/webhooks: what the business's own
// GET /__admin/webhooks answers.
func handleOperatorWebhooks(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.listWebhooks(w, r, r.PathValue("business"))
	})
}

// handleOperatorResetAll is DELETE /__admin/operator/state: the businesses
// that hold anything are listed first, then reset one by one.
func handleOperatorResetAll(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names, err := s.allBusinesses(r.Context())
		if err == nil {
			for _, b := range names {
				if err = s.store.Reset(r.Context(), b); err != nil {
					break
				}
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, openapi.ResetAll{BusinessesReset: int64(len(names))})
	})
}

// allBusinesses returns the name of every business that holds anything.
func (s *Server) allBusinesses(ctx context.Context) ([]string, error) {
	const page = 1000
	var names []string
	for {
		list, total, err := s.store.Businesses(ctx, len(names), page)
		if err != nil {
			return nil, err
		}
		for _, b := range list {
			names = append(names, b.Business)
		}
		if len(list) < page || len(names) >= total {
			return names, nil
		}
	}
}

// handleOperatorAccounts is GET /__admin/operator/accounts: the accounts of
// Config.Users by username, with their lockouts.
func handleOperatorAccounts(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		users := slices.SortedFunc(slices.Values(s.cfg.Users), func(a, b User) int { return strings.Compare(a.Username, b.Username) })
		page := openapi.AccountPage{Accounts: []openapi.Account{}, Total: int64(len(users)), Offset: int64(offset), Limit: int64(limit)}
		now := s.now()
		for _, u := range users[min(offset, len(users)):min(offset+limit, len(users))] {
			l, err := s.store.Lockout(r.Context(), u.Username)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			a := openapi.Account{Username: u.Username, Business: u.Business, Failures: int64(l.Failures), Locked: now.Before(l.LockedUntil)}
			if a.Locked {
				a.LockedUntil = l.LockedUntil.UTC().Format(time.RFC3339)
			}
			page.Accounts = append(page.Accounts, a)
		}
		writeJSON(w, http.StatusOK, page)
	})
}

// handleOperatorUnlock is DELETE /__admin/operator/accounts/{username}/lockout.
func handleOperatorUnlock(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		username := r.PathValue("username")
		if _, ok := s.auth.users[username]; !ok {
			detail := fmt.Sprintf("No account of --users has the username %q.", username)
			if s.auth.users == nil {
				detail = "The mock runs in open mode (no --users): it has no accounts, and nothing locks."
			}
			writeProblem(w, r, http.StatusNotFound, "not-found", "Account not found", detail)
			return
		}
		if err := s.auth.unlock(r.Context(), username); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// unlock forgets username's failed attempts and lock, in the store (for
// every server of it) and in what this server last read of it, so that its
// tokens work again here at once (on another server within lockRecheck).
func (a *authenticator) unlock(ctx context.Context, username string) error {
	if err := a.accounts.ClearFailures(ctx, username); err != nil {
		return err
	}
	a.locks.put(username, time.Time{})
	return nil
}
