package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/internal/words"
	"github.com/algoreg-kit/algoreg-kit/lint"
)

const lintUsage = `Usage: algoreg-kit lint [flags] FILE|FOLDER|- …

Checks Save customers request bodies offline, with the decoder and the rules
the mock uses: a syntax error, the schema's type violations (with their JSON
pointers), a request limit, and each record's errors and warnings with the
codes the mock would answer, given the same rule flags. One line per finding,
as a compiler writes them: file:line:col: code: message.

A file is one request body (JSON), or records one per line (.ndjson: the
customers, then the relations, a batch at a time); a folder is its *.json and
*.ndjson files in name order; - is a body on stdin. The files are linted as the
mock answers them posted in order to one business: a record saved by an
earlier file is stored for the later ones.

Exit status 0 when there is no error (warnings allowed, unless --strict), 1
when there is one, 2 for a mistake on the command line or a file that cannot
be read.

Examples:
  algoreg-kit lint batch.json
  algoreg-kit lint batches/
  algoreg-kit fixtures --count 100 --invalid 0.1 | algoreg-kit lint -
  algoreg-kit lint --kyc-max 5 --format json customers.ndjson relations.ndjson
`

// lintConfig is everything "algoreg-kit lint" was told.
type lintConfig struct {
	parsed
	Files  []string
	Rules  *ruleFlags
	Format string // text or json
	Strict bool   // warnings fail too
}

func parseLint(args []string, getenv func(string) string) (lintConfig, error) {
	var cfg lintConfig
	fs := newFlagSet("lint", lintUsage)
	fs.operands = &cfg.Files
	cfg.Rules = fs.ruleFlags()
	fs.choice(&cfg.Format, "format", "text", []string{"text", "json"}, "output `format`: text (file:line:col: code: message) or json")
	fs.BoolVar(&cfg.Strict, "strict", false, "exit 1 on warnings too")
	var err error
	if cfg.notes, err = fs.parse(args, getenv); err != nil {
		return cfg, err
	}
	if len(cfg.Files) == 0 {
		return cfg, fs.usageErrorf("give the files or folders to lint, or - for stdin")
	}
	if err := cfg.Rules.check(); err != nil {
		return cfg, fs.usageErrorf("the rules: %v", err)
	}
	return cfg, nil
}

func runLint(_ context.Context, cfg lintConfig, e env) error {
	rc, err := cfg.Rules.resolve()
	if err != nil {
		return usageError{cmd: "lint", err: fmt.Errorf("the rules: %w", err)}
	}
	l, err := lint.New(lint.Options{Rules: &rc})
	if err != nil {
		return usageError{cmd: "lint", err: err}
	}
	var all []lint.Finding
	for _, f := range cfg.Files {
		var fs []lint.Finding
		if f == "-" {
			b, rerr := io.ReadAll(io.LimitReader(e.stdin, rc.MaxBody+1))
			if rerr != nil {
				return usageError{cmd: "lint", err: fmt.Errorf("read stdin: %w", rerr)}
			}
			fs = l.Body("-", b)
		} else if fs, err = l.Path(f); err != nil {
			return usageError{cmd: "lint", err: fmt.Errorf("read %v", err)}
		}
		all = append(all, fs...)
	}
	errs, warns := 0, 0
	for _, f := range all {
		if f.Severity == lint.Error {
			errs++
		} else {
			warns++
		}
	}
	if cfg.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if all == nil {
			all = []lint.Finding{}
		}
		err = enc.Encode(struct {
			Errors   int            `json:"errors"`
			Warnings int            `json:"warnings"`
			Findings []lint.Finding `json:"findings"`
		}{errs, warns, all})
	} else {
		var b strings.Builder
		for _, f := range all {
			b.WriteString(f.String())
			b.WriteByte('\n')
		}
		_, err = io.WriteString(e.stdout, b.String())
	}
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("lint: %s, %s in %s", words.Count(errs, "error"), words.Count(warns, "warning"), words.Count(len(cfg.Files), "input"))
	if errs > 0 || (cfg.Strict && warns > 0) {
		fmt.Fprintln(e.stderr, summary)
		return silentExit{1}
	}
	fmt.Fprintln(e.stderr, summary)
	return nil
}
