package golden

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestFirstDifference(t *testing.T) {
	tests := []struct {
		name, got, want string
		line            int
		gotLine         string
		wantLine        string
	}{
		{"changed line", "a\nb\nc\n", "a\nx\nc\n", 2, "b", "x"},
		{"got is shorter", "a\n", "a\nb\n", 2, "", "b"},
		{"got is longer", "a\nb", "a", 2, "b", ""},
		{"no final newline", "a\n", "a", 2, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, g, w := firstDifference([]byte(tt.got), []byte(tt.want))
			if line != tt.line || g != tt.gotLine || w != tt.wantLine {
				t.Errorf("got %d %q %q, want %d %q %q", line, g, w, tt.line, tt.gotLine, tt.wantLine)
			}
		})
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); panic(r) }
func (r *recorder) Fatal(a ...any)            { r.Fatalf("%s", fmt.Sprint(a...)) }

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	check := func(name, got string) (errs []string) {
		r := &recorder{TB: t}
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
			errs = r.errs
		}()
		Check(r, name, []byte(got))
		return r.errs
	}
	if errs := check("x.golden", "a\n"); len(errs) != 1 || !strings.Contains(errs[0], "-update to create it") {
		t.Fatalf("missing file: got %q, want one error that says how to create it", errs)
	}
	*update = true
	errs := check("x.golden", "a\nb\n")
	*update = false
	if errs != nil {
		t.Fatalf("-update: got %q, want no error", errs)
	}
	if errs := check("x.golden", "a\nb\n"); errs != nil {
		t.Errorf("same output: got %q, want no error", errs)
	}
	if errs := check("x.golden", "a\nc\n"); len(errs) != 1 || !strings.Contains(errs[0], `at line 2`) || !strings.Contains(errs[0], `"c"`) {
		t.Errorf("other output: got %q, want one error naming line 2", errs)
	}
}
