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

// Secret implements store.Accounts.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	a := &s.accounts
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.secret == nil {
		b := make([]byte, secretSize)
		rand.Read(b) // never fails (crypto/rand.Read's documentation)
		a.secret = b
	}
	return slices.Clone(a.secret), nil
}

// Lockout implements store.Accounts.
func (s *Store) Lockout(ctx context.Context, username string) (store.Lockout, error) {
	if err := s.check(ctx); err != nil {
		return store.Lockout{}, err
	}
	a := &s.accounts
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lockouts[username], nil
}

// RecordFailure implements store.Accounts.
func (s *Store) RecordFailure(ctx context.Context, username string, now time.Time, threshold int, lockFor time.Duration) (store.Lockout, error) {
	if err := s.check(ctx); err != nil {
		return store.Lockout{}, err
	}
	a := &s.accounts
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.lockouts[username]
	switch {
	case now.Before(l.LockedUntil):
		return l, nil // locked: not counted, and the lock is not extended
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
	return l, nil
}

// ClearFailures implements store.Accounts.
func (s *Store) ClearFailures(ctx context.Context, username string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	a := &s.accounts
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.lockouts, username)
	return nil
}
