package mockserver_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/algoreg-kit/algoreg-kit/mockserver"
	"github.com/algoreg-kit/algoreg-kit/mockserver/mocktest"
	"github.com/algoreg-kit/algoreg-kit/rules"
	"github.com/algoreg-kit/algoreg-kit/store"
)

const (
	preC1 = `{"external_id":"c1","account_type":"N","last_name":"A"}`
	preC2 = `{"external_id":"c2","account_type":"F","company_name":"B"}`
	preR1 = `{"relation_external_id":"r1","parent_customer_external_id":"c2","child_customer_external_id":"c1","relation_type":1}`
)

// stored returns how many customers and relations business b holds.
func stored(t *testing.T, mock *mockserver.Server, b string) (customers, relations int) {
	t.Helper()
	require.NoError(t, mock.Store().View(context.Background(), b, func(tx store.Tx) error {
		var err error
		if _, customers, err = tx.Customers(0, 0); err != nil {
			return err
		}
		_, relations, err = tx.Relations(0, 0)
		return err
	}))
	return customers, relations
}

// writeFiles writes name → content under a new folder and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return dir
}

// NDJSON preload takes customer, relation and whole-body lines, saves every
// customer before any relation, and names the line of anything it cannot
// read.
func TestPreloadNDJSON(t *testing.T) {
	tests := []struct {
		name                 string
		lines                []string
		wantErr              string
		customers, relations int // in the store afterwards
		stats                mockserver.PreloadStats
	}{
		{"customers then a relation", []string{preC1, preC2, "", preR1}, "", 2, 1,
			mockserver.PreloadStats{Files: 1, Requests: 2, Customers: 2, Relations: 1, Added: 2}},
		{"a relation before its customers", []string{preR1, preC1, preC2}, "", 2, 1,
			mockserver.PreloadStats{Files: 1, Requests: 2, Customers: 2, Relations: 1, Added: 2}},
		{"request bodies, one per line", []string{`{"customers":[` + preC1 + `,` + preC2 + `],"relations":[` + preR1 + `]}`}, "", 2, 1,
			mockserver.PreloadStats{Files: 1, Requests: 2, Customers: 2, Relations: 1, Added: 2}},
		{"external_id wins: a customer with a stray key", []string{`{"external_id":"c3","account_type":"N","last_name":"C","relation_external_id":"x"}`}, "", 1, 0,
			mockserver.PreloadStats{Files: 1, Requests: 1, Customers: 1, Added: 1}},
		{"verify_input in body lines: nothing stored", []string{`{"customers":[` + preC1 + `],"verify_input":true}`}, "", 0, 0,
			mockserver.PreloadStats{Files: 1, Requests: 1, Customers: 1}},
		{"malformed relation line", []string{preC1, `{"relation_external_id":"r1","relation_type":"x"}`}, "line 2: relation does not match the OpenAPI document: /relation_type: ", 0, 0, mockserver.PreloadStats{}},
		{"a customer of the wrong type", []string{`{"external_id":"c1","kyc_level":"high"}`}, "line 1: customer does not match the OpenAPI document: /kyc_level: ", 0, 0, mockserver.PreloadStats{}},
		{"broken JSON", []string{preC1, `{"external_id":`}, "line 2: malformed JSON", 0, 0, mockserver.PreloadStats{}},
		{"two records on a line", []string{preC1 + "," + preC2}, "line 1: want one customer or relation object", 0, 0, mockserver.PreloadStats{}},
		{"not an object", []string{`[1]`}, "line 1: customer does not match the OpenAPI document: ", 0, 0, mockserver.PreloadStats{}},
		{"over a request limit", []string{`{"external_id":"` + strings.Repeat("x", 5000) + `"}`}, `line 1: the string at "/external_id" is longer than 1024 bytes; --max-id-length changes the limit`, 0, 0, mockserver.PreloadStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "data.ndjson")
			require.NoError(t, os.WriteFile(file, []byte(strings.Join(tt.lines, "\n")+"\n"), 0o600))
			mock := mocktest.NewMock(t, mockserver.Config{})
			st, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, file)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), file+" "+tt.wantErr)
				assert.NotContains(t, err.Error(), "\n")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.stats, st)
			nc, nr := stored(t, mock, "b")
			assert.Equal(t, tt.customers, nc, "customers stored")
			assert.Equal(t, tt.relations, nr, "relations stored")
		})
	}
}

// Only regular files are read: a named pipe, a device or a socket is
// refused with one line naming it, without opening it (a FIFO would block,
// /dev/zero would never end); every file of a folder is loaded or named.
func TestPreloadRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.ndjson")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	sock := filepath.Join(dir, "s.json")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ln.Close()
	mixed := writeFiles(t, map[string]string{"batch-1.json": `{"customers":[` + preC1 + `]}`, "notes.txt": "x", "sub/x.json": "{}", ".hidden": ""})
	withFIFO := writeFiles(t, map[string]string{"a.json": `{}`})
	require.NoError(t, syscall.Mkfifo(filepath.Join(withFIFO, "b.json"), 0o600))
	files := writeFiles(t, map[string]string{"big.json": `{"customers":[` + preC1 + `]}`, "body.txt": `{}`, "long.ndjson": `{"external_id":"` + strings.Repeat("x", 2000) + `"}`,
		"long.json": `{"customers":[{"external_id":"` + strings.Repeat("x", 2000) + `"}]}`, "junk.json": `{"unknown":"` + strings.Repeat("x", 2000) + `"}`})
	tests := []struct {
		name, path string
		opts       mockserver.PreloadOptions
		wantErr    string
	}{
		{"a FIFO", fifo, mockserver.PreloadOptions{}, "preload " + fifo + ": not a regular file but a named pipe (FIFO)"},
		{"a device", "/dev/zero", mockserver.PreloadOptions{}, "preload /dev/zero: not a regular file but a character device"},
		{"a socket", sock, mockserver.PreloadOptions{}, "not a regular file but a socket"},
		{"missing", filepath.Join(dir, "none.json"), mockserver.PreloadOptions{}, "none.json: no such file or directory"},
		{"a folder with other files", mixed, mockserver.PreloadOptions{}, "preload " + mixed + ": the folder holds 3 files it cannot load: .hidden (a hidden file), notes.txt (not a .json, .ndjson, .jsonl or .csv file), sub (a folder: preload reads one level); move them out of the folder"},
		{"a folder with a FIFO", withFIFO, mockserver.PreloadOptions{}, "b.json (not a regular file but a named pipe (FIFO)"},
		{"an empty folder", t.TempDir(), mockserver.PreloadOptions{}, "the folder is empty"},
		{"over the size limit", filepath.Join(files, "big.json"), mockserver.PreloadOptions{MaxFileBytes: 20}, "big.json: the file is larger than the preload limit of 20 bytes; raise it with --preload-max-bytes"},
		{"an unknown extension", filepath.Join(files, "body.txt"), mockserver.PreloadOptions{}, "body.txt: not a .json, .ndjson, .jsonl or .csv file"},
		{"a line over the body limit", filepath.Join(files, "long.ndjson"), mockserver.PreloadOptions{}, "long.ndjson line 1: the line is longer than the body limit of 1024 bytes (--max-body)"},
		{"a record over the body limit", filepath.Join(files, "long.json"), mockserver.PreloadOptions{}, "long.json: in customers[0] (after byte offset 14): the value is larger than the body limit of 1024 bytes (--max-body)"},
		{"a value over the body limit", filepath.Join(files, "junk.json"), mockserver.PreloadOptions{}, "is larger than the body limit of 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rules.DefaultConfig()
			cfg.MaxBody = 1024
			mock := mocktest.NewMock(t, mockserver.Config{Rules: &cfg})
			st, err := mock.Preload(context.Background(), "b", tt.opts, tt.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n")
			assert.Zero(t, st.Requests, "nothing saved")
		})
	}
}

// A JSON body is read record by record and saved MaxBatch customers (or
// MaxRelations relations) at a time; the customers of every file come before
// any relation, whatever the order of the files; and every file of a folder
// is loaded.
func TestPreloadStreamsAndOrders(t *testing.T) {
	var customers, relations []string
	for i := range 25 {
		customers = append(customers, fmt.Sprintf(`{"external_id":"c%d","account_type":"N","last_name":"L%d"}`, i, i))
		if i > 0 {
			relations = append(relations, fmt.Sprintf(`{"relation_external_id":"r%d","parent_customer_external_id":"c%d","child_customer_external_id":"c0","relation_type":1}`, i, i))
		}
	}
	body := `{"relations":[` + strings.Join(relations, ",\n") + `],"customers":[` + strings.Join(customers, ",\n") + "]}"
	dir := writeFiles(t, map[string]string{
		"one.json":              body,
		"folder/batch-1.json":   `{"customers":[` + preC1 + `]}`,
		"folder/batch-2.jsonl":  preR1,
		"folder/batch-3.ndjson": preC2,
		"rels.ndjson":           strings.Join(relations, "\n"),
		"custs.ndjson":          strings.Join(customers, "\n"),
	})
	tests := []struct {
		name                      string
		paths                     []string
		requests, nc, nr, skipped int
	}{
		{"one body, relations first, over the batch size", []string{"one.json"}, 3 + 3, 25, 24, 0},
		{"a folder of three formats", []string{"folder"}, 2 + 1, 2, 1, 0},
		{"relations given before their customers", []string{"rels.ndjson", "custs.ndjson"}, 3 + 3, 25, 24, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rules.DefaultConfig()
			cfg.MaxBatch, cfg.MaxRelations = 10, 10
			mock := mocktest.NewMock(t, mockserver.Config{Rules: &cfg})
			var paths []string
			for _, p := range tt.paths {
				paths = append(paths, filepath.Join(dir, p))
			}
			st, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, paths...)
			require.NoError(t, err)
			assert.Equal(t, tt.requests, st.Requests, "requests")
			assert.Zero(t, st.Rejected, "%+v", st)
			nc, nr := stored(t, mock, "b")
			assert.Equal(t, tt.nc, nc, "customers stored")
			assert.Equal(t, tt.nr, nr, "relations stored")
		})
	}
}

// JSON bodies that cannot be read are named, with where.
func TestPreloadJSONErrors(t *testing.T) {
	many := strings.Repeat(preC1+",", 10) + preC2
	tests := []struct{ name, body, wantErr string }{
		{"malformed", `{"customers":[{"external_id":}]}`, "malformed JSON in customers[0] (after byte offset 14): invalid character '}' looking for beginning of value"},
		{"cut short", `{"customers":[` + preC1, "the file ends inside a JSON value"},
		{"not an object", `[` + preC1 + `]`, "not a Save customers request body"},
		{"customers not a list", `{"customers":{}}`, "/customers: value must be an array"},
		{"a customer of the wrong type", `{"customers":[` + preC1 + `,{"external_id":"x","disabled":"no"}]}`, "customers[1]: customer does not match the OpenAPI document: /disabled: "},
		{"a key twice", `{"customers":[],"customers":[]}`, `the key "customers" appears twice`},
		{"verify_input of the wrong type", `{"verify_input":"yes"}`, "/verify_input: "},
		{"verify_input after a saved batch", `{"customers":[` + many + `],"verify_input":true}`, "verify_input or disable_risk_scan comes after a batch of the file was saved without it"},
		{"data after the object", `{} {}`, "more data after the top-level object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "body.json")
			require.NoError(t, os.WriteFile(file, []byte(tt.body), 0o600))
			cfg := rules.DefaultConfig()
			cfg.MaxBatch = 10
			mock := mocktest.NewMock(t, mockserver.Config{Rules: &cfg})
			_, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, file)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "preload "+file)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// A body's verify_input applies to all its records (fixtures writes it
// after the lists): nothing is stored.
func TestPreloadVerifyInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"customers":[`+preC1+`,`+preC2+`],"relations":[`+preR1+`],"verify_input":true}`), 0o600))
	mock := mocktest.NewMock(t, mockserver.Config{})
	st, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, file)
	require.NoError(t, err)
	assert.Equal(t, 0, st.Added)
	nc, nr := stored(t, mock, "b")
	assert.Equal(t, [2]int{0, 0}, [2]int{nc, nr})
}

// A preload that rejects records says why: errors by code, and the first
// records with where they are in their file.
func TestPreloadRejections(t *testing.T) {
	var lines []string
	for i := range 8 {
		lines = append(lines, fmt.Sprintf(`{"external_id":"n%d","account_type":"N"}`, i)) // last_name_missing
	}
	lines = append(lines, preC1, `{"relation_external_id":"r9","parent_customer_external_id":"nobody","child_customer_external_id":"c1","relation_type":1}`)
	file := filepath.Join(t.TempDir(), "data.ndjson")
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600))
	body := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(body, []byte(`{"customers":[`+preC2+`,{"account_type":"F","company_name":"X"}]}`), 0o600))
	mock := mocktest.NewMock(t, mockserver.Config{})
	st, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, file, body)
	require.NoError(t, err)
	assert.Equal(t, 10, st.Rejected)
	assert.Equal(t, map[string]int{"last_name_missing": 8, "relation_customer_unknown": 1, "external_id_missing": 1}, st.Codes)
	assert.Equal(t, "last_name_missing 8, external_id_missing 1, relation_customer_unknown 1", st.CodesString())
	require.Len(t, st.Examples, mockserver.PreloadExamples)
	assert.Equal(t, mockserver.PreloadRejection{File: file, Where: "line 1", Record: "customer", ExternalID: "n0",
		Error: st.Examples[0].Error}, st.Examples[0])
	assert.Equal(t, "last_name_missing", st.Examples[0].Error.Code)
	assert.Equal(t, "line 5", st.Examples[4].Where)
	assert.True(t, strings.HasPrefix(st.Examples[0].String(), file+` line 1 (customer "n0"): last_name_missing: `), st.Examples[0].String())

	// the same, with the body first: its nameless customer is customers[1]
	mock = mocktest.NewMock(t, mockserver.Config{})
	st, err = mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, body, file)
	require.NoError(t, err)
	assert.Equal(t, mockserver.PreloadRejection{File: body, Where: "customers[1]", Record: "customer", Error: st.Examples[0].Error}, st.Examples[0])
	assert.Equal(t, "external_id_missing", st.Examples[0].Error.Code)
}

// FuzzPreloadNDJSON feeds arbitrary NDJSON files to Preload: it must return
// an error or counts that add up, never panic or hang.
func FuzzPreloadNDJSON(f *testing.F) {
	f.Add([]byte(`{"external_id":"c1","account_type":"N","last_name":"A"}` + "\n" +
		`{"relation_external_id":"r1","parent_customer_external_id":"c1","child_customer_external_id":"c1","relation_type":1}` + "\n"))
	f.Add([]byte("\n\n{\"relation_external_id\":null}\n"))
	f.Add([]byte(`{"external_id":`))
	f.Add([]byte(`{"relation_external_id":"r","fields":{"a":[1,{"b":null}]},"x":1}`))
	f.Add([]byte(`{"customers":[{"external_id":"c1"}],"relations":[{}],"verify_input":false}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(dir, "fuzz.ndjson")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		mock := mocktest.NewMock(t, mockserver.Config{})
		st, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, file)
		if err != nil {
			if !strings.Contains(err.Error(), file) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q does not name the file in one line", err)
			}
			return
		}
		if st.Added > st.Customers || st.Rejected > st.Customers+st.Relations {
			t.Errorf("counts do not add up: %+v", st)
		}
	})
}

// CSV tables of algoreg-kit fixtures preload like the other formats, each
// record checked as a save checks it; a bad cell names its line and column.
func TestPreloadCSV(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"relations.csv": "relation_external_id,parent_customer_external_id,child_customer_external_id,relation_type,disabled\nr1,c2,c1,1,\n",
		"customers.csv": "external_id,account_type,first_name,last_name,company_name,kyc_level,variations\nc1,N,Ann,Lee,,1,Ann Marie Lee\nc2,F,,,Acme SA,2,ACME\nc3,N,,,,,\n",
		"bad.csv":       "external_id,kyc_level\nc1,1\nc2,high\n",
		"long.csv":      "external_id,last_name\nc1," + strings.Repeat("x", 2000) + "\n",
		"unknown.csv":   "external_id,nickname\nc1,x\n",
	})
	mock := mocktest.NewMock(t, mockserver.Config{})
	st, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, filepath.Join(dir, "relations.csv"), filepath.Join(dir, "customers.csv"))
	require.NoError(t, err)
	assert.Equal(t, 2, st.Added)
	assert.Equal(t, map[string]int{"last_name_missing": 1}, st.Codes)
	require.Len(t, st.Examples, 1)
	assert.Equal(t, "line 4", st.Examples[0].Where)
	nc, nr := stored(t, mock, "b")
	assert.Equal(t, [2]int{2, 1}, [2]int{nc, nr})

	for name, wantErr := range map[string]string{
		"bad.csv":     `bad.csv line 3, kyc_level: "high" is not an integer`,
		"long.csv":    "long.csv line 2: the value is larger than the body limit of 1024 bytes (--max-body)",
		"unknown.csv": `unknown.csv line 1: "nickname" is not a column of the fixtures' CSV customers' table`,
	} {
		cfg := rules.DefaultConfig()
		cfg.MaxBody = 1024
		mock := mocktest.NewMock(t, mockserver.Config{Rules: &cfg})
		_, err := mock.Preload(context.Background(), "b", mockserver.PreloadOptions{}, filepath.Join(dir, name))
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), "preload "+filepath.Join(dir, wantErr))
		}
	}
}
