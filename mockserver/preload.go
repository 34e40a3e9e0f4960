package mockserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/internal/words"
	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// DefaultPreloadMaxBytes is the largest file Preload reads when
// PreloadOptions.MaxFileBytes is 0: 4 GiB, about ten million customers of
// the fixtures' shape as NDJSON. Memory does not grow with the file (records
// are read one by one and saved a batch at a time); the limit stops a file
// that never ends.
const DefaultPreloadMaxBytes = 4 << 30

// PreloadExamples is how many rejected records PreloadStats.Examples keeps.
const PreloadExamples = 5

// PreloadOptions are the settings of Preload.
type PreloadOptions struct {
	// MaxFileBytes is the largest file read; DefaultPreloadMaxBytes when 0.
	MaxFileBytes int64
}

// PreloadStats counts what Preload saved, and says why records were rejected.
type PreloadStats struct {
	Files     int // files read
	Requests  int // save requests applied
	Customers int // customers in them
	Relations int // relations in them
	Added     int // customers created
	Rejected  int // records (customers or relations) rejected with errors
	// Codes counts the errors of the rejected records by code; nil when none.
	Codes map[string]int
	// Examples are the first PreloadExamples rejected records.
	Examples []PreloadRejection
}

// PreloadRejection is a record Preload saved that the rules rejected.
type PreloadRejection struct {
	File  string // the file it came from
	Where string // where in the file: "line 4", "customers[12]", "relations[0]"
	// Record is "customer" or "relation", ExternalID its external_id or
	// relation_external_id.
	Record, ExternalID string
	Error              openapi.Message // its first error
}

func (r PreloadRejection) String() string {
	return fmt.Sprintf("%s %s (%s %q): %s: %s", r.File, r.Where, r.Record, r.ExternalID, r.Error.Code, r.Error.Detail)
}

// CodesString lists Codes as "code count" pairs, most frequent first, e.g.
// "relation_customer_unknown 12, last_name_missing 1".
func (st PreloadStats) CodesString() string {
	codes := make([]string, 0, len(st.Codes))
	for c := range st.Codes {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if a, b := st.Codes[codes[i]], st.Codes[codes[j]]; a != b {
			return a > b
		}
		return codes[i] < codes[j]
	})
	for i, c := range codes {
		codes[i] = fmt.Sprintf("%s %d", c, st.Codes[c])
	}
	return strings.Join(codes, ", ")
}

// Preload saves data into business through Save, as if it had been posted to
// the save endpoint (every rule applies; records with errors are counted in
// Rejected, not saved), from paths. A path is a file or a folder; a folder's
// files are read in name order, and every one must be loadable (a file of
// another kind, a subfolder or a hidden file is named in the error, before
// anything is saved). A file is read by the end of its name:
//
//   - .json: a Save customers request body, such as one file of
//     algoreg-kit fixtures --format request, or the whole dataset of
//     --format json. It is read element by element, never whole;
//   - .ndjson or .jsonl: one object per line: a customer, a relation (an
//     object with relation_external_id and no external_id), or a whole Save
//     customers request body (an object with customers or relations; what
//     fixtures --format request writes to a stream); blank lines are skipped;
//   - .csv: a table of algoreg-kit fixtures --format csv, customers or (by
//     its header) relations.
//
// Only regular files are read (a named pipe or a device is refused, never
// opened), of at most opts.MaxFileBytes each. Each record is checked as the
// save endpoint checks it (the document's types, then the rules) and may be
// at most Rules().MaxBody bytes. The customers of every path are saved first,
// then the relations of every path, in requests of at most Rules().MaxBatch
// customers or Rules().MaxRelations relations: a relation may name customers
// of any file. Each record is decoded with the endpoint's limits
// (Rules().DecodeLimits), one by one. A
// file's verify_input and disable_risk_scan apply to all its records.
//
// It returns an error naming the file (and the line or the record) that
// cannot be read or decoded, and the counts of what was saved until then.
func (s *Server) Preload(ctx context.Context, business string, opts PreloadOptions, paths ...string) (PreloadStats, error) {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultPreloadMaxBytes
	}
	var files []*preloadFile
	for _, path := range paths {
		fs, err := preloadFiles(path)
		if err != nil {
			return PreloadStats{}, fmt.Errorf("preload %s: %w", path, err)
		}
		files = append(files, fs...)
	}
	p := &preloader{s: s, ctx: ctx, business: business, opts: opts}
	p.st.Files = len(files)
	for _, phase := range []phase{customersPhase, relationsPhase} {
		p.phase = phase
		for _, f := range files {
			if phase == relationsPhase && !f.relations {
				continue
			}
			if err := p.load(f); err != nil {
				return p.st, err
			}
		}
	}
	return p.st, nil
}

// preloadFile is one file to preload.
type preloadFile struct {
	path   string
	format string // "json", "ndjson" or "csv"
	// relations is set by the customers' phase when the file holds any, so
	// that the relations' phase reads only those files again.
	relations bool
	// relationsAt is where a JSON body's relations list starts (after its
	// key), so that the relations' phase reads from there; 0 if unknown.
	relationsAt int64
	// verify, disable are the file's verify_input and disable_risk_scan.
	verify, disable *bool
}

// preloadFormats maps the ends of file names to formats.
var preloadFormats = map[string]string{".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv"}

// preloadFiles lists the files of path: path itself, or every file of the
// folder path, in name order. It refuses what it cannot load, naming it.
func preloadFiles(path string) ([]*preloadFile, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if !info.IsDir() {
		f, err := preloadFileOf(path, info)
		if err != nil {
			return nil, err
		}
		return []*preloadFile{f}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	var files []*preloadFile
	var refused []string
	for _, e := range entries { // in name order
		name := filepath.Join(path, e.Name())
		info, err := os.Stat(name)
		switch {
		case err != nil:
			refused = append(refused, e.Name()+" ("+unwrapPath(err).Error()+")")
		case info.IsDir():
			refused = append(refused, e.Name()+" (a folder: preload reads one level)")
		case strings.HasPrefix(e.Name(), "."):
			refused = append(refused, e.Name()+" (a hidden file)")
		default:
			f, err := preloadFileOf(name, info)
			if err != nil {
				refused = append(refused, e.Name()+" ("+err.Error()+")")
				continue
			}
			files = append(files, f)
		}
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("the folder holds %s it cannot load: %s; move %s out of the folder", words.Count(len(refused), "file"), strings.Join(refused, ", "), either(len(refused) == 1, "it", "them"))
	}
	if len(files) == 0 {
		return nil, errors.New("the folder is empty; give a folder of .json, .ndjson, .jsonl or .csv files")
	}
	return files, nil
}

// preloadFileOf checks that the file name, of info, is one preload reads.
func preloadFileOf(name string, info fs.FileInfo) (*preloadFile, error) {
	if kind := irregular(info.Mode()); kind != "" {
		return nil, fmt.Errorf("not a regular file but %s; give a file or a folder of files", kind)
	}
	format, ok := preloadFormats[strings.ToLower(filepath.Ext(name))]
	if !ok {
		return nil, errors.New("not a .json, .ndjson, .jsonl or .csv file")
	}
	return &preloadFile{path: name, format: format}, nil
}

// irregular names what a file of mode m is, when it is not a regular file.
func irregular(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "an irregular file"
}

// unwrapPath drops the operation and path of a *fs.PathError, which the
// callers name themselves.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func either[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

// open opens f for reading, checking again that it is the regular file
// listed, and bounds what is read to the size limit.
func (p *preloader) open(f *preloadFile) (*os.File, *limitedFile, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, nil, fmt.Errorf("preload %s: %w", f.path, unwrapPath(err))
	}
	info, err := fh.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file but %s", irregular(info.Mode()))
	}
	if err == nil && info.Size() > p.opts.MaxFileBytes {
		err = p.tooLarge()
	}
	if err != nil {
		fh.Close()
		return nil, nil, fmt.Errorf("preload %s: %w", f.path, err)
	}
	return fh, &limitedFile{r: fh, max: p.opts.MaxFileBytes, err: p.tooLarge()}, nil
}

func (p *preloader) tooLarge() error {
	return fmt.Errorf("the file is larger than the preload limit of %d bytes; raise it with --preload-max-bytes", p.opts.MaxFileBytes)
}

// limitedFile reads at most max bytes of r, then fails with err; until then
// it fails with mark's error when mark is set and returns one.
type limitedFile struct {
	r    io.Reader
	n    int64
	max  int64
	err  error
	mark func(read int64) error
}

func (l *limitedFile) Read(b []byte) (int, error) {
	if l.n > l.max {
		return 0, l.err
	}
	if l.mark != nil {
		if err := l.mark(l.n); err != nil {
			return 0, err
		}
	}
	if rest := l.max + 1 - l.n; int64(len(b)) > rest {
		b = b[:rest]
	}
	n, err := l.r.Read(b)
	l.n += int64(n)
	return n, err
}
