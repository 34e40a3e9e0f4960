package mockserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// PreloadStats counts what Preload saved.
type PreloadStats struct {
	Files     int // files read
	Requests  int // save requests applied
	Customers int // customers in them
	Relations int // relations in them
	Added     int // customers created
	Rejected  int // records (customers or relations) rejected with errors
}

// preloadBatch is how many NDJSON customers go into one save.
const preloadBatch = 1000

// Preload saves data into business, as if it had been posted to the save
// endpoint (every rule applies; records with errors are counted in Rejected,
// not saved), from each of paths in turn. A path is one of:
//
//   - a Save customers request body (a JSON file);
//   - a folder of such bodies named batch-*.json, applied in name order;
//   - an NDJSON file (name ending in .ndjson or .jsonl): one customer or
//     relation object per line (a relation is an object with
//     relation_external_id and no external_id), saved in batches of 1,000
//     records (blank lines are skipped). A batch applies its customers before
//     its relations; a relation whose customers come in a later batch is
//     rejected, so put relations after their customers, or in a file of
//     their own given after the customers' (what algoreg-kit fixtures
//     --relations-out writes).
//
// It returns an error naming the file (and line, for NDJSON) that cannot be
// read or decoded, and the counts of what was saved until then.
func (s *Server) Preload(ctx context.Context, business string, paths ...string) (PreloadStats, error) {
	var st PreloadStats
	for _, path := range paths {
		if err := s.preloadPath(ctx, business, path, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (s *Server) preloadPath(ctx context.Context, business, path string, st *PreloadStats) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	var files []string
	if info.IsDir() {
		files, err = filepath.Glob(filepath.Join(path, "batch-*.json"))
		if err != nil {
			return fmt.Errorf("preload: %w", err)
		}
		if len(files) == 0 {
			return fmt.Errorf("preload: folder %s has no batch-*.json files", path)
		}
		sort.Strings(files)
	} else {
		files = []string{path}
	}
	for _, f := range files {
		st.Files++
		ext := strings.ToLower(filepath.Ext(f))
		if !info.IsDir() && (ext == ".ndjson" || ext == ".jsonl") {
			err = s.preloadNDJSON(ctx, business, f, st)
		} else {
			err = s.preloadBody(ctx, business, f, st)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) preloadBody(ctx context.Context, business, file string, st *PreloadStats) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	req, err := openapi.DecodeSaveCustomers(body)
	if err != nil {
		return fmt.Errorf("preload %s: %w", file, err)
	}
	return s.preloadSave(ctx, business, req, st)
}

func (s *Server) preloadSave(ctx context.Context, business string, req *openapi.SaveCustomersRequest, st *PreloadStats) error {
	_, stats, err := s.Save(ctx, business, req)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	st.Requests++
	st.Customers += stats.Customers
	st.Relations += stats.Relations
	st.Added += stats.Added
	st.Rejected += stats.Errors
	return nil
}

func (s *Server) preloadNDJSON(ctx context.Context, business, file string, st *PreloadStats) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	req := &openapi.SaveCustomersRequest{}
	line := 0
	for {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 {
			line++
			if b = bytes.TrimSpace(b); len(b) > 0 {
				if err := preloadLine(req, b); err != nil {
					return fmt.Errorf("preload %s line %d: %w", file, line, err)
				}
				if len(req.Customers)+len(req.Relations) == preloadBatch {
					if err := s.preloadSave(ctx, business, req, st); err != nil {
						return err
					}
					req = &openapi.SaveCustomersRequest{}
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("preload %s: %w", file, err)
		}
	}
	if len(req.Customers)+len(req.Relations) > 0 {
		return s.preloadSave(ctx, business, req, st)
	}
	return nil
}

// preloadLine adds the record of one NDJSON line to req: the line is decoded
// as the one customer of a request, and, when it turns out to have no
// external_id but a relation_external_id, again as the one relation of one.
func preloadLine(req *openapi.SaveCustomersRequest, line []byte) error {
	one, err := decodeLine(`{"customers":[`, line)
	if err != nil {
		return err
	}
	if len(one.Customers) != 1 {
		return errors.New("want one customer or relation object per line")
	}
	c := one.Customers[0]
	if _, isRelation := c.Extra["relation_external_id"]; !isRelation || c.ExternalID != nil {
		req.Customers = append(req.Customers, c)
		return nil
	}
	if one, err = decodeLine(`{"relations":[`, line); err != nil {
		return err
	}
	req.Relations = append(req.Relations, one.Relations[0])
	return nil
}

// decodeLine decodes line as the only item of the list that prefix opens.
func decodeLine(prefix string, line []byte) (*openapi.SaveCustomersRequest, error) {
	body := make([]byte, 0, len(prefix)+len(line)+2)
	body = append(append(append(body, prefix...), line...), ']', '}')
	one, err := openapi.DecodeSaveCustomers(body)
	if err != nil {
		var se *openapi.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("malformed JSON near byte %d of the line: %s", max(0, se.Offset-int64(len(prefix))), se.Msg)
		}
		return nil, err
	}
	return one, nil
}
