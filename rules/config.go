package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// RelationType is one row of the relation-type table: the child is Name of the
// parent.
type RelationType struct {
	Value int64  `json:"value"`
	Name  string `json:"name"`
}

// DefaultRelationTypes is the document's default relation-type table (the
// description of Relation.relation_type; a test keeps them equal).
var DefaultRelationTypes = []RelationType{
	{1, "director"},
	{2, "shareholder"},
	{3, "ultimate beneficial owner"},
	{4, "legal representative"},
	{5, "authorised signatory"},
	{6, "parent company (firm-to-firm ownership)"},
	{7, "trustee"},
	{8, "settlor"},
	{9, "beneficiary"},
	{10, "family member or close associate"},
}

// The defaults of Config.
const (
	DefaultKYCMin        = 0
	DefaultKYCMax        = 3
	DefaultRiskScanLimit = 100
	DefaultMaxBatch      = 10000
	DefaultMaxBody       = 16 << 20
	// The other request limits (see Config): generous enough for every
	// example of the document and every dataset of the fixtures, small enough
	// that a hostile body costs memory and an answer in proportion to its size.
	DefaultMaxRelations     = 10000
	DefaultMaxVariations    = 100
	DefaultMaxAllVariations = 50000
	DefaultMaxAllKeys       = 200000
	DefaultMaxItems         = 1000
	DefaultMaxKeys          = 256
	DefaultMaxIDLength      = 1024
	DefaultMaxStringLength  = 64 << 10
)

// Config holds what a server may configure about the per-record rules and the
// limits of one request: the one home of these settings for the mock, the
// fixtures and the contract suite. The zero
// value is not useful; start from DefaultConfig. A Config is read-only once in
// use and may then be shared between goroutines. Its JSON form (the json
// tags, the limits of RecordLimits inline) is the "rules" object of the mock's
// GET /__admin/config, which the contract suite and the fixtures read back.
type Config struct {
	// KYCMin and KYCMax bound kyc_level and kyc_level_requested (inclusive).
	KYCMin int64 `json:"kyc_min"`
	KYCMax int64 `json:"kyc_max"`
	// RelationTypes is the relation-type table.
	RelationTypes []RelationType `json:"relation_types"`
	// ReviewGroups, when not empty, is the list of known review groups; other
	// groups are stored with the warning review_group_unknown.
	ReviewGroups []string `json:"review_groups"`
	// CustomFields, when not empty, is the list of known custom fields; other
	// keys of "fields" are dropped with the warning custom_field_unknown.
	CustomFields []string `json:"custom_fields"`
	// RiskScanLimit: a request that creates or updates more customers than this
	// has disable_risk_scan forced to true.
	RiskScanLimit int `json:"risk_scan_limit"`
	// MaxBatch is the most customers one request may carry.
	MaxBatch int `json:"max_batch"`
	// MaxBody is the largest request body in bytes.
	MaxBody int64 `json:"max_body"`
	// RecordLimits bound the relations, variations, list items, keys and
	// string lengths of one request (openapi.RecordLimits says each).
	openapi.RecordLimits
}

// The request limits: for each, what openapi.LimitError.What calls it, the
// flag of the algoreg-kit command that sets it (the same for mock, fixtures
// and contract), and its value in a Config. A request beyond one is answered
// 413, naming the limit, the value's JSON pointer and the flag.
var requestLimits = []struct {
	what, flag string
	value      func(Config) int
}{
	{openapi.LimitCustomers, "max-batch", func(c Config) int { return c.MaxBatch }},
	{openapi.LimitRelations, "max-relations", func(c Config) int { return c.MaxRelations }},
	{openapi.LimitVariations, "max-variations", func(c Config) int { return c.MaxVariations }},
	{openapi.LimitItems, "max-items", func(c Config) int { return c.MaxItems }},
	{openapi.LimitKeys, "max-keys", func(c Config) int { return c.MaxKeys }},
	{openapi.LimitAllVariations, "max-all-variations", func(c Config) int { return c.MaxAllVariations }},
	{openapi.LimitAllKeys, "max-all-keys", func(c Config) int { return c.MaxAllKeys }},
	{openapi.LimitIDLength, "max-id-length", func(c Config) int { return c.MaxIDLength }},
	{openapi.LimitStringLength, "max-string-length", func(c Config) int { return c.MaxStringLength }},
}

// LimitFlag returns the flag (without dashes) that sets the request limit
// what (an openapi.LimitError's What), or "" for an unknown one.
func LimitFlag(what string) string {
	for _, l := range requestLimits {
		if l.what == what {
			return l.flag
		}
	}
	return ""
}

// DecodeLimits returns c's request limits for openapi.DecodeSaveCustomersLimits,
// with maxViolations.
func (c Config) DecodeLimits(maxViolations int) openapi.Limits {
	return openapi.Limits{
		MaxCustomers:  c.MaxBatch,
		RecordLimits:  c.RecordLimits,
		MaxViolations: maxViolations,
	}
}

// DefaultConfig returns the documented defaults: kyc 0–3, the default
// relation-type table, no review-group or custom-field list, risk-scan limit
// 100, batches of at most 10,000 customers and 10,000 relations, bodies of at
// most 16 MiB, the Default… limits of the rest.
func DefaultConfig() Config {
	return Config{
		KYCMin:        DefaultKYCMin,
		KYCMax:        DefaultKYCMax,
		RelationTypes: append([]RelationType(nil), DefaultRelationTypes...),
		RiskScanLimit: DefaultRiskScanLimit,
		MaxBatch:      DefaultMaxBatch,
		MaxBody:       DefaultMaxBody,

		RecordLimits: openapi.RecordLimits{
			MaxRelations:     DefaultMaxRelations,
			MaxVariations:    DefaultMaxVariations,
			MaxAllVariations: DefaultMaxAllVariations,
			MaxAllKeys:       DefaultMaxAllKeys,
			MaxItems:         DefaultMaxItems,
			MaxKeys:          DefaultMaxKeys,
			MaxIDLength:      DefaultMaxIDLength,
			MaxStringLength:  DefaultMaxStringLength,
		},
	}
}

// Validate reports the first setting that cannot work, as a sentence that says
// what to change.
func (c Config) Validate() error {
	if c.KYCMin > c.KYCMax {
		return fmt.Errorf("kyc range: minimum %d is above maximum %d", c.KYCMin, c.KYCMax)
	}
	if len(c.RelationTypes) == 0 {
		return fmt.Errorf("relation types: the table is empty; give at least one value")
	}
	seen := map[int64]bool{}
	for _, rt := range c.RelationTypes {
		if seen[rt.Value] {
			return fmt.Errorf("relation types: value %d is listed twice", rt.Value)
		}
		seen[rt.Value] = true
	}
	if c.RiskScanLimit < 0 {
		return fmt.Errorf("risk-scan limit: %d is negative", c.RiskScanLimit)
	}
	for _, l := range requestLimits {
		if v := l.value(c); v < 1 {
			return fmt.Errorf("--%s: %d is below 1", l.flag, v)
		}
	}
	if c.MaxBody < 1 {
		return fmt.Errorf("max body: %d bytes is below 1", c.MaxBody)
	}
	return nil
}

// Compiled is a Config prepared for fast lookups on the hot path. Build it once
// with Compile; it is safe for concurrent use.
type Compiled struct {
	Config
	relationTypes map[int64]bool
	// relationTypeText lists the table's values, "1, 2, 3", for messages
	// (built once: a body of empty relations asks for it per relation).
	relationTypeText string
	reviewGroups     map[string]bool
	customFields     map[string]bool
}

// Compile prepares c for the checks. It returns the error of c.Validate.
func (c Config) Compile() (*Compiled, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cc := &Compiled{Config: c, relationTypes: map[int64]bool{}}
	for _, rt := range c.RelationTypes {
		cc.relationTypes[rt.Value] = true
	}
	var b strings.Builder
	for j, v := range c.RelationTypeValues() {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	cc.relationTypeText = b.String()
	if len(c.ReviewGroups) > 0 {
		cc.reviewGroups = setOf(c.ReviewGroups)
	}
	if len(c.CustomFields) > 0 {
		cc.customFields = setOf(c.CustomFields)
	}
	return cc, nil
}

func setOf(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// KYCInRange reports whether level is within [KYCMin, KYCMax].
func (c *Compiled) KYCInRange(level int64) bool { return level >= c.KYCMin && level <= c.KYCMax }

// RelationTypeKnown reports whether t is in the relation-type table.
func (c *Compiled) RelationTypeKnown(t int64) bool { return c.relationTypes[t] }

// ReviewGroupKnown reports whether g is a known review group; with no list
// configured every group is known.
func (c *Compiled) ReviewGroupKnown(g string) bool { return c.reviewGroups == nil || c.reviewGroups[g] }

// CustomFieldKnown reports whether key is a known custom field; with no list
// configured every key is known.
func (c *Compiled) CustomFieldKnown(key string) bool {
	return c.customFields == nil || c.customFields[key]
}

// RelationTypeValues returns the table's values in ascending order.
func (c Config) RelationTypeValues() []int64 {
	out := make([]int64, 0, len(c.RelationTypes))
	for _, rt := range c.RelationTypes {
		out = append(out, rt.Value)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
