package lint_test

import (
	"bytes"
	"testing"

	"github.com/algoreg-kit/algoreg-kit/lint"
)

// FuzzLint: on any bytes, as a body and as NDJSON, lint never panics and
// places every finding inside the input, at the line and column of its
// offset.
func FuzzLint(f *testing.F) {
	for _, s := range []string{
		`{"customers":[{"external_id":"a","account_type":"N","last_name":"Doe","phone":"12"}]}`,
		"{\"customers\":[\n{\"external_id\":\"a\",\"kyc_level\":\"x\",\"fields\":[1]}],\"relations\":[{\"relation_external_id\":\"r\"}]}",
		`{"customers":[{"external_id":"a\u0022b","ex\"tra":{"k":[1,{"x":"]"}]}}]}`,
		"{\"external_id\":\"a\"}\n\n{\"relation_external_id\":\"r\",\"parent_customer_external_id\":\"a\"}\n",
		`{"customers":[`, `[]`, ``, `{"customers":[{}],"customers":[{"external_id":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := lint.New(lint.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, fs := range [][]lint.Finding{l.Body("body", data), l.NDJSON("lines", data)} {
			for _, fd := range fs {
				if fd.Offset < 0 || fd.Offset > int64(len(data)) {
					t.Fatalf("%v: offset %d outside the %d-byte input", fd, fd.Offset, len(data))
				}
				line := 1 + bytes.Count(data[:fd.Offset], []byte("\n"))
				col := int(fd.Offset) - (bytes.LastIndexByte(data[:fd.Offset], '\n') + 1) + 1
				if fd.Line != line || fd.Column != col {
					t.Fatalf("%v: offset %d is line %d column %d", fd, fd.Offset, line, col)
				}
			}
		}
	})
}
