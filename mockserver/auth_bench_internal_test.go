package mockserver

import (
	"context"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/store/memstore"
)

// BenchmarkBearerAuth is what a Bearer request of a --users account pays to
// be authenticated: the token's MAC and expiry, and whether its account is
// locked (issue 12).
func BenchmarkBearerAuth(b *testing.B) {
	cfg, err := withDefaults(Config{Users: []User{{Username: "alice", Password: "pw", Business: "acme"}}})
	if err != nil {
		b.Fatal(err)
	}
	a := newAuthenticator(cfg, memstore.New())
	ctx := context.Background()
	key, err := a.key(ctx)
	if err != nil {
		b.Fatal(err)
	}
	tok := signToken(key, "acme", accountOf("alice"), time.Now().Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := a.token(ctx, tok); !ok || err != nil {
			b.Fatal("refused", err)
		}
	}
}
