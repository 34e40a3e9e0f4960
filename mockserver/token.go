package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// accountID names the account of Config.Users that a token was issued to:
// the first 8 bytes of the SHA-256 of its username (zero in open mode, which
// has no accounts), so that a token stays short whatever the username, and
// a token stops working while its account is locked.
type accountID [8]byte

// accountOf returns the accountID of username.
func accountOf(username string) accountID {
	sum := sha256.Sum256([]byte(username))
	return accountID(sum[:8])
}

// Access tokens are stateless and signed, so that a token is valid on every
// process that shares the store, and after a restart, without a table of
// tokens: the token is base64url (no padding) of
//
//	version (1 byte, tokenVersion) | expiry (8 bytes, Unix milliseconds, big-endian) | account (8 bytes, accountID) | business | HMAC-SHA256
//
// where the MAC covers everything before it, under the store's secret
// (store.Accounts.Secret, the same for every process of the store). Anyone
// holding a token can read its business and expiry (it is opaque to clients
// by contract, not encrypted); no one without the secret can make one.

const (
	tokenVersion = 2         // 1 had no account
	tokenHeader  = 1 + 8 + 8 // version, expiry and account
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

// signToken returns the token of business for account, valid until expires.
func signToken(secret []byte, business string, account accountID, expires time.Time) string {
	b := make([]byte, tokenHeader, tokenHeader+len(business)+tokenMAC)
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(expires.UnixMilli()))
	copy(b[9:tokenHeader], account[:])
	b = append(b, business...)
	m := hmac.New(sha256.New, secret)
	m.Write(b)
	return tokenEncoding.EncodeToString(m.Sum(b))
}

// verifyToken returns the business and account of tok when tok was signed
// with secret, is of tokenVersion and has not expired at now; ok is false for
// anything else (malformed, too long, tampered with, signed with another
// secret, of the previous version).
func verifyToken(secret []byte, tok string, now time.Time) (business string, account accountID, ok bool) {
	if len(tok) > maxTokenLen {
		return "", account, false
	}
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil || len(b) <= tokenHeader+tokenMAC {
		return "", account, false
	}
	body, mac := b[:len(b)-tokenMAC], b[len(b)-tokenMAC:]
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(mac, m.Sum(nil)) || body[0] != tokenVersion {
		return "", account, false
	}
	expires := int64(binary.BigEndian.Uint64(body[1:9]))
	if now.UnixMilli() >= expires {
		return "", account, false
	}
	copy(account[:], body[9:tokenHeader])
	return string(body[tokenHeader:]), account, true
}
