package contract_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/contract"
)

// TestREADME keeps README.md true: it lists every check, every mutant with
// its catcher, and the mutation score of TestMutants.
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
	ms := mutants()
	for _, m := range ms {
		if !strings.Contains(readme, "`"+m.catcher+"` |") {
			t.Errorf("README.md's mutant table lacks %q caught by %s", m.name, m.catcher)
		}
	}
	if got, want := strings.Count(readme, "\n| "), len(ms)+3; got < want {
		t.Errorf("README.md has %d table rows, want at least %d (one per mutant)", got, want)
	}
	if score := fmt.Sprintf("mutation score: %d/%d", len(ms), len(ms)); !strings.Contains(readme, score) {
		t.Errorf("README.md does not state %q", score)
	}
}
