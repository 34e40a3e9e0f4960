package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/contract"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// targetRules returns the rules the data and checks for a target must
// follow: when the target is an algoreg-kit mock (contract.ReadKit: its GET
// /__admin/config), the mock's own, with the rule flags that were given
// (command line or environment) applied over them; else the flags' rules, as
// before. It prints to w one line saying what it took from a mock, nothing
// for a target that is not the kit. ReadKit's answer is returned for
// contract.Config.Asked (nil when it could not ask), so that the suite does
// not ask again; when the target cannot be asked at all (no connection, no
// token), unreachable gets the error and the flags' rules are used.
func targetRules(ctx context.Context, w io.Writer, cmd string, rf *ruleFlags, reach contract.Config, unreachable func(error)) (rules.Config, *contract.Asked, error) {
	own, err := rf.resolve()
	if err != nil {
		return own, nil, err
	}
	kit, err := contract.ReadKit(ctx, reach)
	var mistake *contract.ConfigError
	switch {
	case errors.As(err, &mistake):
		return own, nil, nil // nothing was sent; the run reports it
	case err != nil:
		unreachable(err)
		return own, nil, nil
	case kit == nil:
		return own, &contract.Asked{}, nil
	}
	rc, err := rf.over(kit.Rules)
	if err != nil {
		return rc, nil, err
	}
	line := fmt.Sprintf("%s: the target is an algoreg-kit mock, version %s; using its rules: %s", cmd, kit.Version, rulesDiff(kit.Rules))
	if given := rf.givenNames(); len(given) > 0 {
		line += "; flags given override them: --" + strings.Join(given, ", --")
	}
	fmt.Fprintln(w, line)
	return rc, &contract.Asked{Kit: kit}, nil
}

// printUnreachable is targetRules' unreachable for a command that goes on
// with the rule flags: one line on w.
func printUnreachable(w io.Writer, cmd string) func(error) {
	return func(err error) {
		fmt.Fprintf(w, "%s: cannot ask the target for its settings (%v); using the rule flags\n", cmd, err)
	}
}

// rulesDiff lists the settings of c that differ from rules.DefaultConfig(),
// by their JSON names ("custom_fields segment, kyc_max 1"), or says that c is
// the defaults.
func rulesDiff(c rules.Config) string {
	got, def := jsonFields(c), jsonFields(rules.DefaultConfig())
	var diff []string
	for _, k := range sortedKeys(got) {
		if !reflect.DeepEqual(got[k], def[k]) {
			diff = append(diff, k+" "+jsonText(got[k]))
		}
	}
	if len(diff) == 0 {
		return "the defaults"
	}
	return strings.Join(diff, ", ")
}

// jsonFields is c as a JSON object.
func jsonFields(c rules.Config) map[string]any {
	if c.ReviewGroups == nil {
		c.ReviewGroups = []string{}
	}
	if c.CustomFields == nil {
		c.CustomFields = []string{}
	}
	b, _ := json.Marshal(c) // a rules.Config always encodes
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // 16777216, not 1.6777216e+07
	var m map[string]any
	_ = d.Decode(&m)
	return m
}

// jsonText writes a decoded JSON value for a person: a list as its items
// separated by commas, a relation type as its value.
func jsonText(v any) string {
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return "none (any)"
		}
		items := make([]string, len(v))
		for i, x := range v {
			items[i] = jsonText(x)
		}
		return strings.Join(items, ",")
	case map[string]any: // a relation type
		return jsonText(v["value"])
	}
	return fmt.Sprint(v)
}
