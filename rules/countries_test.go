package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Every code of two or three letters A–Z, and codes with a byte on either
// side of that range, is found by countryIndex exactly when a map of the
// countries' codes has it, at the same country.
func TestCountryIndexAgainstAMap(t *testing.T) {
	want := map[string]int{}
	for i, c := range countryList {
		want[c.Alpha2], want[c.Alpha3] = i, i
	}
	require.Len(t, want, 2*len(countryList), "a code named two countries")
	check := func(code string) {
		i, ok := countryIndex(code)
		j, wantOK := want[code]
		require.Equal(t, wantOK, ok, "%q", code)
		if ok {
			require.Equal(t, j, i, "%q", code)
		}
	}
	letters := []byte("@ABCDEFGHIJKLMNOPQRSTUVWXYZ[a")
	for _, a := range letters {
		for _, b := range letters {
			check(string([]byte{a, b}))
			for _, c := range letters {
				check(string([]byte{a, b, c}))
			}
		}
	}
	for _, code := range []string{"", "F", "FRAN", "FR ", "\xffR", "É"} {
		check(code)
	}
}
