package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// This file is the one home of how a subcommand reads its settings: the
// command line first, then the environment (ALGOREG_<SUBCOMMAND>_<FLAG>, and
// ALGOREG_USER, ALGOREG_PASSWORD, ALGOREG_TOKEN for credentials), the rule
// flags that mock, fixtures and contract share, and the value syntaxes (sizes,
// lists, relation-type tables, choices).

// credentialFlags read ALGOREG_<FLAG> in every subcommand that has them, so
// that one set of variables serves fixtures and contract.
var credentialFlags = map[string]bool{"user": true, "password": true, "token": true}

// deprecatedEnv maps each environment variable of the previous release to the
// one that replaced it. They still work, with a deprecation line on stderr;
// remove this table in the next release.
var deprecatedEnv = map[string]string{
	"ALGOREG_CONTRACT_USER":     "ALGOREG_USER",
	"ALGOREG_CONTRACT_PASSWORD": "ALGOREG_PASSWORD",
	"ALGOREG_CONTRACT_TOKEN":    "ALGOREG_TOKEN",
}

// flagSet is one subcommand's flags. Build it with newFlagSet, declare the
// flags, then call parse.
type flagSet struct {
	*flag.FlagSet
	cmd   string
	usage string
	// rules are the rule flags of the set, nil without them; ruleNames
	// their names.
	rules     *ruleFlags
	ruleNames map[string]bool
	// operands, when not nil, takes the arguments that are not flags
	// (before, between or after them: lint's files); without it such an
	// argument is a usage error.
	operands *[]string
}

func newFlagSet(cmd, usage string) *flagSet {
	fs := flag.NewFlagSet("algoreg-kit "+cmd, flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{}) // errors are returned, help is built by help
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, cmd: cmd, usage: usage}
}

// envName is the environment variable of the flag name.
func (f *flagSet) envName(name string) string {
	key := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if credentialFlags[name] {
		return "ALGOREG_" + key
	}
	return "ALGOREG_" + strings.ToUpper(f.cmd) + "_" + key
}

// parse reads args, then sets every flag not given on the command line from
// its environment variable, or from the variable that variable replaced. It
// returns one deprecation line per old variable used. A request for help is a
// helpError holding the command's help; any other error is a usageError.
func (f *flagSet) parse(args []string, getenv func(string) string) (notes []string, err error) {
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpError{f.help()}
			}
			return nil, f.usageErr(err)
		}
		if f.NArg() == 0 {
			break
		}
		if f.operands == nil {
			return nil, f.usageErrorf("unexpected argument %q", f.Arg(0))
		}
		*f.operands = append(*f.operands, f.Arg(0))
		args = f.Args()[1:]
	}
	given := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	f.VisitAll(func(fl *flag.Flag) {
		if given[fl.Name] || err != nil {
			return
		}
		name, v := f.lookupEnv(fl.Name, getenv, &notes)
		if v == "" {
			return
		}
		if serr := f.Set(fl.Name, v); serr != nil {
			err = f.usageErrorf("%s=%q: invalid value for --%s: %v", name, v, fl.Name, serr)
		}
	})
	if f.rules != nil {
		f.Visit(func(fl *flag.Flag) {
			if f.ruleNames[fl.Name] {
				f.rules.given[fl.Name] = fl.Value.String()
			}
		})
	}
	return notes, err
}

// lookupEnv returns the variable that sets flag name and its value, trying
// the deprecated names of that variable when it is unset.
func (f *flagSet) lookupEnv(name string, getenv func(string) string, notes *[]string) (string, string) {
	env := f.envName(name)
	if v := getenv(env); v != "" {
		return env, v
	}
	for _, old := range sortedKeys(deprecatedEnv) {
		if deprecatedEnv[old] != env {
			continue
		}
		if v := getenv(old); v != "" {
			*notes = append(*notes, fmt.Sprintf("algoreg-kit: %s is deprecated and will stop working in the next release; set %s instead", old, env))
			return old, v
		}
	}
	return env, ""
}

// help is the command's usage text, its flags and where else they come from.
func (f *flagSet) help() string {
	var b bytes.Buffer
	b.WriteString(f.usage)
	b.WriteString("\nFlags:\n")
	out := f.Output()
	f.SetOutput(&b)
	f.PrintDefaults()
	f.SetOutput(out)
	env := fmt.Sprintf("Every flag can also be set with ALGOREG_%s_<FLAG> (upper case, '-' as '_')", strings.ToUpper(f.cmd))
	var creds []string
	f.VisitAll(func(fl *flag.Flag) {
		if credentialFlags[fl.Name] {
			creds = append(creds, "--"+fl.Name+" with "+f.envName(fl.Name))
		}
	})
	if len(creds) > 0 {
		env += ", and the credentials " + join(creds, "and")
	}
	b.WriteString("\n" + wrap(env+"; a flag on the command line wins.", 79))
	return b.String()
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	line := 0
	for _, w := range strings.Fields(text) {
		if line > 0 && line+1+len(w) > width {
			b.WriteString("\n")
			line = 0
		} else if line > 0 {
			b.WriteString(" ")
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String() + "\n"
}

func (f *flagSet) usageErr(err error) error { return usageError{cmd: f.cmd, err: err} }

func (f *flagSet) usageErrorf(format string, a ...any) error {
	return f.usageErr(fmt.Errorf(format, a...))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ruleFlags are the server's rule settings and request limits, given to mock
// (its own), fixtures (the server's, which the data follows) and contract (the
// target's), with the same names and syntax.
type ruleFlags struct {
	rules.Config
	// relationTypesFile is set when --relation-types names a file rather than
	// listing the table; resolve reads it.
	relationTypesFile string
	// listErr is why the --relation-types value is not a list, reported when
	// it is not a file either.
	listErr error
	// relationTypesRaw is the --relation-types value as given, so that the
	// flag can be given again (over).
	relationTypesRaw string
	// given holds the rule flags given on the command line or in the
	// environment, with their values (set by flagSet.parse), for over.
	given map[string]string
}

// ruleFlags declares --kyc-min, --kyc-max, --review-groups, --custom-fields,
// --relation-types, --risk-scan-limit, --max-batch, --max-body and the other
// request limits (--max-relations, --max-variations, --max-items, --max-keys,
// --max-id-length, --max-string-length), with
// rules.DefaultConfig as their defaults.
func (f *flagSet) ruleFlags() *ruleFlags { return f.ruleFlagsFrom(rules.DefaultConfig()) }

// ruleFlagsFrom declares the rule flags with the settings of base as their
// defaults.
func (f *flagSet) ruleFlagsFrom(base rules.Config) *ruleFlags {
	r := &ruleFlags{Config: base, given: map[string]string{}}
	before := map[string]bool{}
	f.VisitAll(func(fl *flag.Flag) { before[fl.Name] = true })
	f.Int64Var(&r.KYCMin, "kyc-min", r.KYCMin, "lowest valid kyc_level and kyc_level_requested")
	f.Int64Var(&r.KYCMax, "kyc-max", r.KYCMax, "highest valid kyc_level and kyc_level_requested")
	f.Var((*listValue)(&r.ReviewGroups), "review-groups", "comma-separated `list` of known review groups (others get review_group_unknown); default: any")
	f.Var((*listValue)(&r.CustomFields), "custom-fields", "comma-separated `list` of known custom fields (others are dropped with custom_field_unknown); default: any")
	f.Var((*relationTypesValue)(r), "relation-types", "relation-type `table`: a list such as 1=director,2=shareholder (or 1,2,3), or a file with one value[,name] per line; default: the document's 1-10")
	f.IntVar(&r.RiskScanLimit, "risk-scan-limit", r.RiskScanLimit, "above this many customers saved by one request, disable_risk_scan is forced to true")
	f.IntVar(&r.MaxBatch, "max-batch", r.MaxBatch, "most customers per save request (more: 413)")
	f.Var((*sizeValue)(&r.MaxBody), "max-body", "largest request body: a `size` (bytes, or with a KiB/MiB/GiB/KB/MB/GB suffix; more: 413)")
	f.IntVar(&r.MaxRelations, "max-relations", r.MaxRelations, "most relations per save request (more: 413)")
	f.IntVar(&r.MaxVariations, "max-variations", r.MaxVariations, "most variations of one customer (more: 413)")
	f.IntVar(&r.MaxAllVariations, "max-all-variations", r.MaxAllVariations, "most variations per save request, all customers together (more: 413)")
	f.IntVar(&r.MaxAllKeys, "max-all-keys", r.MaxAllKeys, "most keys and array items of fields and unknown keys per save request, all records together (more: 413)")
	f.IntVar(&r.MaxItems, "max-items", r.MaxItems, "most items of any other list: alias_ids, contacts, country codes, review_groups, arrays in fields (more: 413)")
	f.IntVar(&r.MaxKeys, "max-keys", r.MaxKeys, "most keys of fields (and of objects in it), and most unknown keys of one record (more: 413)")
	f.IntVar(&r.MaxIDLength, "max-id-length", r.MaxIDLength, "longest external_id, relation or alias id, in bytes (more: 413)")
	f.IntVar(&r.MaxStringLength, "max-string-length", r.MaxStringLength, "longest other string (names, comments, custom-field values, keys), in bytes (more: 413)")
	f.rules, f.ruleNames = r, map[string]bool{}
	f.VisitAll(func(fl *flag.Flag) {
		if !before[fl.Name] {
			f.ruleNames[fl.Name] = true
		}
	})
	return r
}

// givenNames returns the names of the rule flags given on the command line
// or in the environment, in name order.
func (r *ruleFlags) givenNames() []string { return sortedKeys(r.given) }

// over returns the settings of base with the rule flags that were given
// applied over it, resolved as resolve does.
func (r *ruleFlags) over(base rules.Config) (rules.Config, error) {
	fs := newFlagSet("", "")
	o := fs.ruleFlagsFrom(base)
	for _, name := range r.givenNames() {
		if err := fs.Set(name, r.given[name]); err != nil {
			return base, fmt.Errorf("--%s: %w", name, err)
		}
	}
	return o.resolve()
}

// check validates the settings once they are all known (after resolve when
// --relation-types names a file); it reports nothing before that.
func (r *ruleFlags) check() error {
	if r.relationTypesFile != "" {
		return nil
	}
	return r.Validate()
}

// resolve reads the relation-type file named by --relation-types, if any, and
// returns the validated settings.
func (r *ruleFlags) resolve() (rules.Config, error) {
	c := r.Config
	c.RelationTypes = append([]rules.RelationType(nil), c.RelationTypes...)
	if r.relationTypesFile != "" {
		rts, err := readRelationTypes(r.relationTypesFile)
		if errors.Is(err, fs.ErrNotExist) {
			err = r.listErr // not a file: the value was meant as a list
		}
		if err != nil {
			return c, fmt.Errorf("--relation-types: %w", err)
		}
		c.RelationTypes = rts
	}
	return c, c.Validate()
}

// listValue is a comma-separated list flag, split as the document splits a
// string list (openapi.SplitStringList: ',' or ';', items trimmed, empty ones
// dropped). An empty list is nil.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error {
	*l = nil
	if items := openapi.SplitStringList(s); len(items) > 0 {
		*l = listValue(items)
	}
	return nil
}

// sizeValue is a byte count flag: 1048576, 16MiB, 10 KB.
type sizeValue int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1000 * 1000 * 1000}, {"MB", 1000 * 1000}, {"KB", 1000}, {"B", 1}}

func (v *sizeValue) String() string {
	for _, u := range sizeUnits {
		if n := int64(*v); n != 0 && u.mult > 1 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*v), 10)
}

func (v *sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err == nil {
		*v = sizeValue(n)
	}
	return err
}

// sizeOrZeroValue is a sizeValue that also takes 0 (or "off"): none.
type sizeOrZeroValue int64

func (v *sizeOrZeroValue) String() string { return (*sizeValue)(v).String() }

func (v *sizeOrZeroValue) Set(s string) error {
	if t := strings.TrimSpace(s); t == "0" || t == "off" {
		*v = 0
		return nil
	}
	return (*sizeValue)(v).Set(s)
}

// parseSize reads a byte count with an optional KiB/MiB/GiB/KB/MB/GB/B suffix.
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a positive size such as 16MiB or 1048576", s)
	}
	return n * mult, nil
}

// relationTypesValue is --relation-types: a list ("1=director,2=shareholder"
// or "1,2,3"), or else the name of a file that resolve reads.
type relationTypesValue ruleFlags

func (v *relationTypesValue) String() string {
	switch {
	case v == nil:
		return ""
	case v.relationTypesRaw != "":
		return v.relationTypesRaw
	case v.relationTypesFile != "":
		return v.relationTypesFile
	case slices.Equal(v.RelationTypes, rules.DefaultRelationTypes):
		return "" // the default, described in the flag's usage
	}
	parts := make([]string, len(v.RelationTypes))
	for i, rt := range v.RelationTypes {
		parts[i] = strconv.FormatInt(rt.Value, 10)
		if rt.Name != "" {
			parts[i] += "=" + rt.Name
		}
	}
	return strings.Join(parts, ",")
}

func (v *relationTypesValue) Set(s string) error {
	v.relationTypesRaw = s
	items := strings.Split(s, ",")
	for i := range items {
		items[i] = strings.Replace(items[i], "=", ",", 1)
	}
	rts, err := relationTypes(items, func(i int) string { return fmt.Sprintf("item %d", i+1) })
	if err != nil {
		v.relationTypesFile, v.listErr = s, err
		return nil
	}
	v.RelationTypes, v.relationTypesFile, v.listErr = rts, "", nil
	return nil
}

// readRelationTypes reads a file of one "value[,name]" per line ('#' starts a
// comment).
func readRelationTypes(path string) ([]rules.RelationType, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return relationTypes(lines, func(i int) string { return fmt.Sprintf("%s line %d", path, i+1) })
}

// relationTypes reads items of "value[,name]"; blank items are skipped.
func relationTypes(items []string, where func(int) string) ([]rules.RelationType, error) {
	var out []rules.RelationType
	for i, item := range items {
		if strings.TrimSpace(item) == "" {
			continue
		}
		v, name, _ := strings.Cut(item, ",")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer relation type", where(i), strings.TrimSpace(v))
		}
		out = append(out, rules.RelationType{Value: n, Name: strings.TrimSpace(name)})
	}
	if len(out) == 0 {
		return nil, errors.New("no relation type given")
	}
	return out, nil
}

// choiceValue is a string flag that takes one of a few words.
type choiceValue struct {
	p       *string
	choices []string
}

func (f *flagSet) choice(p *string, name, value string, choices []string, usage string) {
	*p = value
	f.Var(choiceValue{p, choices}, name, usage)
}

func (c choiceValue) String() string {
	if c.p == nil {
		return ""
	}
	return *c.p
}

func (c choiceValue) Set(s string) error {
	for _, ch := range c.choices {
		if s == ch {
			*c.p = s
			return nil
		}
	}
	return fmt.Errorf("use %s", join(c.choices, "or"))
}
