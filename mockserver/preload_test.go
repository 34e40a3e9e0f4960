package mockserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/store"
)

// NDJSON preload takes customer and relation lines, in batches that apply
// customers before relations, and names the line of anything it cannot read.
func TestPreloadNDJSON(t *testing.T) {
	const c1 = `{"external_id":"c1","account_type":"N","last_name":"A"}`
	const c2 = `{"external_id":"c2","account_type":"F","company_name":"B"}`
	const r1 = `{"relation_external_id":"r1","parent_customer_external_id":"c2","child_customer_external_id":"c1","relation_type":1}`
	tests := []struct {
		name                 string
		lines                []string
		wantErr              string
		customers, relations int // in the store afterwards
		stats                mockserver.PreloadStats
	}{
		{"customers then a relation", []string{c1, c2, "", r1}, "", 2, 1,
			mockserver.PreloadStats{Files: 1, Requests: 1, Customers: 2, Relations: 1, Added: 2}},
		{"a relation before its customers, same batch", []string{r1, c1, c2}, "", 2, 1,
			mockserver.PreloadStats{Files: 1, Requests: 1, Customers: 2, Relations: 1, Added: 2}},
		{"a relation whose customers never come", []string{c1, r1}, "", 1, 0,
			mockserver.PreloadStats{Files: 1, Requests: 1, Customers: 1, Relations: 1, Added: 1, Rejected: 1}},
		{"external_id wins: a customer with a stray key", []string{`{"external_id":"c3","account_type":"N","last_name":"C","relation_external_id":"x"}`}, "", 1, 0,
			mockserver.PreloadStats{Files: 1, Requests: 1, Customers: 1, Added: 1}},
		{"malformed relation line", []string{c1, `{"relation_external_id":"r1","relation_type":"x"}`}, "line 2: ", 0, 0, mockserver.PreloadStats{}},
		{"broken JSON", []string{c1, `{"external_id":`}, "line 2: malformed JSON", 0, 0, mockserver.PreloadStats{}},
		{"two records on a line", []string{c1 + "," + c2}, "line 1: ", 0, 0, mockserver.PreloadStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "data.ndjson")
			require.NoError(t, os.WriteFile(file, []byte(strings.Join(tt.lines, "\n")+"\n"), 0o600))
			mock := mocktest.NewMock(t, mockserver.Config{})
			st, err := mock.Preload(context.Background(), "b", file)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), file+" "+tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.stats, st)
			require.NoError(t, mock.Store().View(context.Background(), "b", func(tx store.Tx) error {
				_, nc, err := tx.Customers(0, 0)
				require.NoError(t, err)
				_, nr, err := tx.Relations(0, 0)
				assert.Equal(t, tt.customers, nc, "customers stored")
				assert.Equal(t, tt.relations, nr, "relations stored")
				return err
			}))
		})
	}
}

// FuzzPreloadNDJSON feeds arbitrary NDJSON files to Preload: it must return
// an error or counts that add up, never panic or hang.
func FuzzPreloadNDJSON(f *testing.F) {
	f.Add([]byte(`{"external_id":"c1","account_type":"N","last_name":"A"}` + "\n" +
		`{"relation_external_id":"r1","parent_customer_external_id":"c1","child_customer_external_id":"c1","relation_type":1}` + "\n"))
	f.Add([]byte("\n\n{\"relation_external_id\":null}\n"))
	f.Add([]byte(`{"external_id":`))
	f.Add([]byte(`{"relation_external_id":"r","fields":{"a":[1,{"b":null}]},"x":1}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(dir, "fuzz.ndjson")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		mock := mocktest.NewMock(t, mockserver.Config{})
		st, err := mock.Preload(context.Background(), "b", file)
		if err != nil {
			if !strings.Contains(err.Error(), file) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if st.Added > st.Customers || st.Rejected > st.Customers+st.Relations {
			t.Errorf("counts do not add up: %+v", st)
		}
	})
}
