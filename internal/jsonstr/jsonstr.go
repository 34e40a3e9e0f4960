// Package jsonstr quotes a Go string as encoding/json does, for the
// encoders that write JSON by hand (fixtures' records, the SQL stores' JSON
// columns).
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// plainASCII and plainASCIIHTML are the bytes that Append copies as they
// are, without and with escapeHTML: ASCII but the control characters, '"'
// and '\\' (and '<', '>', '&'). One lookup a byte is what makes a long
// identifier cheap to quote.
var plainASCII, plainASCIIHTML = plainTables()

func plainTables() (plain, plainHTML [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		plainHTML[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, plainHTML
}

// Append appends s quoted as encoding/json quotes it: \", \\, the short
// escapes of \b \f \n \r \t, \u00XX for the other control characters,
// \ufffd for each byte of invalid UTF-8, \u2028 and \u2029, and with
// escapeHTML (json.Marshal's default) \u003c, \u003e and \u0026 for <, >
// and &.
func Append(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	plain := &plainASCII
	if escapeHTML {
		plain = &plainASCIIHTML
	}
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
