package lint

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// locator finds where values are in a well-formed (or partly well-formed)
// JSON body, by JSON pointer, skipping what it passes without decoding it.
type locator struct {
	body  []byte
	lines []int // offsets of the starts of lines, computed on first use
}

// find returns the offset of the value at ptr, or of its deepest ancestor
// that exists (0 for the body).
func (l *locator) find(ptr string) int64 {
	i := l.ws(0)
	if ptr == "" {
		return int64(i)
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		next, ok := l.child(i, tok)
		if !ok {
			return int64(i)
		}
		i = next
	}
	return int64(i)
}

// child returns the offset of the value of key tok (in an object) or of item
// tok (in an array) of the value at i.
func (l *locator) child(i int, tok string) (int, bool) {
	b := l.body
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '{':
		i = l.ws(i + 1)
		found := -1
		for i < len(b) && b[i] == '"' {
			end := l.skipString(i)
			key := b[i:end]
			i = l.ws(end)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			i = l.ws(i + 1)
			if keyIs(key, tok) {
				found = i // the last of repeated keys wins, as in the decoder
			}
			i = l.ws(l.skipValue(i))
			if i < len(b) && b[i] == ',' {
				i = l.ws(i + 1)
			}
		}
		return found, found >= 0
	case '[':
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return 0, false
		}
		i = l.ws(i + 1)
		for k := 0; i < len(b) && b[i] != ']'; k++ {
			if k == n {
				return i, true
			}
			i = l.ws(l.skipValue(i))
			if i < len(b) && b[i] == ',' {
				i = l.ws(i + 1)
			}
		}
	}
	return 0, false
}

// keyIs reports whether a key's literal (with its quotes) is tok.
func keyIs(lit []byte, tok string) bool {
	if bytes.IndexByte(lit, '\\') < 0 {
		return len(lit) >= 2 && string(lit[1:len(lit)-1]) == tok
	}
	var s string
	return json.Unmarshal(lit, &s) == nil && s == tok
}

func (l *locator) ws(i int) int {
	for i < len(l.body) {
		switch l.body[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the offset after the string that starts at i.
func (l *locator) skipString(i int) int {
	b := l.body
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the offset after the value that starts at i.
func (l *locator) skipValue(i int) int {
	b := l.body
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return l.skipString(i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = l.skipString(i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && !bytes.ContainsRune([]byte(",]} \t\n\r"), rune(b[i])) {
		i++
	}
	return i
}

// lineCol returns the 1-based line and column (in bytes) of offset off.
func (l *locator) lineCol(off int64) (int, int) {
	if l.lines == nil {
		l.lines = []int{0}
		for i, c := range l.body {
			if c == '\n' {
				l.lines = append(l.lines, i+1)
			}
		}
	}
	lo, hi := 0, len(l.lines)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if int64(l.lines[mid]) <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1, int(off) - l.lines[lo] + 1
}
