package memstore

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store"
)

// accounts is the store.Accounts of a Store: a secret made once per Store
// (so once per process: tokens do not outlive the process, as nothing else
// in memory does) and the lockouts.
type accounts struct {
	mu       sync.Mutex // guards the fields below
	secret   []byte
	lockouts map[string]store.Lockout
}

// secretSize is the length of the token-signing key: 256 bits, HMAC-SHA256's
// block-size-independent recommendation (RFC 2104: at least the hash's size).
const secretSize = 32

// locked calls fn with mu locked, unless check fails.
func (s *Store) locked(ctx context.Context, mu *sync.Mutex, fn func()) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	fn()
	return nil
}

// Secret implements store.Accounts.
func (s *Store) Secret(ctx context.Context) (secret []byte, err error) {
	a := &s.accounts
	err = s.locked(ctx, &a.mu, func() {
		if a.secret == nil {
			a.secret = make([]byte, secretSize)
			rand.Read(a.secret) // never fails (crypto/rand.Read's documentation)
		}
		secret = slices.Clone(a.secret)
	})
	return secret, err
}

// Lockout implements store.Accounts.
func (s *Store) Lockout(ctx context.Context, username string) (l store.Lockout, err error) {
	err = s.locked(ctx, &s.accounts.mu, func() { l = s.accounts.lockouts[username] })
	return l, err
}

// RecordFailure implements store.Accounts.
func (s *Store) RecordFailure(ctx context.Context, username string, now time.Time, threshold int, lockFor time.Duration) (l store.Lockout, err error) {
	a := &s.accounts
	err = s.locked(ctx, &a.mu, func() {
		l = a.lockouts[username]
		switch {
		case now.Before(l.LockedUntil):
			return // locked: not counted, and the lock is not extended
		case !l.LockedUntil.IsZero():
			l = store.Lockout{} // the lock is over: count again from zero
		}
		l.Failures++
		if l.Failures >= threshold {
			l = store.Lockout{LockedUntil: now.Add(lockFor)}
		}
		if a.lockouts == nil {
			a.lockouts = map[string]store.Lockout{}
		}
		a.lockouts[username] = l
	})
	return l, err
}

// ClearFailures implements store.Accounts.
func (s *Store) ClearFailures(ctx context.Context, username string) error {
	return s.locked(ctx, &s.accounts.mu, func() { delete(s.accounts.lockouts, username) })
}
