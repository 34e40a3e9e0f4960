package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/memstore"
	"github.com/algoreg-kit/algoreg-kit/store/postgres"
	"github.com/algoreg-kit/algoreg-kit/store/sqlite"
)

// This file is the one home of the mock's --state: which store its value
// names, and opening that store.

// stateKind is the engine --state names.
type stateKind int

const (
	stateMemory   stateKind = iota // no --state: in memory, nothing on disk
	stateSQLite                    // a path, or sqlite:PATH
	statePostgres                  // postgres:// or postgresql://
)

// stateSpec is --state and --state-sync, parsed.
type stateSpec struct {
	Kind stateKind
	// Where is the SQLite file's path or the PostgreSQL URL ("" in memory).
	Where string
	// Sync is --state-sync: "" (not given: normal), "normal" or "full".
	Sync string
}

// parseState reads --state and --state-sync: no --state (or "") is memory,
// postgres:// and postgresql:// URLs are PostgreSQL, sqlite:PATH and any
// other value without a scheme is a SQLite file. Its errors never quote the
// value, which may hold a password.
func parseState(state, sync string) (stateSpec, error) {
	s := stateSpec{Where: state, Sync: sync}
	lower := strings.ToLower(state)
	switch {
	case state == "":
		s.Kind = stateMemory
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		if _, err := url.Parse(state); err != nil {
			return s, fmt.Errorf("--state is not a PostgreSQL URL (postgres://user:password@host:port/database): %v", redactErr(err))
		}
		s.Kind = statePostgres
	case strings.HasPrefix(lower, "sqlite:"):
		if s.Kind, s.Where = stateSQLite, state[len("sqlite:"):]; s.Where == "" {
			return s, errors.New("--state sqlite: needs a file path, e.g. sqlite:state.db")
		}
	case strings.Contains(state, "://"):
		scheme, _, _ := strings.Cut(state, "://")
		return s, fmt.Errorf("--state: %s:// is not a state the mock knows: use a file path (SQLite) or a postgres:// URL", scheme)
	default:
		s.Kind = stateSQLite
	}
	if s.Sync != "" && s.Kind != stateSQLite {
		where := "in memory"
		if s.Kind == statePostgres {
			where = "on PostgreSQL, whose durability is the server's synchronous_commit and fsync"
		}
		return s, fmt.Errorf("--state-sync applies to a SQLite state file only, and the state is %s; drop --state-sync", where)
	}
	return s, nil
}

// redactErr is a url.Parse error without the URL it quotes, which may hold
// a password.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// String says where the state is, for the start banner, without a
// PostgreSQL password.
func (s stateSpec) String() string {
	switch s.Kind {
	case stateSQLite:
		if s.Sync == "full" {
			return fmt.Sprintf("state in SQLite file %s, synchronous=FULL", s.Where)
		}
		return fmt.Sprintf("state in SQLite file %s, synchronous=NORMAL", s.Where)
	case statePostgres:
		return "state in PostgreSQL " + redactURL(s.Where)
	}
	return "state in memory"
}

// redactURL is u with its password, if any, replaced by xxxxx.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unreadable URL)"
	}
	return p.Redacted()
}

// openStore opens the store s names: a new in-memory store, the SQLite file
// (created and migrated if needed) or the PostgreSQL database (migrated if
// needed). Its errors name the state and say what to do; the caller closes
// the store.
func openStore(ctx context.Context, s stateSpec) (store.Store, error) {
	switch s.Kind {
	case stateSQLite:
		if err := checkStateFile(s.Where); err != nil {
			return nil, fmt.Errorf("--state: %w", err)
		}
		opts := sqlite.Options{Sync: sqlite.SyncNormal}
		if s.Sync == "full" {
			opts.Sync = sqlite.SyncFull
		}
		st, err := sqlite.Open(ctx, s.Where, opts)
		if err != nil {
			return nil, fmt.Errorf("--state: %w", err)
		}
		return st, nil
	case statePostgres:
		st, err := postgres.Open(ctx, s.Where, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("--state: %w", err)
		}
		return st, nil
	}
	return memstore.New(), nil
}

// checkStateFile catches the mistakes SQLite would only call "unable to open
// database file": path is a folder, or its folder does not exist.
func checkStateFile(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder; give the path of a file, e.g. %s", path, filepath.Join(path, "state.db"))
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the folder %s of the state file %s does not exist; create it first", dir, path)
	}
	return nil
}
