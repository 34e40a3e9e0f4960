package mockserver

import (
	"context"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store"
	"golang.org/x/time/rate"
)

// User is a fixed account: a programmatic user of one business.
type User struct {
	Username string
	Password string
	Business string
}

// ParseUsers reads a users file: CSV with the header line
// "username,password,business" and one account per line. Blank lines and
// lines starting with '#' are skipped; a username may appear once. A line with
// an empty business uses the username as the business.
func ParseUsers(r io.Reader) ([]User, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("users file is empty; it needs the header username,password,business and one account per line")
	}
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if len(header) != 3 || strings.TrimSpace(header[0]) != "username" || strings.TrimSpace(header[1]) != "password" || strings.TrimSpace(header[2]) != "business" {
		return nil, fmt.Errorf("users file: first line is %q; it must be the header username,password,business", strings.Join(header, ","))
	}
	var users []User
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("users file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 3 {
			return nil, fmt.Errorf("users file line %d: %d fields; want username,password,business", line, len(rec))
		}
		u := User{Username: strings.TrimSpace(rec[0]), Password: rec[1], Business: strings.TrimSpace(rec[2])}
		if u.Username == "" || u.Password == "" {
			return nil, fmt.Errorf("users file line %d: username and password must not be empty", line)
		}
		if u.Business == "" {
			u.Business = u.Username
		}
		if len(u.Business) > MaxBusinessBytes {
			return nil, fmt.Errorf("users file line %d: business %.40q… is longer than %d bytes; shorten it (or the username, when the business is left empty)", line, u.Business, MaxBusinessBytes)
		}
		if seen[u.Username] {
			return nil, fmt.Errorf("users file line %d: username %q is listed twice", line, u.Username)
		}
		seen[u.Username] = true
		users = append(users, u)
	}
	if len(users) == 0 {
		return nil, errors.New("users file has no account; add lines username,password,business after the header")
	}
	return users, nil
}

// checkUsers refuses the accounts that ParseUsers would refuse, and an empty
// non-nil list, with which no one could log in.
func checkUsers(users []User) error {
	if users != nil && len(users) == 0 {
		return errors.New("Config.Users is empty, so no one could log in; add accounts, or leave it nil for open mode")
	}
	seen := map[string]bool{}
	for i, u := range users {
		switch {
		case u.Username == "" || u.Password == "":
			return fmt.Errorf("Config.Users[%d] has an empty username or password; give both", i)
		case u.Business == "":
			return fmt.Errorf("Config.Users[%d] (%q) has no business; set Business (ParseUsers uses the username)", i, u.Username)
		case len(u.Business) > MaxBusinessBytes:
			return fmt.Errorf("Config.Users[%d] (%q) has a business longer than %d bytes; shorten it", i, u.Username, MaxBusinessBytes)
		case seen[u.Username]:
			return fmt.Errorf("Config.Users[%d]: username %q is listed twice; keep one", i, u.Username)
		}
		seen[u.Username] = true
	}
	return nil
}

// The failures of authenticator.check other than the store's.
var (
	errBadCredentials = errors.New("the username or password is wrong")
	errLocked         = errors.New("the account is locked after repeated wrong passwords")
	errLongBusiness   = fmt.Errorf("the username, which names the business in open mode, is longer than %d bytes", MaxBusinessBytes)
)

// authenticator checks passwords, locks accounts and verifies tokens. What
// must be the same on every process of the store lives in the store: the
// lockouts (store.Accounts) and the secret that signs the stateless tokens
// (token.go), read once and kept.
type authenticator struct {
	users     map[string]User      // nil in open mode
	byAccount map[accountID]string // the usernames of users, by accountOf
	accounts  store.Accounts
	threshold int
	lockFor   time.Duration
	now       func() time.Time
	secret    atomic.Pointer[[]byte] // nil until first read
	locks     lockCache
}

func newAuthenticator(cfg Config, accounts store.Accounts) *authenticator {
	a := &authenticator{accounts: accounts, threshold: cfg.LockoutThreshold, lockFor: cfg.LockoutDuration, now: cfg.Now}
	if cfg.Users != nil {
		a.users = make(map[string]User, len(cfg.Users))
		a.byAccount = make(map[accountID]string, len(cfg.Users))
		for _, u := range cfg.Users {
			a.users[u.Username] = u
			a.byAccount[accountOf(u.Username)] = u.Username // distinct 64-bit prefixes: a collision is 2^-64 per pair
		}
	}
	return a
}

// unknownUser is the lockout record an unknown username's attempts go to:
// no account can have it (a username is never empty), it never locks, and
// it makes a wrong username cost the store the same read and write as a
// wrong password, so that the two cannot be told apart by their time.
const unknownUser = ""

// neverLocks is the threshold of unknownUser's failures.
const neverLocks = math.MaxInt

// check returns the business of username if password is right. In open
// mode it never reads the store. With Users, an unknown username and a
// wrong password get the same error after the same store calls (a read of a
// lockout, a constant-time comparison, a counted failure). Errors other than
// errBadCredentials, errLocked (until is then the end of the lock) and
// errLongBusiness are the store's.
func (a *authenticator) check(ctx context.Context, username, password string) (business string, until time.Time, err error) {
	if a.users == nil {
		switch {
		case username == "":
			return "", time.Time{}, errBadCredentials
		case len(username) > MaxBusinessBytes:
			return "", time.Time{}, errLongBusiness
		}
		return username, time.Time{}, nil
	}
	u, known := a.users[username]
	record, threshold := username, a.threshold
	if !known {
		u, record, threshold = User{Password: "\x00 no account has this password"}, unknownUser, neverLocks
	}
	l, err := a.accounts.Lockout(ctx, record)
	if err != nil {
		return "", time.Time{}, err
	}
	a.locks.put(record, l.LockedUntil)
	now := a.now()
	if now.Before(l.LockedUntil) {
		return "", l.LockedUntil, errLocked
	}
	if subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1 && known {
		if l.Failures > 0 || !l.LockedUntil.IsZero() { // a write only when there is something to forget
			if err := a.accounts.ClearFailures(ctx, username); err != nil {
				return "", time.Time{}, err
			}
			a.locks.put(username, time.Time{})
		}
		return u.Business, time.Time{}, nil
	}
	l, err = a.accounts.RecordFailure(ctx, record, now, threshold, a.lockFor)
	if err != nil {
		return "", time.Time{}, err
	}
	a.locks.put(record, l.LockedUntil)
	return "", time.Time{}, errBadCredentials
}

// key returns the store's token secret, read on first use and then kept (it
// never changes for a store).
func (a *authenticator) key(ctx context.Context) ([]byte, error) {
	if k := a.secret.Load(); k != nil {
		return *k, nil
	}
	k, err := a.accounts.Secret(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the token secret: %w", err)
	}
	a.secret.Store(&k)
	return k, nil
}

// lockedError is the answer to a valid token whose account is locked.
type lockedError struct{ until time.Time }

func (e *lockedError) Error() string { return lockedDetail(e.until) }

// token returns the business of tok; ok is false when tok is not a valid,
// unexpired token of this store, or (with Users) not one of an account of
// Users of the same business. err is the store's, when the secret or a
// lockout cannot be read, or a *lockedError when the token's account is
// locked: a token issued before a lock stops working while it holds.
func (a *authenticator) token(ctx context.Context, tok string) (business string, ok bool, err error) {
	k, err := a.key(ctx)
	if err != nil {
		return "", false, err
	}
	business, account, ok := verifyToken(k, tok, a.now())
	if !ok || a.users == nil { // open mode never locks
		return business, ok, nil
	}
	username, known := a.byAccount[account]
	if !known || a.users[username].Business != business {
		return "", false, nil
	}
	until, err := a.locks.lockedUntil(ctx, a.accounts, username)
	if err != nil {
		return "", false, err
	}
	if a.now().Before(until) {
		return "", false, &lockedError{until}
	}
	return business, true, nil
}

// lockRecheck is how long a token check trusts what it last read of an
// account's lockout. Every lockout this process reads or writes updates it
// at once; a lock set by another process of the store is seen within
// lockRecheck.
const lockRecheck = time.Second

// lockCache is what the server last read of each account's lock, so that a
// Bearer request costs no store read but once per account per lockRecheck.
// It holds at most one entry per account of Users (and unknownUser).
type lockCache struct {
	mu sync.Mutex // guards m
	m  map[string]lockEntry
}

type lockEntry struct {
	until time.Time // zero: not locked
	read  time.Time // when it was read, on the process's own clock
}

func (c *lockCache) put(username string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]lockEntry{}
	}
	c.m[username] = lockEntry{until: until, read: time.Now()}
}

// lockedUntil returns until when username is locked (zero: it is not), read
// from the store when what is known is older than lockRecheck.
func (c *lockCache) lockedUntil(ctx context.Context, accounts store.Accounts, username string) (time.Time, error) {
	c.mu.Lock()
	e, ok := c.m[username]
	c.mu.Unlock()
	if ok && time.Since(e.read) < lockRecheck {
		return e.until, nil
	}
	l, err := accounts.Lockout(ctx, username)
	if err != nil {
		return time.Time{}, err
	}
	c.put(username, l.LockedUntil)
	return l.LockedUntil, nil
}

const wwwAuthenticate = `Bearer realm="algoreg", Basic realm="algoreg"`

// tenant is the business an authenticated request acts for. requireAuth puts
// it in the request's context; the handlers behind it take it from there.
type tenant string

type tenantKey struct{}

// businessFrom returns the business requireAuth found for the request; ok is
// false for a request that did not pass requireAuth.
func businessFrom(ctx context.Context) (b tenant, ok bool) {
	b, ok = ctx.Value(tenantKey{}).(tenant)
	return b, ok
}

// requireAuth accepts "Authorization: Bearer <token>" or "Basic
// base64(user:password)" and passes the request on with its business in the
// context; anything else is answered 401, and a store that fails while the
// credentials are checked 503.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		business, detail, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if business == "" {
			w.Header().Set("WWW-Authenticate", wwwAuthenticate)
			writeProblem(w, r, http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
			return
		}
		noteTenant(r.Context(), business)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tenantKey{}, business)))
	})
}

// authenticate returns the business of the request's credentials, or "" and
// what the client should do, or the store's error.
func (s *Server) authenticate(r *http.Request) (tenant, string, error) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case h == "":
		return "", "No credentials: send Authorization: Bearer <access_token> (from POST /api/v1/token) or Basic base64(user:password).", nil
	case strings.EqualFold(scheme, "Bearer"):
		b, ok, err := s.auth.token(r.Context(), cred)
		var locked *lockedError
		if errors.As(err, &locked) {
			return "", "The account of this access token is locked after repeated wrong passwords; retry after " + locked.until.UTC().Format(time.RFC3339) + ".", nil
		}
		if err != nil || ok {
			return tenant(b), "", err
		}
		return "", "The access token is unknown or expired; get a new one from POST /api/v1/token.", nil
	case strings.EqualFold(scheme, "Basic"):
		user, pass, ok := r.BasicAuth()
		if !ok {
			return "", "The Basic credentials cannot be read; send base64(user:password).", nil
		}
		b, until, err := s.auth.check(r.Context(), user, pass)
		if err != nil {
			s.noteRefused(r.Context(), user)
		}
		switch {
		case errors.Is(err, errLocked):
			return "", lockedDetail(until), nil
		case errors.Is(err, errBadCredentials):
			return "", "The username or password is wrong.", nil
		case errors.Is(err, errLongBusiness):
			return "", longUsername, nil
		}
		return tenant(b), "", err
	}
	return "", fmt.Sprintf("Authorization scheme %q is not supported; use Bearer or Basic.", scheme), nil
}

// longUsername is the answer to errLongBusiness.
var longUsername = fmt.Sprintf("The username is longer than %d bytes; in open mode it names the business, which can be at most that long.", MaxBusinessBytes)

// lockedDetail says until when an account is locked.
func lockedDetail(until time.Time) string {
	return fmt.Sprintf("The account is locked after repeated wrong passwords; retry after %s.", until.UTC().Format(time.RFC3339))
}

// authenticated serves h with the business requireAuth found. Reached without
// one, it is a route registered without requireAuth, a bug: it answers 500
// and logs it, rather than act for a business that is not the caller's.
func (s *Server) authenticated(h func(w http.ResponseWriter, r *http.Request, business tenant)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		business, ok := businessFrom(r.Context())
		if !ok {
			s.log.Error("handler reached without an authenticated business; its route lacks requireAuth", "method", r.Method, "path", r.URL.Path)
			writeProblem(w, r, http.StatusInternalServerError, "internal", "Internal server error",
				"The mock failed on this request; this is a bug in algoreg-kit, please report it with the request.")
			return
		}
		h(w, r, business)
	})
}

// writeOAuthError answers an OAuth2 error (RFC 6749 section 5.2): 400,
// never cached.
func writeOAuthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

// handleToken is POST /api/v1/token, the OAuth2 password grant (RFC 6749
// section 4.3), with the JSON body the vendor documents (and, with
// Config.Lenient, a form body too). Errors follow section 5.2.
func handleToken(s *Server) http.Handler {
	type tokenRequest struct {
		GrantType *string `json:"grant_type"`
		Username  *string `json:"username"`
		Password  *string `json:"password"`
	}
	oauthError := writeOAuthError
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req tokenRequest
		ct := r.Header.Get("Content-Type")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenBody))
		if err != nil {
			oauthError(w, "invalid_request", "The body cannot be read or is larger than 64 KiB.")
			return
		}
		switch {
		case s.cfg.Lenient && mediaType(ct) == "application/x-www-form-urlencoded":
			form, err := parseQuery(string(body))
			if err != nil {
				oauthError(w, "invalid_request", "The form body cannot be read: "+err.Error())
				return
			}
			for k, p := range map[string]**string{"grant_type": &req.GrantType, "username": &req.Username, "password": &req.Password} {
				if v, ok := form[k]; ok {
					*p = &v
				}
			}
		case isJSON(ct, s.cfg.Lenient):
			if err := decodeStrict(body, &req); err != nil {
				oauthError(w, "invalid_request", "The JSON body cannot be read: "+err.Error())
				return
			}
		default:
			writeProblem(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
				fmt.Sprintf(`Content-Type %q is not supported; send Content-Type: application/json with {"grant_type":"password","username":…,"password":…}, as the vendor documents (run the mock with --lenient to accept a form body too).`, ct))
			return
		}
		switch {
		case req.GrantType == nil || *req.GrantType == "":
			oauthError(w, "invalid_request", `grant_type is missing; send "password".`)
		case *req.GrantType != "password":
			oauthError(w, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; send \"password\".", *req.GrantType))
		case req.Username == nil || *req.Username == "" || req.Password == nil:
			oauthError(w, "invalid_request", "username and password are required.")
		default:
			grant(s, w, r, *req.Username, *req.Password, oauthError)
		}
	})
}

// grant answers a well-formed password grant: a token, an OAuth2 error, or
// 503 when the store fails. The secret is read first, so that a store
// failing at any point of a login leaves the account's lockout as it was.
func grant(s *Server, w http.ResponseWriter, r *http.Request, username, password string, oauthError func(http.ResponseWriter, string, string)) {
	key, err := s.auth.key(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	business, until, err := s.auth.check(r.Context(), username, password)
	if err != nil {
		s.noteRefused(r.Context(), username)
	}
	switch {
	case errors.Is(err, errLocked):
		oauthError(w, "invalid_grant", lockedDetail(until))
		return
	case errors.Is(err, errBadCredentials):
		oauthError(w, "invalid_grant", "The username or password is wrong.")
		return
	case errors.Is(err, errLongBusiness):
		oauthError(w, "invalid_request", longUsername)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	var account accountID // open mode: none
	if s.auth.users != nil {
		account = accountOf(username)
	}
	tok := signToken(key, business, account, s.now().Add(s.cfg.TokenTTL))
	noteTenant(r.Context(), tenant(business))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer",
		"expires_in": max(1, int64(math.Ceil(s.cfg.TokenTTL.Seconds()))),
	})
}

// limiter keeps one token bucket per business.
type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex // guards per
	per   map[string]*rate.Limiter
}

func newLimiter(perSecond float64, burst int) *limiter {
	if burst <= 0 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, per: map[string]*rate.Limiter{}}
}

// allow reports whether business may make a request now, or how long to wait.
func (l *limiter) allow(business string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	lim := l.per[business]
	if lim == nil {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.per[business] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimit answers 429 with Retry-After when the business is over its rate.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limits == nil {
		return next
	}
	return s.authenticated(func(w http.ResponseWriter, r *http.Request, business tenant) {
		ok, wait := s.limits.allow(string(business), time.Now())
		if !ok {
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeProblem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many requests",
				fmt.Sprintf("Your business is over the mock's rate limit of %g save requests per second; retry after %d s.", s.cfg.RateLimit, secs))
			return
		}
		next.ServeHTTP(w, r)
	})
}
