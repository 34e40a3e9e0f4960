package main

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// requestRoot is the schema DecodeSaveCustomers reads. It and the object
// schemas reachable from it (its "request tree") get a generated decoder and
// a generated fixtures encoder, and their Go fields are in property-name
// order: that is the order in which encoding/json and fixtures write them,
// the wire order of every body the toolkit sends.
const requestRoot = "SaveCustomersRequest"

// overrides are the Go names and types that the naming rules below do not
// give, keyed "Schema.property".
var overrides = map[string]struct{ name, typ string }{
	"Message.error":                {name: "Code"},  // Message.Code, the machine code
	"Problem.status":               {typ: "int"},    // an HTTP status, as net/http has it
	"SaveCustomersResponse.status": {typ: "Status"}, // the typed batch status of model.go
}

// initialisms are the words written upper case in Go names.
var initialisms = map[string]string{"id": "ID", "ids": "IDs", "kyc": "KYC", "url": "URL", "uuid": "UUID", "api": "API", "http": "HTTP", "json": "JSON"}

// kind is how the decoder reads a field and the fixtures encoder writes it.
type kind int

const (
	kindString     kind = iota // *string
	kindBool                   // *bool
	kindInt                    // *int64
	kindStrings                // []string
	kindStringList             // StringList
	kindMap                    // map[string]any
	kindList                   // []T, T an object schema of the request tree
	kindOther                  // outside the request tree: not decoded here
)

type goStruct struct {
	Name    string
	Doc     string
	Fields  []goField
	Request bool // in the request tree: decoded and encoded by generated code
	Extra   bool // a record of the request tree: keeps undefined keys in Extra
}

type goField struct {
	Prop string // the property name, the JSON key
	Name string // the Go field name
	Type string // the Go type
	Kind kind
	Elem string // the item schema of a kindList
	Omit bool   // omitempty
	Doc  string
}

// buildModel maps every object schema of doc to a Go struct, in the
// document's order.
func buildModel(doc *document) ([]goStruct, error) {
	schemas := doc.Components.Schemas
	request, err := requestTree(doc)
	if err != nil {
		return nil, err
	}
	var out []goStruct
	for _, e := range schemas {
		if !e.Value.isObject() {
			continue // StringList, a oneOf: hand-written in model.go
		}
		st := goStruct{Name: e.Key, Doc: typeDoc(e.Key, e.Value.Description), Request: request[e.Key]}
		st.Extra = st.Request && e.Key != requestRoot && e.Value.keepsExtra()
		for _, p := range e.Value.Properties {
			f, err := buildField(doc, e.Key, e.Value, p.Key, p.Value, st.Request)
			if err != nil {
				return nil, fmt.Errorf("schema %s, property %s: %w", e.Key, p.Key, err)
			}
			st.Fields = append(st.Fields, f)
		}
		if st.Request {
			sort.Slice(st.Fields, func(i, j int) bool { return st.Fields[i].Prop < st.Fields[j].Prop })
			if len(st.Fields) > 32 {
				return nil, fmt.Errorf("schema %s has %d properties; the decoder's seen tracks 32 (widen it in decode.go)", e.Key, len(st.Fields))
			}
		}
		out = append(out, st)
	}
	for key := range overrides {
		owner, prop, _ := strings.Cut(key, ".")
		if s, ok := schemas.get(owner); !ok || !hasProperty(s, prop) {
			return nil, fmt.Errorf("the override %s names no property of the document", key)
		}
	}
	return out, nil
}

func hasProperty(s *schema, prop string) bool {
	_, ok := s.Properties.get(prop)
	return ok
}

// requestTree returns the object schemas reachable from requestRoot.
func requestTree(doc *document) (map[string]bool, error) {
	tree := map[string]bool{}
	var walk func(name string) error
	walk = func(name string) error {
		s, ok := doc.Components.Schemas.get(name)
		if !ok {
			return fmt.Errorf("schema %s is not in the document", name)
		}
		if tree[name] || !s.isObject() {
			return nil
		}
		tree[name] = true
		for _, p := range s.Properties {
			for v := p.Value; v != nil; v = v.Items {
				if v.Ref != "" {
					ref, err := refName(v.Ref)
					if err != nil {
						return err
					}
					if err := walk(ref); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return tree, walk(requestRoot)
}

func buildField(doc *document, owner string, parent *schema, prop string, s *schema, request bool) (goField, error) {
	required := parent.required(prop)
	f := goField{Prop: prop, Name: goName(prop), Omit: !required, Doc: firstParagraph(s.Description)}
	if f.Doc == "" && s.Ref != "" { // a shared schema (StringList): its description
		if name, err := refName(s.Ref); err == nil {
			if target, ok := doc.Components.Schemas.get(name); ok {
				f.Doc = firstParagraph(target.Description)
			}
		}
	}
	typ, k, elem, err := goType(doc, s, required)
	if err != nil {
		return f, err
	}
	f.Type, f.Kind, f.Elem = typ, k, elem
	if o, ok := overrides[owner+"."+prop]; ok {
		if o.name != "" {
			f.Name = o.name
		}
		if o.typ != "" {
			f.Type = o.typ
		}
	}
	if request {
		switch {
		case required:
			return f, fmt.Errorf("required: the decoder knows no required property")
		case !s.Nullable && s.Ref == "":
			return f, fmt.Errorf("not nullable: the decoder reads every null as absent")
		case f.Kind == kindOther:
			return f, fmt.Errorf("type %s has no decoder (see kind in internal/gen)", f.Type)
		}
	} else {
		f.Kind = kindOther
	}
	return f, nil
}

// goType returns the Go type of a property and how it is decoded. Optional
// scalars are pointers in the request tree (absent differs from zero),
// optional strings elsewhere are plain (omitempty drops ""), optional numbers
// and booleans pointers.
func goType(doc *document, s *schema, required bool) (string, kind, string, error) {
	if s.Ref != "" {
		name, err := refName(s.Ref)
		if err != nil {
			return "", 0, "", err
		}
		target, ok := doc.Components.Schemas.get(name)
		switch {
		case !ok:
			return "", 0, "", fmt.Errorf("%s is not in the document", s.Ref)
		case name == "StringList":
			return "StringList", kindStringList, "", nil
		case target.isObject():
			// Outside the request tree only: there, kindOther has no decoder.
			return ptr(required) + name, kindOther, "", nil
		}
		return "", 0, "", fmt.Errorf("%s: a Go type for it must be hand-written in model.go first", s.Ref)
	}
	ptr := ptr(required)
	switch {
	case s.Type == "string" && s.Format == "date-time":
		if !required {
			return "", 0, "", fmt.Errorf("an optional date-time has no Go type here (make it required)")
		}
		return "time.Time", kindOther, "", nil
	case s.Type == "string" && !s.Nullable && !required:
		return "string", kindOther, "", nil
	case s.Type == "string":
		return ptr + "string", kindString, "", nil
	case s.Type == "boolean":
		return ptr + "bool", kindBool, "", nil
	case s.Type == "integer":
		return ptr + "int64", kindInt, "", nil
	case s.Type == "number":
		return ptr + "float64", kindOther, "", nil
	case s.isFreeMap():
		return "map[string]any", kindMap, "", nil
	case s.Type == "array" && s.Items != nil && s.Items.Type == "string" && s.Items.Format == "":
		return "[]string", kindStrings, "", nil
	case s.Type == "array" && s.Items != nil && s.Items.Ref != "":
		name, err := refName(s.Items.Ref)
		if err != nil {
			return "", 0, "", err
		}
		if target, ok := doc.Components.Schemas.get(name); !ok || !target.isObject() {
			return "", 0, "", fmt.Errorf("items %s: only arrays of object schemas are supported", s.Items.Ref)
		}
		return "[]" + name, kindList, name, nil
	}
	return "", 0, "", fmt.Errorf("type %q (format %q) has no Go type in internal/gen", s.Type, s.Format)
}

// ptr is the pointer of an optional property's Go type.
func ptr(required bool) string {
	if required {
		return ""
	}
	return "*"
}

// goName turns a property name into a Go field name: account_type is
// AccountType, alias_ids AliasIDs, _op Op.
func goName(prop string) string {
	var b strings.Builder
	for _, w := range strings.Split(prop, "_") {
		if w == "" {
			continue
		}
		if up, ok := initialisms[w]; ok {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// firstParagraph returns the first paragraph of a description on one line.
// A paragraph that ends with a colon (it introduces a table or a list) loses
// that last sentence.
func firstParagraph(desc string) string {
	para, _, _ := strings.Cut(strings.TrimSpace(desc), "\n\n")
	para = strings.Join(strings.Fields(para), " ")
	if strings.HasSuffix(para, ":") {
		if i := strings.LastIndex(para, ". "); i >= 0 {
			para = para[:i+1]
		}
	}
	return para
}

// typeDoc returns the doc comment of a type: "Name is " and its schema's
// description, the first letter lowered unless the first word is an
// acronym (OAuth2).
func typeDoc(name, desc string) string {
	para := firstParagraph(desc)
	if para == "" {
		return name + " is the schema " + name + " of openapi.yaml."
	}
	first, _, _ := strings.Cut(para, " ")
	acronym := false
	for _, r := range first[1:] {
		if unicode.IsUpper(r) || unicode.IsDigit(r) {
			acronym = true
		}
	}
	if !acronym {
		para = strings.ToLower(para[:1]) + para[1:]
	}
	return name + " is " + para
}
