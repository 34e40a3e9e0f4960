package mockserver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A token is accepted exactly when it was signed with the secret, is of the
// current version, and has not expired; nothing else decodes to a business.
func TestVerifyToken(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	later := now.Add(time.Hour)
	alice := accountOf("alice")
	good := signToken(secret, "acme", alice, later)
	long := strings.Repeat("é", MaxBusinessBytes/2)
	resigned := func(version byte, business string) string { // a valid MAC over another header
		b, err := tokenEncoding.DecodeString(good)
		require.NoError(t, err)
		body := append([]byte{version}, b[1:tokenHeader]...) // the same expiry and account
		body = append(body, business...)
		m := hmac.New(sha256.New, secret)
		m.Write(body)
		return tokenEncoding.EncodeToString(m.Sum(body))
	}
	tests := []struct {
		name, tok    string
		at           time.Time
		wantBusiness string
	}{
		{"valid", good, now, "acme"},
		{"a millisecond before expiry", good, later.Add(-time.Millisecond), "acme"},
		{"at expiry", good, later, ""},
		{"after expiry", good, later.Add(time.Hour), ""},
		{"longest business", signToken(secret, long, alice, later), now, long},
		{"another secret", signToken(bytes.Repeat([]byte{8}, 32), "acme", alice, later), now, ""},
		{"another version", resigned(tokenVersion+1, "acme"), now, ""},
		{"the previous version (no account)", resigned(1, "acme"), now, ""},
		{"the current version resigned", resigned(tokenVersion, "acme"), now, "acme"},
		{"empty business", resigned(tokenVersion, ""), now, ""},
		{"last character changed", good[:len(good)-1] + string(good[len(good)-1]^1), now, ""},
		{"first character changed", string(good[0]^1) + good[1:], now, ""},
		{"truncated", good[:len(good)-4], now, ""},
		{"padded", good + "==", now, ""},
		{"not base64url", "a+b/" + good[4:], now, ""},
		{"empty", "", now, ""},
		{"too long", signToken(secret, long+"x", alice, later), now, ""},
		{"random hex of the old format", "9f2c4e1a7b3d4c5e8f6a0b1c2d3e4f5a9f2c4e1a7b3d4c5e", now, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			business, account, ok := verifyToken(secret, tt.tok, tt.at)
			assert.Equal(t, tt.wantBusiness, business)
			assert.Equal(t, tt.wantBusiness != "", ok)
			if ok {
				assert.Equal(t, alice, account, "the account")
			}
		})
	}
	assert.Len(t, signToken(secret, long, alice, later), maxTokenLen, "the token of the longest business")
	assert.LessOrEqual(t, maxTokenLen, 410, "tokens stay small enough for any proxy's header limits")
	assert.Len(t, signToken(secret, "acme", alice, later), 71, "the token of acme")
}

// Every single-bit change of a token's bytes is refused.
func TestVerifyTokenRefusesEveryBitFlip(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	b, err := tokenEncoding.DecodeString(signToken(secret, "acme", accountOf("alice"), now.Add(time.Hour)))
	require.NoError(t, err)
	for i := range len(b) * 8 {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		if business, _, ok := verifyToken(secret, tokenEncoding.EncodeToString(c), now); ok {
			t.Errorf("bit %d flipped: accepted for %q", i, business)
		}
	}
}

// BenchmarkVerifyToken is what a Bearer request pays to check its token
// (the secret is read once per server, not per request).
func BenchmarkVerifyToken(b *testing.B) {
	secret := bytes.Repeat([]byte{7}, 32)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tok := signToken(secret, "acme", accountOf("alice"), now.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := verifyToken(secret, tok, now); !ok {
			b.Fatal("refused")
		}
	}
}
