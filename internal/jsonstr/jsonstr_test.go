package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference is encoding/json's quoting of s.
func reference(t *testing.T, s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func check(t *testing.T, s string) {
	for _, html := range []bool{false, true} {
		if got, want := string(Append(nil, s, html)), reference(t, s, html); got != want {
			t.Errorf("Append(%q, escapeHTML %v) = %s, want %s", s, html, got, want)
		}
	}
}

func TestAppend(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s/", "\b\f\n\r\t\x00\x01\x1f\x7f", "<a href=\"x\">&amp;</a>",
		"é Хаммес ✓ 😀", "\u2028\u2029", "\xff\xfe bad \xc3", "end\xe2\x80"} {
		check(t, s)
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("<&>\u2028\xff\"")
	f.Fuzz(check)
}
