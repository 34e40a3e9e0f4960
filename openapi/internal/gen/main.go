// Command gen writes the Go code that repeats the document's request schemas,
// from openapi.yaml: the model's structs and the property-name lists
// (model_gen.go), the decoder's per-schema field dispatch (decode_gen.go) and
// the fixtures encoder (../fixtures/encode_gen.go). go generate runs it in
// package openapi's directory:
//
//	go generate ./openapi/...
//
// A test of this package fails while the files on disk differ from what it
// would write.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %s\n", err)
		os.Exit(1)
	}
}

// run regenerates the files of the openapi directory dir.
func run(dir string) error {
	files, err := generateFrom(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.path), f.src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// file is one generated file, its path relative to the openapi directory.
type file struct {
	path string
	src  []byte
}

// generateFrom reads openapi.yaml in the openapi directory dir and returns
// the generated files.
func generateFrom(dir string) ([]file, error) {
	src, err := os.ReadFile(filepath.Join(dir, "openapi.yaml"))
	if err != nil {
		return nil, err
	}
	return generate(src)
}

// generate returns the generated files for the document src.
func generate(src []byte) ([]file, error) {
	doc, err := parseDocument(src)
	if err != nil {
		return nil, err
	}
	structs, err := buildModel(doc)
	if err != nil {
		return nil, err
	}
	var out []file
	for _, g := range []struct {
		path string
		emit func([]goStruct) ([]byte, error)
	}{
		{"model_gen.go", emitModel},
		{"decode_gen.go", emitDecoder},
		{filepath.Join("..", "fixtures", "encode_gen.go"), emitEncoder},
	} {
		b, err := g.emit(structs)
		if err != nil {
			return nil, err
		}
		out = append(out, file{g.path, b})
	}
	return out, nil
}
