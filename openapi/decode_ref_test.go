package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The reference decoder of the differential tests: encoding/json into a generic
// value, kin-openapi's own schema walk over the document's SaveCustomersRequest
// schema, then a plain walk of the generic value into the model. It is slow and
// obviously faithful to the document; DecodeSaveCustomers must agree with it.

var (
	requestSchemaOnce sync.Once
	requestSchema     *openapi3.Schema
	requestSchemaErr  error
)

// decodeReference decodes body the slow, obviously equal way: encoding/json into
// a generic value, kin-openapi's schema validation, then a walk of the value.
func decodeReference(body []byte) (*SaveCustomersRequest, error) {
	if len(body) == 0 {
		return nil, &ValidationError{Kind: "request", Violations: []Violation{{Pointer: "", Message: "value is required but missing"}}}
	}
	var generic any
	if err := json.Unmarshal(body, &generic); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &SyntaxError{Offset: se.Offset, Msg: se.Error()}
		}
		// Only number range errors are left: decode again with UseNumber below.
	}
	generic = nil
	if err := unmarshalUseNumber(body, &generic); err != nil {
		return nil, &SyntaxError{Offset: int64(len(body)), Msg: err.Error()}
	}
	requestSchemaOnce.Do(func() {
		doc, err := Load(context.Background())
		if err != nil {
			requestSchemaErr = err
			return
		}
		requestSchema = doc.Components.Schemas["SaveCustomersRequest"].Value
	})
	if requestSchemaErr != nil {
		return nil, requestSchemaErr
	}
	if err := requestSchema.VisitJSON(generic, openapi3.MultiErrors(), openapi3.VisitAsRequest()); err != nil {
		return nil, newValidationError("request", err)
	}
	top := generic.(map[string]any)
	req := &SaveCustomersRequest{}
	if v, ok := top["customers"].([]any); ok {
		req.Customers = make([]Customer, len(v))
		for i, c := range v {
			req.Customers[i] = refCustomer(c.(map[string]any))
		}
	}
	if v, ok := top["relations"].([]any); ok {
		req.Relations = make([]Relation, len(v))
		for i, r := range v {
			req.Relations[i] = refRelation(r.(map[string]any))
		}
	}
	req.DisableRiskScan = refBool(top["disable_risk_scan"])
	req.VerifyInput = refBool(top["verify_input"])
	return req, nil
}

func unmarshalUseNumber(body []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	return d.Decode(v)
}

func refCustomer(m map[string]any) Customer {
	var c Customer
	for k, v := range m {
		switch k {
		case "account_type":
			c.AccountType = refString(v)
		case "alias_ids":
			c.AliasIDs = refStrings(v)
		case "comment":
			c.Comment = refString(v)
		case "company_name":
			c.CompanyName = refString(v)
		case "contacts":
			c.Contacts = refStringList(v)
		case "date_of_birth":
			c.DateOfBirth = refString(v)
		case "disabled":
			c.Disabled = refBool(v)
		case "domicile_code":
			c.DomicileCode = refString(v)
		case "domicile_codes":
			c.DomicileCodes = refStrings(v)
		case "external_id":
			c.ExternalID = refString(v)
		case "fields":
			c.Fields = refObject(v)
		case "first_name":
			c.FirstName = refString(v)
		case "kyc_level":
			c.KYCLevel = refInt(v)
		case "kyc_level_requested":
			c.KYCLevelRequested = refInt(v)
		case "last_name":
			c.LastName = refString(v)
		case "middle_name":
			c.MiddleName = refString(v)
		case "nationality_code":
			c.NationalityCode = refString(v)
		case "nationality_codes":
			c.NationalityCodes = refStrings(v)
		case "phone":
			c.Phone = refString(v)
		case "registration_number":
			c.RegistrationNumber = refString(v)
		case "review_groups":
			c.ReviewGroups = refStringList(v)
		case "trading_name":
			c.TradingName = refString(v)
		case "variations":
			if vs, ok := v.([]any); ok {
				c.Variations = make([]Variation, len(vs))
				for i, x := range vs {
					c.Variations[i] = refVariation(x.(map[string]any))
				}
			}
		default:
			refExtra(&c.Extra, k, v)
		}
	}
	return c
}

// refExtra stores an undefined key's value, making the map on first use.
func refExtra(m *map[string]any, k string, v any) {
	if *m == nil {
		*m = map[string]any{}
	}
	(*m)[k] = refAny(v)
}

func refVariation(m map[string]any) Variation {
	var v Variation
	for k, x := range m {
		switch k {
		case "_op":
			v.Op = refString(x)
		case "company_name":
			v.CompanyName = refString(x)
		case "first_name":
			v.FirstName = refString(x)
		case "last_name":
			v.LastName = refString(x)
		case "middle_name":
			v.MiddleName = refString(x)
		case "trading_name":
			v.TradingName = refString(x)
		default:
			refExtra(&v.Extra, k, x)
		}
	}
	return v
}

func refRelation(m map[string]any) Relation {
	var r Relation
	for k, v := range m {
		switch k {
		case "child_customer_external_id":
			r.ChildCustomerExternalID = refString(v)
		case "disabled":
			r.Disabled = refBool(v)
		case "fields":
			r.Fields = refObject(v)
		case "parent_customer_external_id":
			r.ParentCustomerExternalID = refString(v)
		case "relation_external_id":
			r.RelationExternalID = refString(v)
		case "relation_type":
			r.RelationType = refInt(v)
		default:
			refExtra(&r.Extra, k, v)
		}
	}
	return r
}

func refString(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

func refBool(v any) *bool {
	if b, ok := v.(bool); ok {
		return &b
	}
	return nil
}

func refStrings(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = x.(string)
	}
	return out
}

func refStringList(v any) StringList {
	switch v := v.(type) {
	case string:
		return SplitStringList(v)
	case []any:
		out := StringList{}
		for _, x := range v {
			if s := strings.TrimSpace(x.(string)); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func refObject(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return refAny(m).(map[string]any)
}

// refInt converts a validated integer, saturating at the int64 range.
func refInt(v any) *int64 {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	var i int64
	if bi, ok := new(big.Int).SetString(string(n), 10); ok {
		switch {
		case bi.IsInt64():
			i = bi.Int64()
		case bi.Sign() > 0:
			i = math.MaxInt64
		default:
			i = math.MinInt64
		}
	} else {
		f, _ := strconv.ParseFloat(string(n), 64)
		switch {
		case f >= math.MaxInt64:
			i = math.MaxInt64
		case f <= math.MinInt64:
			i = math.MinInt64
		default:
			i = int64(f)
		}
	}
	return &i
}

// refAny turns json.Number into float64 (or keeps it when out of float64's range).
func refAny(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return v
		}
		return f
	case []any:
		for i := range v {
			v[i] = refAny(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = refAny(v[k])
		}
		return v
	}
	return v
}
