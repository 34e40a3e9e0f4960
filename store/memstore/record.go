package memstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// The store keeps every customer and relation as one compact record: a Go
// string (immutable, on the Go heap) instead of a struct of strings, slices
// and maps. A record is one object without pointers, so the garbage collector
// marks it without scanning it, and a customer costs about 200 bytes instead
// of a struct's 900 (see doc.go for the figures). A record is never changed
// once made: a replaced record is a new string, and what a reader decoded
// from the old one (its strings are substrings of it) stays valid for as long
// as the reader keeps it.
//
// Layout (varint = encoding/binary's signed varint, uvarint its unsigned one;
// a string is a uvarint length and its bytes; a list is a uvarint that is 0
// for nil and n+1 for n items, then the items):
//
//	string  external_id (first, so that the index can read it cheaply)
//	byte    flags (recHasKYC, ...)
//	uvarint the number of items of the five string lists below
//	[16]    customer_id
//	varint  created_at, updated_at − created_at, kyc_level, kyc_level_requested
//	string  × each of customerStrings
//	list    × each of customerLists, of strings
//	list    of fields: key string, then one value (see appendValue)
//	list    of variations: five strings each
//
// The records live only as long as the process, so a change of layout needs
// no migration: a new string field of rules.Customer is one more entry in
// customerStrings (a new list, in customerLists), which both appendCustomer
// and decodeCustomer read. TestRecordKeepsEveryField fails for a field of
// rules.Customer that the record loses.
const (
	recHasKYC = 1 << iota
	recHasKYCRequested
	recHasDisabled
	recDisabled
	recRiskScanDisabled
)

// appendCustomer appends the record of c to dst.
func appendCustomer(dst []byte, c *rules.Customer) ([]byte, error) {
	dst = appendString(dst, c.ExternalID)
	var flags byte
	for _, f := range [...]struct {
		on  bool
		bit byte
	}{
		{c.HasKYCLevel, recHasKYC}, {c.HasKYCRequested, recHasKYCRequested}, {c.HasDisabled, recHasDisabled},
		{c.Disabled, recDisabled}, {c.RiskScanDisabled, recRiskScanDisabled},
	} {
		if f.on {
			flags |= f.bit
		}
	}
	dst = append(dst, flags)
	lists := customerLists(c)
	items := 0
	for _, l := range lists {
		items += len(*l)
	}
	dst = binary.AppendUvarint(dst, uint64(items))
	dst = append(dst, c.CustomerID[:]...)
	dst = binary.AppendVarint(dst, c.CreatedAt)
	dst = binary.AppendVarint(dst, c.UpdatedAt-c.CreatedAt)
	dst = binary.AppendVarint(dst, c.KYCLevel)
	dst = binary.AppendVarint(dst, c.KYCLevelRequested)
	for _, s := range customerStrings(c) {
		dst = appendString(dst, *s)
	}
	for _, l := range lists {
		dst = appendListLen(dst, *l == nil, len(*l))
		for _, s := range *l {
			dst = appendString(dst, s)
		}
	}
	dst, err := appendFields(dst, c.Fields)
	if err != nil {
		return nil, err
	}
	dst = appendListLen(dst, c.Variations == nil, len(c.Variations))
	for _, v := range c.Variations {
		for _, s := range [...]string{v.FirstName, v.MiddleName, v.LastName, v.CompanyName, v.TradingName} {
			dst = appendString(dst, s)
		}
	}
	return dst, nil
}

// customerStrings are the string fields of c that a record holds, in record
// order (external_id, written first, apart).
func customerStrings(c *rules.Customer) []*string {
	return []*string{&c.AccountType, &c.FirstName, &c.MiddleName, &c.LastName, &c.CompanyName,
		&c.TradingName, &c.RegistrationNumber, &c.DateOfBirth, &c.Phone, &c.Comment}
}

// customerLists are the string-list fields of c that a record holds, in
// record order.
func customerLists(c *rules.Customer) []*[]string {
	return []*[]string{&c.NationalityCodes, &c.DomicileCodes, &c.ReviewGroups, &c.Contacts, &c.AliasIDs}
}

// A relation record:
//
//	string  relation_external_id, parent and child external_id
//	byte    flags (relDisabled)
//	varint  relation_type, created_at, updated_at − created_at
//	list    of fields, as in a customer record
const relDisabled = 1

// appendRelation appends the record of r to dst.
func appendRelation(dst []byte, r *rules.Relation) ([]byte, error) {
	dst = appendString(dst, r.RelationExternalID)
	dst = appendString(dst, r.ParentExternalID)
	dst = appendString(dst, r.ChildExternalID)
	var flags byte
	if r.Disabled {
		flags |= relDisabled
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, r.RelationType)
	dst = binary.AppendVarint(dst, r.CreatedAt)
	dst = binary.AppendVarint(dst, r.UpdatedAt-r.CreatedAt)
	return appendFields(dst, r.Fields)
}

// decodeRelation returns the relation of rec; its strings are substrings of
// rec, as decodeCustomer's are.
func decodeRelation(rec string) (rules.Relation, error) {
	r := recordReader{buf: rec}
	var rel rules.Relation
	rel.RelationExternalID = r.str()
	rel.ParentExternalID = r.str()
	rel.ChildExternalID = r.str()
	rel.Disabled = r.byte()&relDisabled != 0
	rel.RelationType = r.varint()
	rel.CreatedAt = r.varint()
	rel.UpdatedAt = rel.CreatedAt + r.varint()
	rel.Fields = r.fields()
	if r.bad || r.pos != len(r.buf) {
		return rules.Relation{}, errCorruptRecord
	}
	return rel, nil
}

// relationEnds returns the parent and child external_id of a relation record
// without decoding the rest (they are substrings of rec).
func relationEnds(rec string) (parent, child string) {
	r := recordReader{buf: rec}
	r.str()
	return r.str(), r.str()
}

func appendFields(dst []byte, fields []rules.Field) ([]byte, error) {
	dst = appendListLen(dst, fields == nil, len(fields))
	for _, f := range fields {
		dst = appendString(dst, f.Key)
		var err error
		if dst, err = appendValue(dst, f.Value); err != nil {
			return nil, fmt.Errorf("fields.%s: %w", f.Key, err)
		}
	}
	return dst, nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendListLen(dst []byte, isNil bool, n int) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

// The value tags of custom fields: the types the request decoders give a
// JSON value decoded into any.
const (
	valNull byte = iota
	valFalse
	valTrue
	valInt    // a float64 holding a whole number, as a varint
	valFloat  // any other float64, as its 8 IEEE-754 bytes
	valString // string
	valNumber // json.Number (a number beyond float64), as its literal
	valArray  // []any: uvarint count, values
	valObject // map[string]any: uvarint count, key strings and values
)

// appendValue appends one custom-field value: the types a JSON decoder puts
// in an any are stored as they are, any other Go value as its JSON. It fails
// only for a value without a JSON form (a channel, a function, a complex
// number).
func appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, valNull), nil
	case bool:
		if v {
			return append(dst, valTrue), nil
		}
		return append(dst, valFalse), nil
	case float64:
		// −0 must stay −0, so it takes the float form.
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 && !(v == 0 && math.Signbit(v)) {
			return binary.AppendVarint(append(dst, valInt), int64(v)), nil
		}
		return binary.LittleEndian.AppendUint64(append(dst, valFloat), math.Float64bits(v)), nil
	case string:
		return appendString(append(dst, valString), v), nil
	case json.Number:
		return appendString(append(dst, valNumber), string(v)), nil
	case []any:
		dst = binary.AppendUvarint(append(dst, valArray), uint64(len(v)))
		for _, item := range v {
			var err error
			if dst, err = appendValue(dst, item); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case map[string]any:
		dst = binary.AppendUvarint(append(dst, valObject), uint64(len(v)))
		for k, item := range v {
			dst = appendString(dst, k)
			var err error
			if dst, err = appendValue(dst, item); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	// A value a Go caller built (Server.Save takes any value in fields): keep
	// what its JSON says, as if it had come over HTTP, numbers exactly
	// (json.Number).
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("a custom-field value of Go type %T has no JSON form: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("a custom-field value of Go type %T: %w", v, err)
	}
	return appendValue(dst, generic)
}

// recordID returns the id (external_id, relation_external_id) a record
// starts with, a substring of rec.
func recordID(rec string) string {
	r := recordReader{buf: rec}
	return r.str()
}

var errCorruptRecord = errors.New("memstore: corrupt store record")

// decodeCustomer returns the customer of rec. The strings of the result are
// substrings of rec, so that a decode copies no string, and the result stays
// valid however long it is kept (it keeps rec alive, not the store's index).
func decodeCustomer(rec string) (rules.Customer, error) {
	r := recordReader{buf: rec}
	var c rules.Customer
	c.ExternalID = r.str()
	flags := r.byte()
	c.HasKYCLevel = flags&recHasKYC != 0
	c.HasKYCRequested = flags&recHasKYCRequested != 0
	c.HasDisabled = flags&recHasDisabled != 0
	c.Disabled = flags&recDisabled != 0
	c.RiskScanDisabled = flags&recRiskScanDisabled != 0
	// The five string lists share one backing array, each capped at its own
	// length, so that they cost one allocation.
	items := r.uvarint()
	if items > uint64(len(r.buf)-r.pos) {
		return rules.Customer{}, errCorruptRecord
	}
	arena := make([]string, items)
	copy(c.CustomerID[:], r.bytes(16))
	c.CreatedAt = r.varint()
	c.UpdatedAt = c.CreatedAt + r.varint()
	c.KYCLevel = r.varint()
	c.KYCLevelRequested = r.varint()
	for _, dst := range customerStrings(&c) {
		*dst = r.str()
	}
	for _, dst := range customerLists(&c) {
		if n, ok := r.listLen(); ok {
			if n > len(arena) {
				return rules.Customer{}, errCorruptRecord
			}
			l := arena[:n:n]
			arena = arena[n:]
			for i := range l {
				l[i] = r.str()
			}
			*dst = l
		}
	}
	c.Fields = r.fields()
	if n, ok := r.listLen(); ok {
		c.Variations = make([]rules.Variation, n)
		for i := range c.Variations {
			v := &c.Variations[i]
			for _, dst := range [...]*string{&v.FirstName, &v.MiddleName, &v.LastName, &v.CompanyName, &v.TradingName} {
				*dst = r.str()
			}
		}
	}
	if r.bad || r.pos != len(r.buf) || len(arena) != 0 {
		return rules.Customer{}, errCorruptRecord
	}
	return c, nil
}

// recordReader reads a record; bad is set by the first malformed read, after
// which every read returns a zero value. The varints are read from the string
// by hand: encoding/binary reads them from a []byte only, and a []byte of
// the record would be a copy.
type recordReader struct {
	buf string
	pos int
	bad bool
}

func (r *recordReader) uvarint() uint64 {
	if !r.bad && r.pos < len(r.buf) && r.buf[r.pos] < 0x80 { // one byte: most lengths and flags
		r.pos++
		return uint64(r.buf[r.pos-1])
	}
	var x uint64
	for shift := uint(0); !r.bad; shift += 7 {
		if r.pos >= len(r.buf) {
			r.bad = true
			break
		}
		b := r.buf[r.pos]
		r.pos++
		if shift == 63 && b > 1 {
			r.bad = true // overflows 64 bits, as binary.Uvarint refuses
			break
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x
		}
	}
	return 0
}

// varint reads the zig-zag encoding of binary.AppendVarint.
func (r *recordReader) varint() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (r *recordReader) byte() byte {
	if b := r.bytes(1); b != "" {
		return b[0]
	}
	return 0
}

// bytes reads the next n bytes ("" once bad).
func (r *recordReader) bytes(n uint64) string {
	if r.bad || uint64(len(r.buf)-r.pos) < n {
		r.bad = true
		return ""
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b
}

// str reads a string, a substring of the record.
func (r *recordReader) str() string {
	if p := r.pos; p < len(r.buf) { // a length of one byte, most strings
		if n := int(r.buf[p]); n < 0x80 && p+1+n <= len(r.buf) && !r.bad {
			r.pos = p + 1 + n
			return r.buf[p+1 : p+1+n]
		}
	}
	return r.bytes(r.uvarint())
}

// listLen reads a list's length; ok is false for a nil list. A length that
// cannot fit in what is left of the record marks it bad, so a corrupt length
// never becomes a huge allocation.
func (r *recordReader) listLen() (int, bool) {
	n := r.uvarint()
	if n == 0 || r.bad {
		return 0, false
	}
	if n-1 > uint64(len(r.buf)-r.pos) {
		r.bad = true
		return 0, false
	}
	return int(n - 1), true
}

func (r *recordReader) fields() []rules.Field {
	n, ok := r.listLen()
	if !ok {
		return nil
	}
	fields := make([]rules.Field, n)
	for i := range fields {
		fields[i] = rules.Field{Key: r.str(), Value: r.value(0)}
	}
	return fields
}

// maxValueDepth bounds the nesting of a stored value. The request decoders
// already bound it far lower; this only keeps a corrupt record from recursing
// without end.
const maxValueDepth = 10000

func (r *recordReader) value(depth int) any {
	if depth > maxValueDepth {
		r.bad = true
	}
	switch tag := r.byte(); {
	case r.bad:
		return nil
	case tag == valNull:
		return nil
	case tag == valFalse:
		return false
	case tag == valTrue:
		return true
	case tag == valInt:
		return float64(r.varint())
	case tag == valFloat:
		var bits uint64
		b := r.bytes(8)
		for i := range len(b) {
			bits |= uint64(b[i]) << (8 * i)
		}
		if r.bad {
			return nil
		}
		return math.Float64frombits(bits)
	case tag == valString:
		return r.str()
	case tag == valNumber:
		return json.Number(r.str())
	case tag == valArray:
		n := r.uvarint()
		if n > uint64(len(r.buf)-r.pos) {
			r.bad = true
			return nil
		}
		out := make([]any, n)
		for i := range out {
			out[i] = r.value(depth + 1)
		}
		return out
	case tag == valObject:
		n := r.uvarint()
		if n > uint64(len(r.buf)-r.pos) {
			r.bad = true
			return nil
		}
		out := make(map[string]any, n)
		for range n {
			k := r.str()
			out[k] = r.value(depth + 1)
		}
		return out
	default:
		r.bad = true
		return nil
	}
}
