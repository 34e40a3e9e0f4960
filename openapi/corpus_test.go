package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The differential corpus: valid bodies, and every single mutation of them at
// every level (each value replaced by values of every JSON type and by hostile
// ones, keys repeated, escaped, re-cased or unknown, and bytes cut, flipped or
// inserted). Every body goes through checkDecode.

// jnode is a JSON value kept as text, so that mutations can write what
// encoding/json would never produce (repeated keys, escaped keys, bad bytes).
type jnode struct {
	raw  string   // a scalar's text; "" for arrays and objects
	obj  bool     // an object (keys holds the quoted keys)
	arr  bool     // an array
	keys []string // quoted keys, parallel to kids
	kids []*jnode
}

func parseJNode(tb testing.TB, body []byte) *jnode {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var read func() *jnode
	read = func() *jnode {
		tok, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		switch tok := tok.(type) {
		case json.Delim:
			n := &jnode{obj: tok == '{', arr: tok == '['}
			for dec.More() {
				if n.obj {
					k, err := dec.Token()
					if err != nil {
						tb.Fatal(err)
					}
					q, _ := json.Marshal(k)
					n.keys = append(n.keys, string(q))
				}
				n.kids = append(n.kids, read())
			}
			if _, err := dec.Token(); err != nil {
				tb.Fatal(err)
			}
			return n
		case json.Number:
			return &jnode{raw: tok.String()}
		default:
			b, _ := json.Marshal(tok)
			return &jnode{raw: string(b)}
		}
	}
	return read()
}

func (n *jnode) write(b *strings.Builder) {
	switch {
	case n.obj:
		b.WriteByte('{')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n.keys[i])
			b.WriteByte(':')
			k.write(b)
		}
		b.WriteByte('}')
	case n.arr:
		b.WriteByte('[')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			k.write(b)
		}
		b.WriteByte(']')
	default:
		b.WriteString(n.raw)
	}
}

func (n *jnode) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

// mutants calls emit with the body once for each node of root replaced by
// each of the replacement texts, and for each object with each key mutation.
func mutants(root *jnode, replacements []string, emit func(string)) {
	top := []*jnode{root}
	body := func() string { return top[0].String() }
	var walk func(n *jnode, set func(*jnode))
	walk = func(n *jnode, set func(*jnode)) {
		for _, r := range replacements {
			set(&jnode{raw: r})
			emit(body())
		}
		set(n)
		if n.obj {
			for i := range n.kids {
				key, kid := n.keys[i], n.kids[i]
				name := key[1 : len(key)-1]
				for _, r := range []string{"null", `"x"`, "7", "[1]", "{}"} {
					// The key repeated after, then before, with another value.
					n.keys = append(n.keys, key)
					n.kids = append(n.kids, &jnode{raw: r})
					emit(body())
					n.keys, n.kids = n.keys[:len(n.keys)-1], n.kids[:len(n.kids)-1]
					n.keys = append([]string{key}, n.keys...)
					n.kids = append([]*jnode{{raw: r}}, n.kids...)
					emit(body())
					n.keys, n.kids = n.keys[1:], n.kids[1:]
				}
				if name != "" {
					// The key escaped (same key), upper-cased and mangled (unknown keys).
					n.keys[i] = `"\u` + fmt.Sprintf("%04x", name[0]) + name[1:] + `"`
					emit(body())
					n.keys[i] = `"` + strings.ToUpper(name) + `"`
					emit(body())
					n.keys[i] = `"` + name + "\xff\""
					emit(body())
					n.keys[i] = key
				}
				walk(kid, func(m *jnode) { n.kids[i] = m })
			}
		}
		if n.arr {
			for i := range n.kids {
				walk(n.kids[i], func(m *jnode) { n.kids[i] = m })
			}
		}
	}
	walk(root, func(m *jnode) { top[0] = m })
}

// hostileValues replace any value of a body, one at a time.
var hostileValues = []string{
	"null", "true", "false", "0", "-0", "-1", "7", "1.5", "1.0", "1e2", "-1e-400", "1e400", "-1e400",
	"99999999999999999999", "-9223372036854775809", "9223372036854775807", "1.00000000000000000001",
	`""`, `"x"`, `"a;b, c,,"`, `"\u00e9\n\ud83d\ude00 \ud800 \"\\\/"`, "\"\xff\xfe\"", `"first\u005fname"`,
	"{}", "[]", "[null]", "[1]", `["a",null]`, `["a",1]`, "[{}]", "[[]]", `{"a":[1,{"b":null,"c":1e400}]}`,
	`{"a":1,"a":"b"}`, strings.Repeat("[", 100) + strings.Repeat("]", 100),
	strings.Repeat(`{"a":`, 50) + "1" + strings.Repeat("}", 50),
}

// baseBodies are the valid bodies the corpus mutates.
func baseBodies(tb testing.TB) [][]byte {
	tb.Helper()
	bodies := [][]byte{
		[]byte(`{}`),
		[]byte(`{"customers":[{}],"relations":[{}],"verify_input":null}`),
		[]byte(`{"customers":[{"external_id":"a","contacts":"x;y","review_groups":["g"],"variations":[{"_op":"add","first_name":"A"}]}],` +
			`"relations":[{"relation_external_id":"r","parent_customer_external_id":"a","child_customer_external_id":"b","relation_type":1,"disabled":true,"fields":{"k":"v"},"note":1}],` +
			`"disable_risk_scan":true,"verify_input":false}`),
		realisticBody(tb, 7, 1),
	}
	doc := newTestValidator(tb).Doc()
	for _, name := range sortedKeys(doc.Paths.Value("/api/v1/customers/save").Post.RequestBody.Value.Content["application/json"].Examples) {
		ex := doc.Paths.Value("/api/v1/customers/save").Post.RequestBody.Value.Content["application/json"].Examples[name]
		b, err := json.Marshal(ex.Value.Value)
		if err != nil {
			tb.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	return bodies
}

// syntaxMutants calls emit with n copies of body, each cut, flipped or grown
// at one random place.
func syntaxMutants(r *rand.Rand, body []byte, n int, emit func(string)) {
	alphabet := []byte("{}[],:\"\\ \t\n0123456789-+.eEtfnulx\xff\x00")
	for range n {
		b := []byte(string(body))
		i := r.IntN(len(b) + 1)
		switch r.IntN(3) {
		case 0:
			b = b[:i]
		case 1:
			if i < len(b) {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		default:
			b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
		}
		emit(string(b))
	}
}

// TestDecodeSaveCustomersCorpus is the differential test over the corpus.
func TestDecodeSaveCustomersCorpus(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2))
	seen := map[string]bool{}
	var bodies []string
	emit := func(b string) {
		if !seen[b] {
			seen[b] = true
			bodies = append(bodies, b)
		}
	}
	for _, b := range []string{"", " ", "null", "[]", "{}"} {
		emit(b)
	}
	for _, base := range baseBodies(t) {
		emit(string(base))
		mutants(parseJNode(t, base), hostileValues, emit)
		syntaxMutants(r, base, 300, emit)
	}
	step := 1
	if raceEnabled {
		step = 8 // the race detector makes kin-openapi slow; an eighth still covers every kind
	}
	valid, std, invalid, syntax := 0, 0, 0, 0
	for i := 0; i < len(bodies); i += step {
		body := []byte(bodies[i])
		checkDecode(t, body)
		checkLimits(t, body)
		if t.Failed() {
			return
		}
		switch got, err := DecodeSaveCustomers(body); err.(type) {
		case nil:
			valid++
			if _, _, ok := stdDecode(body, got); ok {
				std++
			}
		case *SyntaxError:
			syntax++
		default:
			invalid++
		}
	}
	t.Logf("%d bodies: %d valid (%d also compared with encoding/json), %d schema violations, %d syntax errors",
		valid+invalid+syntax, valid, std, invalid, syntax)
	if valid < 100 || std < valid/3 || invalid < 1000/step || syntax < 200/step {
		t.Errorf("corpus too thin: %d valid, %d invalid, %d syntax", valid, invalid, syntax)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
