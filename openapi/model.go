package openapi

import (
	"encoding/json"
	"strings"
)

//go:generate go run ./internal/gen

// The model: one Go type per schema of openapi.yaml. The structs are generated
// from the document (model_gen.go, by go generate); this file holds what is
// written by hand: StringList (a oneOf), the JSON methods, Status.
//
// In the request model every optional field is a pointer (or a nil slice or
// map) so that "absent" and "given" differ: a save is a delta, and only the
// fields present in the request replace stored values. A JSON null decodes as
// absent. The request structs list their fields in property-name order, which
// is also the order encoding/json writes them in.

// StringList is the seed's "string or array of strings" type (review_groups,
// contacts). It decodes either form: a string is split on ';' and ',', items are
// trimmed and empty items dropped. A decoded StringList is never nil, even when
// empty, so that nil keeps meaning "absent". It encodes as an array.
type StringList []string

// SplitStringList splits s on ';' and ',', trims the items and drops empty ones.
// The result is non-nil.
func SplitStringList(s string) StringList {
	out := StringList{}
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// UnmarshalJSON accepts a string or an array of strings. A null sets l to nil
// (absent), as encoding/json does for any slice, so that the last of repeated
// keys wins as with every other field.
func (l *StringList) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*l = nil
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*l = SplitStringList(s)
		return nil
	}
	var items []string
	if err := json.Unmarshal(data, &items); err != nil {
		return err
	}
	out := make(StringList, 0, len(items))
	for _, item := range items {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	*l = out
	return nil
}

// marshalWithExtra encodes v (a record type without its MarshalJSON method, so
// with encoding/json's default encoding), then the keys of extra. The
// generated MarshalJSON methods of the records (Customer, Variation,
// Relation) call it.
func marshalWithExtra(v any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	more, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	if len(b) == 2 { // "{}"
		return more, nil
	}
	b = append(b[:len(b)-1], ',')
	return append(b, more[1:]...), nil
}

// The response model.

// Status is the outcome of a whole batch.
type Status string

// The batch statuses.
const (
	StatusOK      Status = "ok"      // no record has an error
	StatusPartial Status = "partial" // some records saved, some rejected
	StatusFailed  Status = "failed"  // records were sent and none was saved
)

// NewSaveCustomersResponse returns a response with empty (non-nil) lists: the
// document requires added and detail, so they must encode as arrays, never
// null.
func NewSaveCustomersResponse(verifyInput bool) *SaveCustomersResponse {
	return &SaveCustomersResponse{Added: []AddedCustomer{}, Detail: []RecordDetail{}, Status: StatusOK, VerifyInput: verifyInput}
}

// ProblemContentType is the media type of Problem bodies.
const ProblemContentType = "application/problem+json"

// What the mock's GET /__admin/config (ConfigPath) answers to say that it is
// an algoreg-kit mock: the header KitVersionHeader, and KitName as kit.name
// of the body, which also repeats the query's nonce (see the document).
const (
	ConfigPath       = "/__admin/config"
	KitVersionHeader = "Algoreg-Kit-Version"
	KitName          = "algoreg-kit"
)
