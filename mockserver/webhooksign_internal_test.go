package mockserver

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The mock's signature of the Standard Webhooks test vector (the one the
// specification's libraries test) is the expected one.
func TestSignWebhookTestVector(t *testing.T) {
	key, err := webhookKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	got := signWebhook(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", got)
	same, err := webhookKey("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	assert.Equal(t, key, same, "the whsec_ prefix may be left out")
}

func TestWebhookKeyRefusals(t *testing.T) {
	for _, tt := range []struct{ name, secret, want string }{
		{"not base64", "whsec_!!!", "not whsec_ followed by standard base64"},
		{"too short", "whsec_c2hvcnQ=", "its key is 5 bytes; Standard Webhooks wants 24 to 64"},
		{"too long", "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 65))), "its key is 65 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhookKey(tt.secret)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "echo whsec_$(head -c 32 /dev/urandom | base64)", "says how to make one")
		})
	}
}
