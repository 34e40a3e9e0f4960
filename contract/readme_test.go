package contract_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/contract"
)

// TestREADME keeps README.md true: it lists every check
// (TestMatrixREADME keeps the behaviour matrix).
func TestREADME(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, c := range contract.Checks() {
		if !strings.Contains(readme, "\n"+c.ID+" ") {
			t.Errorf("README.md does not list the check %s; paste the output of algoreg-kit contract --list", c.ID)
		}
	}
}

// TestREADMEGoTestCommands keeps the `go test ./contract … -args …` commands
// of this README and the top one true: one that passes flags to a target
// runs TestLive (without -run it would run every test of the package, the
// in-process ones too), and every flag after -args is one TestLive reads.
func TestREADMEGoTestCommands(t *testing.T) {
	n := 0
	for _, f := range []string{"README.md", "../README.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "\\\n", " ")
		for _, line := range strings.Split(text, "\n") {
			_, rest, ok := strings.Cut(line, "go test ./contract")
			if !ok || !strings.Contains(rest, " -args ") {
				continue
			}
			n++
			before, after, _ := strings.Cut(rest, " -args ")
			if !strings.Contains(before, "-run TestLive") {
				t.Errorf("%s: %q passes -args without -run TestLive", f, strings.TrimSpace(line))
			}
			after, _, _ = strings.Cut(after, "#")
			for _, arg := range strings.Fields(after) {
				if name, ok := strings.CutPrefix(arg, "-"); ok && flag.Lookup(name) == nil {
					t.Errorf("%s: %q passes -%s, which TestLive does not read", f, strings.TrimSpace(line), name)
				}
			}
		}
	}
	if n < 2 {
		t.Errorf("found %d go test commands with -args, want the two READMEs' at least", n)
	}
}
