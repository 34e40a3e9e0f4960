package mockserver

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/algoreg-kit/algoreg-kit/rules"
)

// The MemStore keeps every customer as one compact byte record instead of a
// Customer struct: a struct of strings, slices and maps is about a dozen
// pointers per customer for the garbage collector to trace on every cycle,
// and a million stored customers made GC the mock's main cost under load. A
// record holds no pointer at all, so the collector never looks inside.
//
// Layout (varint = encoding/binary's signed varint, uvarint its unsigned one;
// a string is a uvarint length and its bytes; a list is a uvarint that is 0
// for nil and n+1 for n items, then the items):
//
//	string  external_id (first, so that an index lookup can compare it cheaply)
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

// decodeRelation returns the relation of rec; its strings share one private
// copy of rec, as decodeCustomer's do.
func decodeRelation(rec []byte) (rules.Relation, error) {
	r := recordReader{buf: rec, text: string(rec)}
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
// without copying them: they alias rec, compare them (string(parent) == id
// does not allocate), do not keep them.
func relationEnds(rec []byte) (parent, child []byte) {
	r := recordReader{buf: rec}
	r.bytes(r.uvarint())
	parent = r.bytes(r.uvarint())
	child = r.bytes(r.uvarint())
	return parent, child
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

// recordID returns the external_id of a record without copying it. The
// result aliases rec: compare it (string(recordID(rec)) == id does not
// allocate), do not keep it.
func recordID(rec []byte) []byte {
	n, w := binary.Uvarint(rec)
	if w <= 0 || uint64(len(rec)-w) < n {
		return nil
	}
	return rec[w : w+int(n)]
}

var errCorruptRecord = errors.New("mockserver: corrupt store record")

// decodeCustomer returns the customer of rec. The strings of the result are
// substrings of one copy of rec as a string, made here, so that a decode costs
// one allocation for all its strings and the result stays valid whatever
// later happens to rec.
func decodeCustomer(rec []byte) (rules.Customer, error) {
	r := recordReader{buf: rec, text: string(rec)}
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
// which every read returns a zero value. text, when set, is string(buf): str
// returns substrings of it, which share its bytes and not buf's.
type recordReader struct {
	buf  []byte
	text string
	pos  int
	bad  bool
}

func (r *recordReader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	n, w := binary.Uvarint(r.buf[r.pos:])
	if w <= 0 {
		r.bad = true
		return 0
	}
	r.pos += w
	return n
}

func (r *recordReader) varint() int64 {
	if r.bad {
		return 0
	}
	n, w := binary.Varint(r.buf[r.pos:])
	if w <= 0 {
		r.bad = true
		return 0
	}
	r.pos += w
	return n
}

func (r *recordReader) byte() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *recordReader) bytes(n uint64) []byte {
	if r.bad || uint64(len(r.buf)-r.pos) < n {
		r.bad = true
		return nil
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b
}

// str reads a string; r.text must be set.
func (r *recordReader) str() string {
	n := len(r.bytes(r.uvarint()))
	return r.text[r.pos-n : r.pos]
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
		if b := r.bytes(8); b != nil {
			return math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		return nil
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
