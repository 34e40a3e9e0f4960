package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The binary links no test framework: mockserver/mocktest, which imports
// testing and net/http/httptest, is for tests only.
func TestBinaryLinksNoTestPackages(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is needed on CI: %v", err)
		}
		t.Skipf("no go command: %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "testing", "net/http/httptest", "github.com/algoreg-kit/algoreg-kit/mockserver/mocktest":
			t.Errorf("algoreg-kit links %s; only tests may import it", pkg)
		}
	}
}
