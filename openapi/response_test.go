package openapi

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"

	"github.com/stretchr/testify/require"
)

// AppendJSON writes exactly what json.Marshal writes, for random responses
// (testing/quick fills every field of the model, so a field AppendJSON
// forgets fails) and for the strings encoding/json escapes.
func TestSaveCustomersResponseAppendJSON(t *testing.T) {
	tricky := []string{"", "plain", `quote " and \ backslash`, "<tag> & amp", "\x00\x1f\n\r\t\b\f", "bad \xff utf-8 \xc3", "line\u2028sep\u2029", "é 日本 🙂"}
	rnd := rand.New(rand.NewSource(1))
	check := func(r *SaveCustomersResponse) {
		t.Helper()
		want, err := json.Marshal(r)
		require.NoError(t, err)
		require.Equal(t, string(want), string(r.AppendJSON(nil)))
	}
	check(&SaveCustomersResponse{})
	check(NewSaveCustomersResponse(true))
	for i := range 500 {
		v, ok := quick.Value(reflect.TypeFor[SaveCustomersResponse](), rnd)
		require.True(t, ok)
		r := v.Interface().(SaveCustomersResponse)
		s := tricky[i%len(tricky)]
		r.Status = Status(s)
		if len(r.Added) > 0 {
			r.Added[0].ExternalID = s
		}
		if len(r.Detail) > 0 {
			r.Detail[0].ExternalID = s
			r.Detail[0].Errors = append(r.Detail[0].Errors, Message{Code: s, Detail: s})
			if i%3 == 0 {
				r.Detail[0].Warnings = nil
			}
		}
		if i%7 == 0 {
			r.Added = nil
		}
		check(&r)
	}
}
