// Package golden compares what a test produced with a golden file under
// testdata/. Run the tests with -update (a flag this package registers) to
// rewrite the files first; say in the commit why they changed.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Updating reports whether the tests run with -update, for tests that
// rewrite other files of testdata/ (fuzz seeds) with the golden files.
func Updating() bool { return *update }

// Check fails tb unless got equals the file testdata/name, naming the first
// line that differs. With -update it writes got to the file first.
func Check(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		line, g, w := firstDifference(got, want)
		tb.Errorf("the output differs from %s at line %d (run the test with -update if the change is intended):\n got: %q\nwant: %q", path, line, g, w)
	}
}

// firstDifference returns the number (from 1) and the text of the first line
// where got and want differ; a missing line is empty.
func firstDifference(got, want []byte) (int, string, string) {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; ; i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) || i >= len(g) || i >= len(w) {
			return i + 1, string(gl), string(wl)
		}
	}
}
