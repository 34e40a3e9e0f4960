package mockserver

import (
	"context"
	"fmt"
	"strconv"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// phase is what a pass over the files saves: customers, then relations.
type phase int

const (
	customersPhase phase = iota
	relationsPhase
)

// preloader saves the records of the files, a batch at a time.
type preloader struct {
	s        *Server
	ctx      context.Context
	business string
	opts     PreloadOptions
	phase    phase
	st       PreloadStats

	file  *preloadFile
	saved bool // a batch of file was saved
	req   openapi.SaveCustomersRequest
	where []int // where each record of req is in the file (see place)
}

// load reads f, saving its records of the phase.
func (p *preloader) load(f *preloadFile) error {
	p.file, p.saved = f, false
	p.req = openapi.SaveCustomersRequest{VerifyInput: f.verify, DisableRiskScan: f.disable}
	fh, r, err := p.open(f)
	if err != nil {
		return err
	}
	defer fh.Close()
	switch {
	case f.format == "json" && p.phase == relationsPhase && f.relationsAt > 0:
		err = p.readJSONRelations(fh, r)
	case f.format == "json":
		err = p.readJSON(r)
	case f.format == "ndjson":
		err = p.readNDJSON(r)
	case f.format == "csv":
		err = p.readCSV(r)
	}
	if err == nil {
		err = p.flush()
	}
	return err
}

// customer adds c, found at where in the file, to the batch (in the
// customers' phase).
func (p *preloader) customer(c openapi.Customer, where int) error {
	if p.phase != customersPhase {
		return nil
	}
	p.req.Customers = append(p.req.Customers, c)
	p.where = append(p.where, where)
	return p.flushFull()
}

// relation adds r, found at where in the file, to the batch (in the
// relations' phase; the customers' phase notes that the file has some).
func (p *preloader) relation(r openapi.Relation, where int) error {
	if p.phase != relationsPhase {
		p.file.relations = true
		return nil
	}
	p.req.Relations = append(p.req.Relations, r)
	p.where = append(p.where, where)
	return p.flushFull()
}

// wants says whether the phase saves records of the list key ("customers"
// or "relations"); the other list is skipped without decoding its records,
// once the customers' phase has seen that it has some.
func (p *preloader) wants(key string) bool {
	if key == "relations" && p.phase == customersPhase {
		p.file.relations = true
		return false
	}
	return key == "customers" && p.phase == customersPhase || key == "relations" && p.phase == relationsPhase
}

// flags sets the file's verify_input and disable_risk_scan. They apply to
// all its records, so they cannot change once a batch of it is saved.
func (p *preloader) flags(verify, disable *bool) error {
	f := p.file
	if p.saved && (!sameBool(verify, f.verify) || !sameBool(disable, f.disable)) {
		return fmt.Errorf("preload %s: verify_input or disable_risk_scan comes after a batch of the file was saved without it (the file has more records than one request may hold: --max-batch, --max-relations); put them before the records", f.path)
	}
	f.verify, f.disable = verify, disable
	p.req.VerifyInput, p.req.DisableRiskScan = verify, disable
	return nil
}

func sameBool(a, b *bool) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// flushFull saves the batch when it holds as many records as a request may:
// MaxBatch customers, or MaxRelations relations.
func (p *preloader) flushFull() error {
	if len(p.req.Customers) < p.s.rules.MaxBatch && len(p.req.Relations) < p.s.rules.MaxRelations {
		return nil
	}
	return p.flush()
}

// flush saves the batch, if any, counts what was saved, and notes what was
// rejected.
func (p *preloader) flush() error {
	req := &p.req
	if len(req.Customers)+len(req.Relations) == 0 {
		return nil
	}
	resp, stats, err := p.s.Save(p.ctx, p.business, req)
	if err != nil {
		return fmt.Errorf("preload %s: %w", p.file.path, err)
	}
	st := &p.st
	st.Requests++
	st.Customers += stats.Customers
	st.Relations += stats.Relations
	st.Added += stats.Added
	st.Rejected += stats.Errors
	p.rejected(resp.Detail)
	p.saved = true
	p.req = openapi.SaveCustomersRequest{VerifyInput: req.VerifyInput, DisableRiskScan: req.DisableRiskScan}
	p.where = p.where[:0]
	return nil
}

// rejected counts the errors of the records of detail by code, and keeps the
// first examples. A save's detail lists records in request order, each at
// most once, by external_id: the k-th entry is the next record of the batch
// with its id.
func (p *preloader) rejected(detail []openapi.RecordDetail) {
	ids := func(i int) *string { return p.req.Customers[i].ExternalID }
	n, record := len(p.req.Customers), "customer"
	if p.phase == relationsPhase {
		ids = func(i int) *string { return p.req.Relations[i].RelationExternalID }
		n, record = len(p.req.Relations), "relation"
	}
	next := 0
	for _, d := range detail {
		for next < n && orEmpty(ids(next)) != d.ExternalID {
			next++
		}
		if len(d.Errors) == 0 {
			next++
			continue
		}
		if p.st.Codes == nil {
			p.st.Codes = map[string]int{}
		}
		for _, m := range d.Errors {
			p.st.Codes[m.Code]++
		}
		if len(p.st.Examples) < PreloadExamples && next < n {
			p.st.Examples = append(p.st.Examples, PreloadRejection{
				File: p.file.path, Where: p.place(record, p.where[next]), Record: record, ExternalID: d.ExternalID, Error: d.Errors[0],
			})
		}
		next++
	}
}

// place says where record number at is in the file: a line of NDJSON and CSV,
// an index in a JSON body's list.
func (p *preloader) place(record string, at int) string {
	if p.file.format != "json" {
		return "line " + strconv.Itoa(at)
	}
	return record + "s[" + strconv.Itoa(at) + "]"
}

func orEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
