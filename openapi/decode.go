package openapi

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError is returned by DecodeSaveCustomers when a body is not well-formed
// JSON. The mock answers it with 400.
type SyntaxError struct {
	// Offset is the byte offset after which the error was detected, counted as
	// encoding/json counts it: the position of the offending byte plus one, or
	// the body's length when the body ends too early.
	Offset int64
	// Msg says what is wrong, in encoding/json's words.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte offset %d: %s", e.Offset, e.Msg)
}

// MaxDepth is how deeply arrays and objects may nest in a body (the same limit
// as encoding/json's). A deeper body is a *SyntaxError ("exceeded max depth").
const MaxDepth = 10000

// DecodeSaveCustomers reads a Save customers request body in one pass: it checks
// the JSON syntax, checks every JSON type against the document's
// SaveCustomersRequest schema, and fills the typed model, all at once. It
// returns:
//
//   - *SyntaxError when body is not well-formed JSON (the mock answers 400). The
//     grammar, the offsets and the messages are encoding/json's, including its
//     nesting limit (MaxDepth). Unlike kin-openapi, which stops reading after the
//     first value, anything but white space after the object is an error.
//   - *ValidationError (Kind "request") listing every JSON-type violation, each
//     with the JSON pointer kin-openapi reports (the mock answers 422). An empty
//     body is one violation with pointer "" ("value is required but missing"),
//     as is a top-level value that is not an object.
//   - the typed request otherwise.
//
// The verdicts are kin-openapi's (a differential test and a fuzz target hold
// them equal), so the document stays the single source of truth:
//
//   - A JSON null means absent (a nil pointer, slice or map).
//   - Keys the schema does not define are kept in Customer.Extra,
//     Variation.Extra and Relation.Extra (the mock warns unknown_key); unknown top-level keys are
//     allowed and dropped. Keys are matched case-sensitively, after unescaping.
//   - When a key is repeated in an object the last one wins, as in encoding/json
//     (which kin-openapi uses): the earlier value and its violations are dropped.
//   - Integers: 1.0 and 1e2 are integers and 1.5 is not, as in kin-openapi (a
//     number is an integer when its float64 value is whole). The integers are
//     int64 (the document's format): a whole number whose float64 value is
//     beyond ±2^63, and a number beyond float64's range, are the same
//     violation, "number is too large to be represented"; ±2^63 itself
//     saturates to math.MaxInt64 or math.MinInt64.
//   - Strings are unescaped as encoding/json does, but invalid UTF-8 and lone
//     surrogate escapes (\ud800 alone) in any string, keys and skipped values
//     included, are a *SyntaxError (RFC 8259 §8.1), never U+FFFD.
//   - Values inside fields and Extra decode as encoding/json decodes into any
//     (float64 numbers, map[string]any, []any), except that a number beyond
//     float64's range is kept as a json.Number so that it re-encodes unchanged.
//   - Empty arrays and objects decode as empty, non-nil slices and maps (a
//     delta that clears the stored value); string lists are split and trimmed
//     as StringList describes.
//
// The result shares no memory with body: the caller may reuse body's buffer
// as soon as DecodeSaveCustomers returns. To allocate per request rather than
// per field, the strings of one result are substrings of a few copies of the
// body of at most 8 KiB each, and its pointer fields, string lists and
// variations point into a few shared slabs: a value kept alive keeps its copy
// or slab alive. A caller that keeps a few values of a large body for a long
// time should copy them (strings.Clone, a new pointer). Equal strings and
// small whole numbers in fields and Extra may share one boxed value.
// It is safe for concurrent use.
func DecodeSaveCustomers(body []byte) (*SaveCustomersRequest, error) {
	return DecodeSaveCustomersLimits(body, Limits{})
}

// Limits bound what one body may cost DecodeSaveCustomersLimits. A zero field
// means no limit. Every count and size of a request has one: without them a
// 16 MiB body of empty objects ({},{},…) decodes to millions of customers,
// relations or variations (gigabytes of memory, and an answer with messages
// for each) before any per-request limit can be checked.
type Limits struct {
	// MaxCustomers is the most customers a body may have.
	MaxCustomers int
	// RecordLimits bound the relations, the variations, the list items, the
	// keys and the string lengths.
	RecordLimits
	// MaxViolations is the most violations listed. At one more, decoding stops
	// and the *ValidationError lists the first MaxViolations violations found,
	// sorted, with Truncated set, whatever the rest of the body holds.
	MaxViolations int
}

// RecordLimits are the limits of Limits beyond the number of customers: the
// ones rules.Config holds too (it embeds them), so that each is declared once.
type RecordLimits struct {
	// MaxRelations is the most relations a body may have.
	MaxRelations int `json:"max_relations"`
	// MaxVariations is the most variations one customer may have, and
	// MaxAllVariations the most of all the customers of a body.
	MaxVariations    int `json:"max_variations"`
	MaxAllVariations int `json:"max_all_variations"`
	// MaxItems is the most items of any other list: alias_ids, contacts,
	// domicile_codes, nationality_codes, review_groups (as an array or as the
	// items of a string), and every array inside fields and unknown keys.
	MaxItems int `json:"max_items"`
	// MaxKeys is the most keys of one object inside a record: fields, any
	// object inside it, and the unknown keys of a customer, variation or
	// relation (each one is a warning of the answer). MaxAllKeys is the most
	// of those keys in a body, all objects together, counting the items of
	// the arrays inside fields and unknown keys too (nested arrays of small
	// values cost 16 bytes and more per item).
	MaxKeys    int `json:"max_keys"`
	MaxAllKeys int `json:"max_all_keys"`
	// MaxIDLength is the longest identifier, in bytes: external_id,
	// relation_external_id, parent_ and child_customer_external_id, and each
	// of alias_ids.
	MaxIDLength int `json:"max_id_length"`
	// MaxStringLength is the longest of every other string, in bytes: names,
	// comments, phone, custom-field values, keys.
	MaxStringLength int `json:"max_string_length"`
}

// The limits a LimitError names (LimitError.What).
const (
	LimitCustomers     = "customers"
	LimitRelations     = "relations"
	LimitVariations    = "variations"
	LimitAllVariations = "all-variations"
	LimitAllKeys       = "all-keys"
	LimitItems         = "items"
	LimitKeys          = "keys"
	LimitIDLength      = "id-length"
	LimitStringLength  = "string-length"
)

// LimitError is returned by DecodeSaveCustomersLimits when a body exceeds one
// of its Limits (the mock answers 413). Decoding stops there: the rest of the
// body is not read.
type LimitError struct {
	What    string // one of the Limit… constants
	Limit   int
	Pointer string // the JSON pointer of the first value beyond the limit
}

func (e *LimitError) Error() string {
	switch e.What {
	case LimitIDLength, LimitStringLength:
		return fmt.Sprintf("the string at %q is longer than %d bytes", e.Pointer, e.Limit)
	case LimitKeys:
		return fmt.Sprintf("the object at %q has more than %d keys", e.Pointer, e.Limit)
	case LimitAllKeys:
		return fmt.Sprintf("the request has more than %d keys and array items in fields and unknown keys, all records together (at %q); split the batch", e.Limit, e.Pointer)
	case LimitAllVariations:
		return fmt.Sprintf("the request has more than %d variations, all customers together (at %q); split the batch", e.Limit, e.Pointer)
	}
	return fmt.Sprintf("the request has more than %d %s (at %q); split the batch", e.Limit, e.What, e.Pointer)
}

// overLimit stops the decoding with a *LimitError for the value at the
// current path plus name.
func (d *decoder) overLimit(what string, limit int, name string) {
	panic(abort{&LimitError{What: what, Limit: limit, Pointer: d.pointer(name)}})
}

// checkLength stops the decoding when s, the value at the current path plus
// name, is longer than its limit: MaxIDLength when id, else MaxStringLength.
func (d *decoder) checkLength(s string, name string, id bool) {
	if id && d.lim.MaxIDLength > 0 && len(s) > d.lim.MaxIDLength {
		d.overLimit(LimitIDLength, d.lim.MaxIDLength, name)
	}
	if d.lim.MaxStringLength > 0 && len(s) > d.lim.MaxStringLength {
		d.overLimit(LimitStringLength, d.lim.MaxStringLength, name)
	}
}

// isID reports whether the string property name holds an identifier (see
// Limits.MaxIDLength).
func isID(name string) bool { return strings.HasSuffix(name, "external_id") }

// DecodeSaveCustomersLimits is DecodeSaveCustomers with limits on what a
// hostile body may cost: it also returns *LimitError, and may return a
// truncated *ValidationError (see Limits).
func DecodeSaveCustomersLimits(body []byte, lim Limits) (req *SaveCustomersRequest, err error) {
	if len(body) == 0 {
		return nil, &ValidationError{Kind: "request", Violations: []Violation{{Pointer: "", Message: msgRequired}}}
	}
	d := decoder{buf: body, lim: lim, short: math.MaxInt}
	for _, n := range []int{lim.MaxIDLength, lim.MaxStringLength} {
		if n > 0 {
			d.short = min(d.short, n)
		}
	}
	d.path = make([]pathToken, 0, 4) // deep enough for customers/i/variations/j
	defer func() {
		if r := recover(); r != nil {
			a, ok := r.(abort)
			if !ok {
				panic(r)
			}
			req, err = nil, a.err
			if a.err == nil {
				req, err = nil, d.validationError(true)
			}
		}
	}()
	req = &SaveCustomersRequest{}
	d.ws()
	d.top(req)
	if d.err == nil {
		d.ws()
		if d.pos < len(d.buf) {
			d.fail("after top-level value", false)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.viols) > d.dropped {
		return nil, d.validationError(false)
	}
	return req, nil
}

// abort stops a decoding at a limit: err is returned, or, when nil, the
// violations found so far.
type abort struct{ err error }

// validationError returns the live violations, sorted.
func (d *decoder) validationError(truncated bool) *ValidationError {
	if d.dropped > 0 {
		kept := d.viols[:0]
		for _, v := range d.viols {
			if v.Message != "" {
				kept = append(kept, v)
			}
		}
		d.viols = kept
	}
	sortViolations(d.viols)
	return &ValidationError{Kind: "request", Violations: d.viols, Truncated: truncated}
}

// addViolation records v, or stops the decoding when Limits.MaxViolations
// are already recorded.
func (d *decoder) addViolation(v Violation) {
	if d.lim.MaxViolations > 0 && len(d.viols)-d.dropped >= d.lim.MaxViolations {
		panic(abort{})
	}
	d.viols = append(d.viols, v)
}

// The violation messages: kin-openapi's words, except where ValidationError
// improves them for both paths (schemaMessage and collectOneOf in errors.go).
const (
	msgRequired      = "value is required but missing"
	msgNotNullable   = "value must not be null"
	msgString        = "value must be a string"
	msgBoolean       = "value must be a boolean"
	msgInteger       = "value must be an integer"
	msgArray         = "value must be an array"
	msgObject        = "value must be an object"
	msgStringOrArray = "value must be a string or an array of strings"
	msgOutOfRange    = "number is too large to be represented"
)

// decoder is the state of one DecodeSaveCustomers call.
type decoder struct {
	lim   Limits
	short int // the shortest string length limit (math.MaxInt for none)
	// nVars and nKeys count the variations and the keys of fields and Extra
	// read so far (Limits.MaxAllVariations, MaxAllKeys).
	nVars, nKeys int
	buf          []byte
	pos          int
	depth        int
	err          *SyntaxError
	path         []pathToken // where the value being read is, for violations
	viols        []Violation
	dropped      int // violations marked dropped (empty Message) by repeated keys

	// Slabs that the pointer fields of the model point into: one allocation
	// per slab instead of one per value. A slab is never grown, only
	// replaced, and an element is never written again once handed out.
	strs  []string
	bools []bool
	ints  []int64

	// src is a copy of buf[srcAt:srcAt+len(src)] that string values are cut
	// from (see intern).
	src   string
	srcAt int
	// keyAt is the offset in buf of the key more returned last, or -1 when
	// that key had escapes (and is thus not the body's bytes).
	keyAt int
	// boxes holds strings of fields and Extra already boxed (see boxString).
	boxes [32]any
	// items and vars are slabs that string lists and variations are carved
	// from: an array's elements are appended, then sliced off with a capped
	// capacity, so a caller's append never writes into a neighbour.
	items []string
	vars  []Variation
}

// chunkSize is the most body bytes one copy holds (see intern). A copy never
// extends past the body, so a small request keeps a small copy alive.
const chunkSize = 8 << 10

// intern returns buf[start:end] as a string that shares no memory with buf.
// Rather than allocating each string, intern copies the body once, in pieces:
// a piece is a string holding up to chunkSize bytes of the body from the first
// string that did not fit in the piece before, and every string that lies
// inside a piece is a substring of it (a substring shares its parent's
// immutable bytes). The pieces hold the keys and punctuation between the
// strings too, but one copy of the whole body costs less than one copy per
// string. A string longer than chunkSize/8 that starts a piece gets a copy of
// its own. A string kept alive keeps its piece (at most chunkSize bytes) alive.
func (d *decoder) intern(start, end int) string {
	if start == end {
		return ""
	}
	if d.srcAt <= start && end <= d.srcAt+len(d.src) {
		return d.src[start-d.srcAt : end-d.srcAt]
	}
	if end-start > chunkSize/8 {
		return string(d.buf[start:end])
	}
	d.srcAt = start
	d.src = string(d.buf[start:min(start+chunkSize, len(d.buf))])
	return d.src[:end-start]
}

// pathToken is one step of a JSON pointer: a key, or an index when key is "".
type pathToken struct {
	key string
	idx int
}

// slabCap sizes a new slab from what is left of the body (about one element
// per per bytes), between lo and hi elements, so that a small request does not
// allocate large slabs.
func (d *decoder) slabCap(per, lo, hi int) int {
	return min(max((len(d.buf)-d.pos)/per, lo), hi)
}

func (d *decoder) newString(s string) *string {
	if len(d.strs) == cap(d.strs) {
		d.strs = make([]string, 0, d.slabCap(24, 4, 256))
	}
	d.strs = append(d.strs, s)
	return &d.strs[len(d.strs)-1]
}

func (d *decoder) newBool(b bool) *bool {
	if len(d.bools) == cap(d.bools) {
		d.bools = make([]bool, 0, d.slabCap(128, 2, 256))
	}
	d.bools = append(d.bools, b)
	return &d.bools[len(d.bools)-1]
}

func (d *decoder) newInt(i int64) *int64 {
	if len(d.ints) == cap(d.ints) {
		d.ints = make([]int64, 0, d.slabCap(128, 2, 256))
	}
	d.ints = append(d.ints, i)
	return &d.ints[len(d.ints)-1]
}

// Values inside fields and Extra are held by an any, and converting a string
// or a float64 to an any allocates a copy of it, one allocation per value.
// Custom fields repeat their values from customer to customer (a segment, a
// status, a date, a small score or count), so those are boxed once and the
// same any is handed out again: boxString keeps the strings boxed last, and
// smallWholes the whole numbers 0 to 1023 (as the runtime keeps the integers
// 0 to 255 boxed). An any's value is immutable, so sharing it is safe.

// boxString returns any(s), the same any as for the last equal string boxed
// with the same hash when there is one.
func (d *decoder) boxString(s string) any {
	if s == "" {
		return "" // boxing "" does not allocate
	}
	h := (uint(len(s))*131 + uint(s[0])*31 + uint(s[len(s)-1])) % uint(len(d.boxes))
	if b, ok := d.boxes[h].(string); ok && b == s {
		return d.boxes[h]
	}
	v := any(s)
	d.boxes[h] = v
	return v
}

// smallWholes holds any(float64(i)) for every i.
var smallWholes = func() (t [1024]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

// pointer returns the JSON pointer of the current path plus name (if not "").
func (d *decoder) pointer(name string) string {
	var b strings.Builder
	for _, t := range d.path {
		b.WriteByte('/')
		if t.key == "" {
			b.WriteString(strconv.Itoa(t.idx))
		} else {
			b.WriteString(escapePointerToken(t.key))
		}
	}
	if name != "" {
		b.WriteByte('/')
		b.WriteString(escapePointerToken(name))
	}
	return b.String()
}

// violation records that the value at the current path plus name has the wrong
// type, and skips it. A number beyond float64's range is reported as such, as
// kin-openapi does before it looks at the type.
func (d *decoder) violation(name, msg string) {
	if c := d.peek(); c == '-' || isDigit(c) {
		start := d.pos
		isInt := d.number()
		if d.err != nil {
			return
		}
		if isInt && d.pos-start < 300 {
			// Fewer than 309 digits always fit a float64.
		} else if _, err := strconv.ParseFloat(string(d.buf[start:d.pos]), 64); err != nil {
			msg = msgOutOfRange
		}
	} else {
		d.skip()
	}
	d.addViolation(Violation{Pointer: d.pointer(name), Message: msg})
}

// The scanner. Every reader starts at the first byte of its value (white space
// already skipped) and stops right after it. On a syntax error it sets d.err;
// callers check d.err after each read.

func (d *decoder) peek() byte {
	if d.pos < len(d.buf) {
		return d.buf[d.pos]
	}
	return 0
}

func (d *decoder) ws() {
	// Most bodies are compact: one test when no white space follows.
	if d.pos < len(d.buf) && d.buf[d.pos] > ' ' {
		return
	}
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// fail records a syntax error at d.pos, in encoding/json's words. At the end of
// the body, encoding/json feeds its scanner one space: where a space is itself
// an error (inside a number, a literal or an escape), spaceErr is true and the
// message names that space.
func (d *decoder) fail(context string, spaceErr bool) {
	if d.err != nil {
		return
	}
	if d.pos >= len(d.buf) {
		msg := "unexpected end of JSON input"
		if spaceErr {
			msg = "invalid character ' ' " + context
		}
		d.err = &SyntaxError{Offset: int64(len(d.buf)), Msg: msg}
		return
	}
	d.err = &SyntaxError{Offset: int64(d.pos + 1), Msg: "invalid character " + quoteChar(d.buf[d.pos]) + " " + context}
}

func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// push enters an array or an object at d.pos.
func (d *decoder) push() bool {
	d.depth++
	if d.depth > MaxDepth {
		d.fail("exceeded max depth", false)
		return false
	}
	d.pos++
	return true
}

// more is called after '{' (first) or after a member of an object. It consumes
// a separator and the next key with its colon, and returns the key, or false
// when the object is closed or on a syntax error. The key is raw (a sub-slice
// of the body) unless it had escapes or invalid UTF-8.
func (d *decoder) more(first bool) ([]byte, bool) {
	d.ws()
	c := d.peek()
	switch {
	case c == '}':
		d.pos++
		d.depth--
		return nil, false
	case first:
	case c == ',':
		d.pos++
		d.ws()
	default:
		d.fail("after object key:value pair", false)
		return nil, false
	}
	if d.peek() != '"' {
		d.fail("looking for beginning of object key string", false)
		return nil, false
	}
	start := d.pos
	simple := d.scanString()
	if d.err != nil {
		return nil, false
	}
	key := d.buf[start+1 : d.pos-1]
	d.keyAt = start + 1
	if !simple {
		key = []byte(unquoteSlow(d.buf[start:d.pos]))
		d.keyAt = -1
	}
	d.ws()
	if d.peek() != ':' {
		d.fail("after object key", false)
		return nil, false
	}
	d.pos++
	d.ws()
	return key, true
}

// next is called after '[' (first) or after an element of an array. It
// consumes a separator and returns true when an element follows, false when the
// array is closed or on a syntax error.
func (d *decoder) next(first bool) bool {
	d.ws()
	c := d.peek()
	switch {
	case c == ']':
		d.pos++
		d.depth--
		return false
	case first:
		return true
	case c == ',':
		d.pos++
		d.ws()
		return true
	}
	d.fail("after array element", false)
	return false
}

// stringClass marks the bytes that end the fast path of scanString.
var stringClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['"'], t['\\'] = 1, 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	return t
}()

// lo and hi repeat 0x01 and 0x80 in every byte of a word.
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// special marks the bytes of w that end the plain run of a string: '"',
// '\\', a control character or a non-ASCII byte. The lowest bit set is exact (a
// borrow only runs upwards), so it locates the first special byte.
func special(w uint64) uint64 {
	q, bs := w^(lo*'"'), w^(lo*'\\')
	return ((q-lo)&^q | (bs-lo)&^bs | (w-lo*0x20)&^w | w) & hi
}

// scanString checks the string at d.pos and moves past it. It returns true when
// the string's content is its raw bytes (no escape, valid UTF-8). The common
// case, an ASCII string without escapes, has a small function of its own that
// keeps its state in registers; scanStringFrom does the rest.
func (d *decoder) scanString() bool {
	buf, i := d.buf, d.pos+1
	for i+8 <= len(buf) {
		if m := special(binary.LittleEndian.Uint64(buf[i:])); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			if buf[i] == '"' {
				d.pos = i + 1
				return true
			}
			break
		}
		i += 8
	}
	return d.scanStringFrom(d.pos+1, i)
}

// scanStringFrom is scanString, from i where the bytes since start (after the
// opening quote) are plain ASCII.
func (d *decoder) scanStringFrom(start, i int) bool {
	buf := d.buf
	simple := true
	for {
		// Eight bytes at a time while none of them is special, then byte by
		// byte near the end of the body.
		for i+8 <= len(buf) {
			if m := special(binary.LittleEndian.Uint64(buf[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				goto found
			}
			i += 8
		}
		for i < len(buf) && stringClass[buf[i]] == 0 {
			i++
		}
	found:
		if i >= len(buf) {
			d.pos = i
			d.fail("in string literal", false)
			return false
		}
		switch c := buf[i]; {
		case c == '"':
			d.pos = i + 1
			return simple
		case c == '\\':
			simple = false
			i++
			if i >= len(buf) {
				d.pos = i
				d.fail("in string escape code", true)
				return false
			}
			switch buf[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i = d.unicodeEscape(i - 1); i < 0 {
					return false
				}
			default:
				d.pos = i
				d.fail("in string escape code", false)
				return false
			}
		case c < 0x20:
			d.pos = i
			d.fail("in string literal", false)
			return false
		default: // non-ASCII: valid UTF-8 or an error (RFC 8259 §8.1)
			r, size := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && size == 1 {
				d.pos = i
				d.failAt(i, "invalid UTF-8 in string literal")
				return false
			}
			i += size
		}
	}
}

// unicodeEscape checks the escape \uXXXX at d.buf[i:] (i at its backslash)
// and returns the index after it, or -1 on an error. A surrogate must be the
// first half of a pair whose second half follows (RFC 8259 §8.2): a lone one
// is an error, never U+FFFD.
func (d *decoder) unicodeEscape(i int) int {
	buf := d.buf
	r, ok := d.hex4(i + 2)
	if !ok {
		return -1
	}
	switch {
	case r < 0xd800 || r >= 0xe000:
		return i + 6
	case r < 0xdc00 && i+12 <= len(buf) && buf[i+6] == '\\' && buf[i+7] == 'u':
		if r2, ok := d.hex4(i + 8); ok && 0xdc00 <= r2 && r2 < 0xe000 {
			return i + 12
		}
		if d.err != nil {
			return -1
		}
	}
	d.failAt(i, fmt.Sprintf(`lone surrogate \u%04x in string literal`, r))
	return -1
}

// hex4 reads the four hexadecimal digits of a \u escape at d.buf[i:], or
// fails as encoding/json does.
func (d *decoder) hex4(i int) (rune, bool) {
	var r rune
	for k := i; k < i+4; k++ {
		if k >= len(d.buf) || !isHex(d.buf[k]) {
			d.pos = k
			d.fail(`in \u hexadecimal character escape`, true)
			return 0, false
		}
		c := rune(d.buf[k])
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | c
	}
	return r, true
}

// failAt records a syntax error of the string byte at i, which is not one of
// encoding/json's (it replaces what we refuse).
func (d *decoder) failAt(i int, msg string) {
	if d.err == nil {
		d.err = &SyntaxError{Offset: int64(i + 1), Msg: msg}
	}
}

// unquoteSlow unquotes a checked string literal as encoding/json does (escapes,
// surrogate pairs; the scanner refused invalid UTF-8 and lone surrogates).
func unquoteSlow(lit []byte) string {
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		panic("openapi: unquote of a checked string failed: " + err.Error())
	}
	return s
}

// str reads the string at d.pos.
func (d *decoder) str() string {
	start := d.pos
	if d.scanString() {
		return d.intern(start+1, d.pos-1)
	}
	if d.err != nil {
		return ""
	}
	return unquoteSlow(d.buf[start:d.pos])
}

// number checks the number at d.pos and moves past it. It returns true when the
// number has neither a fraction nor an exponent.
func (d *decoder) number() bool {
	buf := d.buf
	i := d.pos
	if buf[i] == '-' {
		i++
	}
	switch {
	case i < len(buf) && buf[i] == '0':
		i++
	case i < len(buf) && '1' <= buf[i] && buf[i] <= '9':
		i++
		for i < len(buf) && isDigit(buf[i]) {
			i++
		}
	default:
		d.pos = i
		d.fail("in numeric literal", true)
		return false
	}
	isInt := true
	ok := true
	if i < len(buf) && buf[i] == '.' {
		isInt = false
		if i, ok = d.digits(i+1, "after decimal point in numeric literal"); !ok {
			return false
		}
	}
	if i < len(buf) && (buf[i] == 'e' || buf[i] == 'E') {
		isInt = false
		i++
		if i < len(buf) && (buf[i] == '+' || buf[i] == '-') {
			i++
		}
		if i, ok = d.digits(i, "in exponent of numeric literal"); !ok {
			return false
		}
	}
	d.pos = i
	return isInt
}

// digits returns the index after the one or more digits at d.buf[i:], or
// fails with context when there is none.
func (d *decoder) digits(i int, context string) (int, bool) {
	buf := d.buf
	if i >= len(buf) || !isDigit(buf[i]) {
		d.pos = i
		d.fail(context, true)
		return i, false
	}
	for i < len(buf) && isDigit(buf[i]) {
		i++
	}
	return i, true
}

// literal checks that the literal word (true, false or null) is at d.pos and
// moves past it.
func (d *decoder) literal(word string) bool {
	for k := 1; k < len(word); k++ {
		i := d.pos + k
		if i >= len(d.buf) || d.buf[i] != word[k] {
			d.pos = i
			d.fail("in literal "+word+" (expecting "+quoteChar(word[k])+")", true)
			return false
		}
	}
	d.pos += len(word)
	return true
}

// boolean reads the literal true or false at d.pos (at its 't' or 'f').
func (d *decoder) boolean() bool {
	if d.peek() == 't' {
		d.literal("true")
		return true
	}
	d.literal("false")
	return false
}

// skip checks and skips the value at d.pos.
func (d *decoder) skip() {
	switch c := d.peek(); c {
	case '{':
		if !d.push() {
			return
		}
		for first := true; ; first = false {
			if _, ok := d.more(first); !ok {
				return
			}
			if d.skip(); d.err != nil {
				return
			}
		}
	case '[':
		if !d.push() {
			return
		}
		for first := true; d.next(first); first = false {
			if d.skip(); d.err != nil {
				return
			}
		}
	case '"':
		d.scanString()
	case 't', 'f':
		d.boolean()
	case 'n':
		d.literal("null")
	default:
		if c == '-' || isDigit(c) {
			d.number()
			return
		}
		d.fail("looking for beginning of value", false)
	}
}

// anyValue reads the value at d.pos as encoding/json decodes into any.
func (d *decoder) anyValue() any {
	switch c := d.peek(); c {
	case '{':
		return d.anyObject()
	case '[':
		if !d.push() {
			return nil
		}
		out := []any{}
		for first := true; d.next(first); first = false {
			if d.lim.MaxItems > 0 && len(out) >= d.lim.MaxItems {
				d.overLimit(LimitItems, d.lim.MaxItems, strconv.Itoa(len(out)))
			}
			if d.nKeys++; d.lim.MaxAllKeys > 0 && d.nKeys > d.lim.MaxAllKeys {
				d.overLimit(LimitAllKeys, d.lim.MaxAllKeys, strconv.Itoa(len(out)))
			}
			d.path = append(d.path, pathToken{idx: len(out)})
			v := d.anyValue()
			d.path = d.path[:len(d.path)-1]
			if d.err != nil {
				return nil
			}
			out = append(out, v)
		}
		return out
	case '"':
		s := d.str()
		if len(s) > d.short {
			d.checkLength(s, "", false)
		}
		return d.boxString(s)
	case 't', 'f':
		return d.boolean()
	case 'n':
		d.literal("null")
		return nil
	default:
		if c == '-' || isDigit(c) {
			start := d.pos
			isInt := d.number()
			if d.err != nil {
				return nil
			}
			return d.anyNumber(d.buf[start:d.pos], isInt)
		}
		d.fail("looking for beginning of value", false)
		return nil
	}
}

// anyObject reads the object at d.pos as encoding/json decodes into
// map[string]any (the last of repeated keys wins).
func (d *decoder) anyObject() map[string]any {
	if !d.push() {
		return nil
	}
	out := map[string]any{}
	for first := true; ; first = false {
		key, ok := d.more(first)
		if !ok {
			return out
		}
		k := d.keyString(key)
		d.checkKey(k, out)
		d.path = append(d.path, pathToken{key: k})
		v := d.anyValue()
		d.path = d.path[:len(d.path)-1]
		if d.err != nil {
			return nil
		}
		out[k] = v
	}
}

// checkKey stops the decoding when k, a key about to be set in m, is one key
// too many (Limits.MaxKeys) or too long (the pointer is then the object's).
func (d *decoder) checkKey(k string, m map[string]any) {
	if d.nKeys++; d.lim.MaxAllKeys > 0 && d.nKeys > d.lim.MaxAllKeys {
		d.overLimit(LimitAllKeys, d.lim.MaxAllKeys, "")
	}
	if d.lim.MaxKeys > 0 && len(m) >= d.lim.MaxKeys {
		if _, dup := m[k]; !dup {
			d.overLimit(LimitKeys, d.lim.MaxKeys, "")
		}
	}
	if len(k) > d.short {
		d.checkLength(k, "", false)
	}
}

// keyString returns key, just returned by more, as a string that shares no
// memory with the body.
func (d *decoder) keyString(key []byte) string {
	if d.keyAt < 0 {
		return string(key) // unescaped, not the body's bytes
	}
	return d.intern(d.keyAt, d.keyAt+len(key))
}

// anyNumber converts a checked number literal as encoding/json does into any
// (float64), keeping it as a json.Number when it is beyond float64's range.
func (d *decoder) anyNumber(lit []byte, isInt bool) any {
	if isInt && len(lit) <= 16 {
		if n, ok := smallInt(lit); ok && n > -1<<53 && n < 1<<53 {
			if 0 <= n && n < int64(len(smallWholes)) {
				return smallWholes[n]
			}
			return float64(n)
		}
	}
	s := string(lit)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return json.Number(s)
	}
	return f
}

// smallInt parses an integer literal of at most 18 digits.
func smallInt(lit []byte) (int64, bool) {
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	if len(lit) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range lit {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// integer converts a checked number literal for an integer field (format
// int64), with kin-openapi's verdicts: a whole float64 value is an integer;
// one beyond ±2^63 is out of range, and ±2^63 itself saturates (the float64
// value of 9223372036854775807 is 2^63). It returns a violation message when the number is not an integer.
func integer(lit []byte, isInt bool) (int64, string) {
	if isInt {
		if n, ok := smallInt(lit); ok {
			return n, ""
		}
	}
	s := string(lit)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, msgOutOfRange
	}
	if f != math.Trunc(f) {
		return 0, msgInteger
	}
	if f > 1<<63 || f < -(1<<63) {
		// Beyond int64 (format: int64), judged on the float64 value as
		// kin-openapi does: 99999999999999999999999 gets the answer of 1e400.
		return 0, msgOutOfRange
	}
	if isInt {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, ""
		}
	}
	switch {
	case f >= math.MaxInt64: // 2^63
		return math.MaxInt64, ""
	case f <= math.MinInt64:
		return math.MinInt64, ""
	}
	return int64(f), ""
}

// The typed readers. name is the key of the value in its object, for
// violations; the value is at d.pos.

func (d *decoder) stringField(dst **string, name string) {
	switch d.peek() {
	case '"':
		s := d.str()
		if len(s) > d.short {
			d.checkLength(s, name, isID(name))
		}
		*dst = d.newString(s)
	case 'n':
		d.literal("null")
		*dst = nil
	default:
		d.violation(name, msgString)
	}
}

func (d *decoder) boolField(dst **bool, name string) {
	switch d.peek() {
	case 't', 'f':
		*dst = d.newBool(d.boolean())
	case 'n':
		d.literal("null")
		*dst = nil
	default:
		d.violation(name, msgBoolean)
	}
}

func (d *decoder) intField(dst **int64, name string) {
	switch c := d.peek(); {
	case c == '-' || isDigit(c):
		start := d.pos
		isInt := d.number()
		if d.err != nil {
			return
		}
		n, msg := integer(d.buf[start:d.pos], isInt)
		if msg != "" {
			d.addViolation(Violation{Pointer: d.pointer(name), Message: msg})
			*dst = nil
			return
		}
		*dst = d.newInt(n)
	case c == 'n':
		d.literal("null")
		*dst = nil
	default:
		d.violation(name, msgInteger)
	}
}

func (d *decoder) objectField(dst *map[string]any, name string) {
	switch d.peek() {
	case '{':
		d.path = append(d.path, pathToken{key: name})
		*dst = d.anyObject()
		d.path = d.path[:len(d.path)-1]
	case 'n':
		d.literal("null")
		*dst = nil
	default:
		d.violation(name, msgObject)
	}
}

// stringItems reads the elements of an array of strings (after '['), carved
// from the items slab; trim trims them and drops empty ones (StringList). The
// result is never nil.
func (d *decoder) stringItems(name string, trim bool) []string {
	if cap(d.items)-len(d.items) < 8 {
		d.items = make([]string, 0, d.slabCap(48, 16, 512))
	}
	start := len(d.items)
	d.elements(name, '"', msgString, func(i int) {
		if d.lim.MaxItems > 0 && i >= d.lim.MaxItems {
			d.overLimit(LimitItems, d.lim.MaxItems, strconv.Itoa(i))
		}
		s := d.str()
		if len(s) > d.short {
			d.checkLength(s, strconv.Itoa(i), name == "alias_ids")
		}
		if trim {
			if s = strings.TrimSpace(s); s == "" {
				return
			}
		}
		d.items = append(d.items, s)
	})
	return d.items[start:len(d.items):len(d.items)]
}

// splitList is SplitStringList, carving the items from the items slab; more
// than Limits.MaxItems items stop the decoding (name is the key, for the
// pointer).
func (d *decoder) splitList(s, name string) StringList {
	if cap(d.items)-len(d.items) < 8 {
		d.items = make([]string, 0, d.slabCap(48, 16, 512))
	}
	start := len(d.items)
	for s != "" {
		i := strings.IndexAny(s, ";,")
		item := s
		if i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if item = strings.TrimSpace(item); item != "" {
			if d.lim.MaxItems > 0 && len(d.items)-start >= d.lim.MaxItems {
				d.overLimit(LimitItems, d.lim.MaxItems, name)
			}
			d.items = append(d.items, item)
		}
	}
	return d.items[start:len(d.items):len(d.items)]
}

func (d *decoder) stringsField(dst *[]string, name string) {
	d.stringArray(dst, name, false, msgArray)
}

// stringListField reads a StringList: a string to split, or an array.
func (d *decoder) stringListField(dst *StringList, name string) {
	if d.peek() == '"' {
		s := d.str()
		if len(s) > d.short {
			d.checkLength(s, name, false)
		}
		*dst = d.splitList(s, name)
		return
	}
	d.stringArray((*[]string)(dst), name, true, msgStringOrArray)
}

// stringArray reads an array of strings (trimmed with trim) or null into
// dst; anything else is the violation msg.
func (d *decoder) stringArray(dst *[]string, name string, trim bool, msg string) {
	switch d.peek() {
	case '[':
		if d.push() {
			*dst = d.stringItems(name, trim)
		}
	case 'n':
		d.literal("null")
		*dst = nil
	default:
		d.violation(name, msg)
	}
}

// arrayStart starts the array of objects at d.pos and returns true, or reads
// a null (absent: *dst is set to nil) or records a violation, and returns
// false.
func arrayStart[T any](d *decoder, dst *[]T, name string) bool {
	switch d.peek() {
	case '[':
		return d.push()
	case 'n':
		d.literal("null")
		*dst = nil
	default:
		d.violation(name, msgArray)
	}
	return false
}

// objects reads the elements of an array of objects (customers, relations,
// variations; after '['), calling item for each object element; a null
// element or one of another type is a violation.
func (d *decoder) objects(name string, item func(i int)) {
	d.elements(name, '{', msgObject, item)
}

// elements reads the elements of the array name (after '['), calling item
// for each element that starts with first (a string's '"', an object's '{');
// a null element, or one of another type (violation msg), is a violation.
func (d *decoder) elements(name string, first byte, msg string, item func(i int)) {
	d.path = append(d.path, pathToken{key: name})
	for i, start := 0, true; d.next(start); i, start = i+1, false {
		switch d.peek() {
		case first:
			item(i)
		case 'n':
			if d.literal("null") {
				d.addViolation(Violation{Pointer: d.pointer(strconv.Itoa(i)), Message: msgNotNullable})
			}
		default:
			d.violation(strconv.Itoa(i), msg)
		}
		if d.err != nil {
			break
		}
	}
	d.path = d.path[:len(d.path)-1]
}

// seen tracks the keys of a typed object and the range of violations that
// each key's value produced, so that a repeated key drops the violations of its
// earlier value (the last value wins, as in encoding/json). Dropped violations
// are marked, not removed, so that each costs O(1) however keys repeat.
type seen struct {
	bits     uint32
	cur      int // 1 + the bit of the key being read, 0 when none
	from, to [32]int32
}

// repeat is called before the value of known key bit is read.
func (d *decoder) repeat(s *seen, bit uint) {
	if s.bits&(1<<bit) != 0 {
		for i := s.from[bit]; i < s.to[bit]; i++ {
			if d.viols[i].Message != "" {
				d.viols[i].Message = ""
				d.dropped++
			}
		}
	}
	s.bits |= 1 << bit
	s.from[bit] = int32(len(d.viols))
	s.to[bit] = s.from[bit]
	s.cur = int(bit) + 1
}

// close ends the range of the key just read, n being len(d.viols).
func (s *seen) close(n int) {
	if s.cur > 0 {
		s.to[s.cur-1] = int32(n)
		s.cur = 0
	}
}

// top reads the body's top-level value, which must be an object. The
// readers of objects (saveCustomersRequest, customer, variation, relation) and
// their key dispatch are generated from the document in decode_gen.go.
func (d *decoder) top(req *SaveCustomersRequest) {
	switch d.peek() {
	case '{':
		d.saveCustomersRequest(req)
	case 'n':
		if d.literal("null") {
			d.addViolation(Violation{Pointer: "", Message: msgNotNullable})
		}
	default:
		d.violation("", msgObject)
	}
}

// customerList, relationList and variationList read the arrays of objects of
// the request (name is the key, for violations), each allocating its own way:
// customers in place from an estimate of their number, relations by growth,
// variations from a shared slab. The generated readers call <schema>List for
// a property that is an array of <schema>.
func (d *decoder) customerList(dst *[]Customer, name string) {
	if !arrayStart(d, dst, name) {
		return
	}
	// The customers are decoded in place, into a slice whose capacity is
	// estimated from the bytes per customer so far (see growCustomers): no
	// scratch slice to copy from and clear, which costs write barriers for
	// every pointer while the garbage collector runs.
	first := d.pos
	var out []Customer
	d.objects(name, func(i int) {
		if d.lim.MaxCustomers > 0 && i >= d.lim.MaxCustomers {
			d.overLimit(LimitCustomers, d.lim.MaxCustomers, strconv.Itoa(i))
		}
		if len(out) == cap(out) {
			out = d.growCustomers(out, first)
		}
		out = grow1(out)
		d.path = append(d.path, pathToken{idx: i})
		d.customer(&out[len(out)-1])
		d.path = d.path[:len(d.path)-1]
	})
	// A large overestimate (say the first customer was much smaller than the
	// others) is not kept alive with the result; an empty array is an empty,
	// non-nil slice.
	if out == nil || cap(out)-len(out) > len(out)/8 {
		out = append(make([]Customer, 0, len(out)), out...)
	}
	*dst = out
}

// grow1 returns s with one more element, a zero one. It is used on slices
// that are only ever appended to, whose spare capacity has thus never been
// written and is still zero (make and append zero what they allocate): the
// slice is resliced rather than a zero value written, which would cost a write
// barrier per pointer while the collector runs.
func grow1[T any](s []T) []T {
	if len(s) < cap(s) {
		return s[:len(s)+1]
	}
	var zero T
	return append(s, zero)
}

// growCustomers returns out with room for the customers still to come,
// estimated from what is left of the body and the average size of the
// customers read since first (the offset after '['). The first customer is
// given a slice of one: a body of one customer is common. Growth is at least a
// quarter, so that a bad estimate costs amortised O(1) per customer.
//
// The estimate counts at least minCustomerBytes per customer: a few small
// customers followed by a large value of another key must not reserve room for
// millions. The room reserved beyond the customers actually read is thus at
// most sizeof(Customer)/minCustomerBytes (4.5) times the rest of the body.
func (d *decoder) growCustomers(out []Customer, first int) []Customer {
	n := len(out)
	want := 1
	if n > 0 {
		per := max((d.pos-first)/n, minCustomerBytes)
		est := (len(d.buf) - d.pos) / per
		want = n + max(est+est/32+2, n/4+1)
		if d.lim.MaxCustomers > 0 {
			want = min(want, d.lim.MaxCustomers)
		}
	}
	return append(make([]Customer, 0, want), out...)
}

// minCustomerBytes is the fewest bytes per customer growCustomers assumes; a
// realistic customer takes hundreds.
const minCustomerBytes = 64

func (d *decoder) relationList(dst *[]Relation, name string) {
	if !arrayStart(d, dst, name) {
		return
	}
	out := []Relation{}
	d.objects(name, func(i int) {
		if d.lim.MaxRelations > 0 && i >= d.lim.MaxRelations {
			d.overLimit(LimitRelations, d.lim.MaxRelations, strconv.Itoa(i))
		}
		out = grow1(out)
		d.path = append(d.path, pathToken{idx: i})
		d.relation(&out[len(out)-1])
		d.path = d.path[:len(d.path)-1]
	})
	*dst = out
}

// extra reads the value of an undefined key into *m (Customer.Extra,
// Variation.Extra or Relation.Extra), making the map on first use.
func (d *decoder) extra(m *map[string]any, key []byte) {
	k := string(key)
	d.checkKey(k, *m)
	d.path = append(d.path, pathToken{key: k})
	v := d.anyValue()
	d.path = d.path[:len(d.path)-1]
	if *m == nil {
		*m = map[string]any{}
	}
	(*m)[k] = v
}

func (d *decoder) variationList(dst *[]Variation, name string) {
	if !arrayStart(d, dst, name) {
		return
	}
	if cap(d.vars)-len(d.vars) < 4 {
		d.vars = make([]Variation, 0, d.slabCap(256, 4, 256))
	}
	start := len(d.vars)
	d.objects(name, func(i int) {
		if d.lim.MaxVariations > 0 && i >= d.lim.MaxVariations {
			d.overLimit(LimitVariations, d.lim.MaxVariations, strconv.Itoa(i))
		}
		if d.nVars++; d.lim.MaxAllVariations > 0 && d.nVars > d.lim.MaxAllVariations {
			d.overLimit(LimitAllVariations, d.lim.MaxAllVariations, strconv.Itoa(i))
		}
		d.vars = grow1(d.vars)
		d.path = append(d.path, pathToken{idx: i})
		d.variation(&d.vars[len(d.vars)-1])
		d.path = d.path[:len(d.path)-1]
	})
	*dst = d.vars[start:len(d.vars):len(d.vars)]
}
