package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Access tokens are stateless and signed, so that a token is valid on every
// process that shares the store, and after a restart, without a table of
// tokens: the token is base64url (no padding) of
//
//	version (1 byte, tokenVersion) | expiry (8 bytes, Unix milliseconds, big-endian) | business | HMAC-SHA256
//
// where the MAC covers everything before it, under the store's secret
// (store.Accounts.Secret, the same for every process of the store). Anyone
// holding a token can read its business and expiry (it is opaque to clients
// by contract, not encrypted); no one without the secret can make one.

const (
	tokenVersion = 1
	tokenHeader  = 1 + 8 // version and expiry
	tokenMAC     = sha256.Size
	// MaxBusinessBytes bounds the name of a business (so an access token, which
	// carries it, is at most maxTokenLen bytes): in open mode a longer
	// username is refused, and so is a longer business in Config.Users.
	MaxBusinessBytes = 256
)

// maxTokenLen is the length of the token of the longest business.
var maxTokenLen = tokenEncoding.EncodedLen(tokenHeader + MaxBusinessBytes + tokenMAC)

// tokenEncoding is strict, so that a token has one spelling: a changed
// character never decodes to the same bytes.
var tokenEncoding = base64.RawURLEncoding.Strict()

// signToken returns the token of business, valid until expires.
func signToken(secret []byte, business string, expires time.Time) string {
	b := make([]byte, tokenHeader, tokenHeader+len(business)+tokenMAC)
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:tokenHeader], uint64(expires.UnixMilli()))
	b = append(b, business...)
	m := hmac.New(sha256.New, secret)
	m.Write(b)
	return tokenEncoding.EncodeToString(m.Sum(b))
}

// verifyToken returns the business of tok when tok was signed with secret,
// is of tokenVersion and has not expired at now; ok is false for anything
// else (malformed, too long, tampered with, signed with another secret).
func verifyToken(secret []byte, tok string, now time.Time) (business string, ok bool) {
	if len(tok) > maxTokenLen {
		return "", false
	}
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil || len(b) <= tokenHeader+tokenMAC {
		return "", false
	}
	body, mac := b[:len(b)-tokenMAC], b[len(b)-tokenMAC:]
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(mac, m.Sum(nil)) || body[0] != tokenVersion {
		return "", false
	}
	expires := int64(binary.BigEndian.Uint64(body[1:tokenHeader]))
	if now.UnixMilli() >= expires {
		return "", false
	}
	return string(body[tokenHeader:]), true
}
