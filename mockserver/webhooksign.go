package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Webhook signatures follow Standard Webhooks (www.standardwebhooks.com,
// "Symmetric signatures"): the secret is "whsec_" and the base64 of a key of
// 24 to 64 bytes; the signature of a delivery is
//
//	webhook-signature: v1,<base64 of HMAC-SHA256(key, webhook-id + "." + webhook-timestamp + "." + body)>
//
// where webhook-timestamp is the attempt's Unix time in seconds.

// webhookSecretPrefix starts a Standard Webhooks secret.
const webhookSecretPrefix = "whsec_"

// webhookKey returns the key of a secret, nil for "". The whsec_ prefix may
// be left out, as the reference libraries allow.
func webhookKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhookSecretPrefix))
	switch {
	case err != nil:
		return nil, errors.New("it is not whsec_ followed by standard base64; make one with: echo whsec_$(head -c 32 /dev/urandom | base64)")
	case len(key) < 24 || len(key) > 64:
		return nil, errors.New("its key is " + strconv.Itoa(len(key)) + " bytes; Standard Webhooks wants 24 to 64: make one with: echo whsec_$(head -c 32 /dev/urandom | base64)")
	}
	return key, nil
}

// signWebhook returns the webhook-signature of a delivery.
func signWebhook(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, timestamp, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
