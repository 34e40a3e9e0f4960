package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// Severity says whether a finding rejects the record (or the body) or is a
// warning.
type Severity string

// The severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// The codes of findings about the whole body, besides the rules' catalogue
// codes of records (rules.Catalogue).
const (
	CodeSyntax = "syntax" // not well-formed JSON: the mock answers 400
	CodeSchema = "schema" // a JSON type the document does not allow: 422
	CodeLimit  = "limit"  // beyond a request limit: 413
)

// Finding is one thing the mock would answer about a body.
type Finding struct {
	File string `json:"file"`
	// Line and Column (1-based; the column in bytes) and Offset (0-based)
	// are where the finding's value starts in the file.
	Line   int   `json:"line"`
	Column int   `json:"column"`
	Offset int64 `json:"offset"`
	// Pointer is the JSON pointer of the value in the request body ("" for
	// the whole body).
	Pointer  string   `json:"pointer"`
	Severity Severity `json:"severity"`
	// Code is a catalogue code (rules.Catalogue) or CodeSyntax, CodeSchema,
	// CodeLimit.
	Code string `json:"code"`
	// Message is the mock's: a record's detail, a violation's message, the
	// problem's sentence.
	Message string `json:"message"`
	// ExternalID is the record's id, for a record's finding.
	ExternalID string `json:"external_id,omitempty"`
}

// String formats f as a compiler does: "file:line:col: code: message".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", f.File, f.Line, f.Column, f.Code, f.Message)
}

// Options are the server's settings the bodies are linted against.
type Options struct {
	// Rules are the rule settings and request limits (nil:
	// rules.DefaultConfig(), the mock's defaults).
	Rules *rules.Config
	// Today is the date a date of birth may not be after (zero: today, UTC).
	Today rules.Date
}

// Linter lints bodies with one set of Options. What its bodies would save (all
// but verify_input: true ones) is kept, as the mock's business keeps it: an
// update of a customer saved by an earlier body is judged as an update. A
// Linter is not safe for concurrent use.
type Linter struct {
	rc    rules.Config
	cfg   *rules.Compiled
	env   rules.Env
	state *rules.MemState
}

// New returns a Linter, or an error that says which setting is wrong.
func New(opts Options) (*Linter, error) {
	rc := rules.DefaultConfig()
	if opts.Rules != nil {
		rc = *opts.Rules
	}
	cfg, err := rc.Compile()
	if err != nil {
		return nil, err
	}
	today := opts.Today
	if today == 0 {
		y, m, d := time.Now().UTC().Date()
		today = rules.MakeDate(y, int(m), d)
	}
	return &Linter{rc: rc, cfg: cfg, env: rules.Env{Today: today, NowNanos: time.Now().UnixNano()}, state: rules.NewMemState()}, nil
}

// Body lints one request body against an empty business, with opts: what a
// unit test calls on the body its code produces.
func Body(body []byte, opts Options) ([]Finding, error) {
	l, err := New(opts)
	if err != nil {
		return nil, err
	}
	return l.Body("body", body), nil
}

// Body lints one request body, named name in the findings: the findings are
// those the mock would answer, in its order (a body that fails to decode has
// no record findings).
func (l *Linter) Body(name string, body []byte) []Finding {
	if n := int64(len(body)); n > l.rc.MaxBody {
		// The mock refuses it before reading it: 413.
		loc := locator{body: body}
		line, col := loc.lineCol(l.rc.MaxBody)
		return []Finding{{File: name, Line: line, Column: col, Offset: l.rc.MaxBody, Severity: Error, Code: CodeLimit,
			Message: fmt.Sprintf("the body is larger than the limit of %d bytes (--max-body), so the mock answers 413 without reading it; split the batch", l.rc.MaxBody)}}
	}
	return l.body(name, body, nil)
}

// body lints body; place, when not nil, maps an offset in body to the
// file's line and column (NDJSON's bodies are made of the file's lines).
func (l *Linter) body(name string, body []byte, place func(off int64) (line, col int)) []Finding {
	loc := locator{body: body}
	if place == nil {
		place = loc.lineCol
	}
	at := func(f Finding, off int64) Finding {
		f.File, f.Offset = name, off
		f.Line, f.Column = place(off)
		return f
	}
	req, err := openapi.DecodeSaveCustomersLimits(body, l.rc.DecodeLimits(0))
	var se *openapi.SyntaxError
	var ve *openapi.ValidationError
	var le *openapi.LimitError
	switch {
	case errors.As(err, &se):
		off := max(se.Offset-1, 0)
		return []Finding{at(Finding{Severity: Error, Code: CodeSyntax, Message: "malformed JSON: " + se.Msg}, off)}
	case errors.As(err, &ve):
		out := make([]Finding, 0, len(ve.Violations))
		for _, v := range ve.Violations {
			out = append(out, at(Finding{Pointer: v.Pointer, Severity: Error, Code: CodeSchema, Message: v.Pointer + ": " + v.Message}, loc.find(v.Pointer)))
		}
		return out
	case errors.As(err, &le):
		return []Finding{at(Finding{Pointer: le.Pointer, Severity: Error, Code: CodeLimit, Message: le.Error()}, loc.find(le.Pointer))}
	case err != nil:
		return []Finding{at(Finding{Severity: Error, Code: CodeSchema, Message: err.Error()}, 0)}
	}
	out, err := rules.Evaluate(l.cfg, l.env, l.state, req)
	if err != nil { // a MemState never fails
		return []Finding{at(Finding{Severity: Error, Code: CodeSchema, Message: err.Error()}, 0)}
	}
	var findings []Finding
	for i, d := range out.Detail {
		kind := "customers"
		if i >= out.CustomerDetails {
			kind = "relations"
		}
		for _, m := range d.Errors {
			findings = append(findings, l.recordFinding(at, &loc, kind, d.ExternalID, Error, m))
		}
		for _, m := range d.Warnings {
			findings = append(findings, l.recordFinding(at, &loc, kind, d.ExternalID, Warning, m))
		}
	}
	if req.VerifyInput == nil || !*req.VerifyInput {
		l.state.Keep(out)
	}
	return findings
}

// recordFinding places a record's message at its record: the message starts
// with the record's place in the request ("customers[3]: …").
func (l *Linter) recordFinding(at func(Finding, int64) Finding, loc *locator, kind, id string, sev Severity, m openapi.Message) Finding {
	ptr := ""
	if rest, ok := strings.CutPrefix(m.Detail, kind+"["); ok {
		if n, _, ok := strings.Cut(rest, "]"); ok {
			if _, err := strconv.Atoi(n); err == nil {
				ptr = "/" + kind + "/" + n
			}
		}
	}
	return at(Finding{Pointer: ptr, Severity: sev, Code: m.Code, Message: m.Detail, ExternalID: id}, loc.find(ptr))
}

// Path lints a file or a folder: a folder's *.json and *.ndjson files in name
// order (not its subfolders), a .ndjson file as records one per line, any
// other file as one request body. The error is about reading, not findings.
func (l *Linter) Path(path string) ([]Finding, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return l.file(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".ndjson")) {
			continue
		}
		fs, err := l.file(filepath.Join(path, name))
		if err != nil {
			return out, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

func (l *Linter) file(path string) ([]Finding, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".ndjson") {
		return l.NDJSON(path, b), nil
	}
	return l.Body(path, b), nil
}

// NDJSON lints records one per line (the format algoreg-kit fixtures writes
// and the mock preloads): a line with a relation_external_id,
// parent_customer_external_id or child_customer_external_id is a relation,
// any other a customer; the customers first, then the relations, a request
// of at most the batch limit at a time, as the mock's preload saves them.
// Blank lines are skipped.
func (l *Linter) NDJSON(name string, data []byte) []Finding {
	type line struct {
		no    int
		start int // offset of the line in data
		text  []byte
	}
	var customers, relations []line
	no, start := 0, 0
	for len(data[start:]) > 0 || start == 0 {
		no++
		end := bytes.IndexByte(data[start:], '\n')
		text := data[start:]
		if end >= 0 {
			text = data[start : start+end]
		}
		if t := bytes.TrimSpace(text); len(t) > 0 {
			if isRelation(t) {
				relations = append(relations, line{no, start, text})
			} else {
				customers = append(customers, line{no, start, text})
			}
		}
		if end < 0 {
			break
		}
		start += end + 1
	}
	var out []Finding
	run := func(key string, lines []line, per int) {
		for lo := 0; lo < len(lines); lo += per {
			batch := lines[lo:min(lo+per, len(lines))]
			var body bytes.Buffer
			starts := make([]int64, len(batch)) // where each line starts in body
			body.WriteString(`{"` + key + `":[`)
			for i, ln := range batch {
				if i > 0 {
					body.WriteByte(',')
				}
				starts[i] = int64(body.Len())
				body.Write(ln.text)
			}
			body.WriteString("]}")
			// which is the line of batch that the body's offset off is in.
			which := func(off int64) int {
				i, found := slices.BinarySearch(starts, off)
				if !found {
					i--
				}
				return max(0, min(i, len(batch)-1))
			}
			// inLine is where off is in its line: a finding past the
			// line's end (the list's closing bracket) is at its end.
			inLine := func(off int64) (int, int) {
				i := which(off)
				return i, int(min(max(off-starts[i], 0), int64(len(batch[i].text))))
			}
			place := func(off int64) (int, int) {
				i, col := inLine(off)
				return batch[i].no, col + 1
			}
			fs := l.body(name, body.Bytes(), place)
			for j := range fs {
				i, col := inLine(fs[j].Offset)
				fs[j].Offset = int64(batch[i].start + col)
			}
			out = append(out, fs...)
		}
	}
	run("customers", customers, l.rc.MaxBatch)
	run("relations", relations, l.rc.MaxRelations)
	return out
}

// isRelation reports whether an NDJSON line is a relation: a top-level key
// that only relations have.
func isRelation(line []byte) bool {
	loc := locator{body: line}
	for _, k := range []string{"relation_external_id", "parent_customer_external_id", "child_customer_external_id"} {
		if loc.find("/"+k) > 0 {
			return true
		}
	}
	return false
}
