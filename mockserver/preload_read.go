package mockserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/algoreg-kit/algoreg-kit/fixtures"
	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// readJSON reads a Save customers request body token by token: each record
// of its customers and relations lists is decoded on its own, as the save
// endpoint decodes it, and handed to the batch, so memory holds one batch,
// whatever the size of the file.
func (p *preloader) readJSON(r *limitedFile) error {
	dec := json.NewDecoder(r)
	r.mark = p.recordLimit(func() int64 { return dec.InputOffset() })
	if tok, err := dec.Token(); err != nil {
		return p.jsonErr(dec, err)
	} else if tok != json.Delim('{') {
		return fmt.Errorf("preload %s: not a Save customers request body (a JSON object with customers and relations); name a file of one record per line .ndjson", p.file.path)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p.jsonErr(dec, err)
		}
		key := tok.(string) // an object's keys are strings
		if seen[key] {
			return fmt.Errorf("preload %s: the key %q appears twice at the top level; keep one", p.file.path, key)
		}
		seen[key] = true
		if key == "relations" && p.phase == customersPhase {
			p.file.relationsAt = dec.InputOffset()
		}
		if key == "customers" || key == "relations" {
			err = p.jsonList(dec, key)
		} else {
			err = p.jsonTop(dec, key)
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return p.jsonErr(dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("more data after the top-level object")
		}
		return p.jsonErr(dec, err)
	}
	return nil
}

// readJSONRelations reads the relations list of a JSON body from where the
// customers' phase found it (the rest of the body was read then), without
// reading the customers again.
func (p *preloader) readJSONRelations(fh *os.File, r *limitedFile) error {
	if _, err := fh.Seek(p.file.relationsAt, io.SeekStart); err != nil {
		return fmt.Errorf("preload %s: %w", p.file.path, err)
	}
	br := bufio.NewReader(r)
	skipped := int64(0)
	for { // the white space and the colon between the key and its value
		c, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("preload %s: %w", p.file.path, err)
		}
		if skipped++; c == ':' {
			break
		}
	}
	dec := json.NewDecoder(br)
	r.mark = p.recordLimit(func() int64 { return skipped + dec.InputOffset() })
	return p.jsonList(dec, "relations")
}

// jsonList reads the list key ("customers" or "relations") of a body,
// element by element.
func (p *preloader) jsonList(dec *json.Decoder, key string) error {
	tok, err := dec.Token()
	if err != nil {
		return p.jsonErr(dec, err)
	}
	if tok == nil { // null: absent
		return nil
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("preload %s: request does not match the OpenAPI document: /%s: value must be an array", p.file.path, key)
	}
	want := key == "customers" && p.phase == customersPhase || key == "relations" && p.phase == relationsPhase
	for i := 0; dec.More(); i++ {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == nil && int64(len(raw)) > p.s.rules.MaxBody {
			return fmt.Errorf("preload %s: in %s[%d] (after byte offset %d): %w", p.file.path, key, i, start, p.tooLong())
		} else if err != nil {
			return p.jsonErr(dec, fmt.Errorf("in %s[%d] (after byte offset %d): %w", key, i, start, err))
		}
		if !want {
			if key == "relations" {
				p.file.relations = true
			}
			continue
		}
		one, err := p.s.decodeRecord(key, raw)
		if err != nil {
			return fmt.Errorf("preload %s %s[%d]: %w", p.file.path, key, i, err)
		}
		if key == "customers" {
			err = p.customer(one.Customers[0], i)
		} else {
			err = p.relation(one.Relations[0], i)
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return p.jsonErr(dec, err)
	}
	return nil
}

// jsonTop reads the value of a top-level key other than the lists:
// verify_input and disable_risk_scan are decoded as the endpoint decodes
// them; other keys are dropped, as the endpoint drops them.
func (p *preloader) jsonTop(dec *json.Decoder, key string) error {
	start := dec.InputOffset()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return p.jsonErr(dec, fmt.Errorf("in the value of %q (after byte offset %d): %w", key, start, err))
	}
	if key != "verify_input" && key != "disable_risk_scan" {
		return nil
	}
	body := append(append(append([]byte(`{"`), key...), `":`...), raw...)
	req, err := openapi.DecodeSaveCustomers(append(body, '}'))
	if err != nil {
		return fmt.Errorf("preload %s: %w", p.file.path, err)
	}
	verify, disable := p.file.verify, p.file.disable
	if key == "verify_input" {
		verify = req.VerifyInput
	} else {
		disable = req.DisableRiskScan
	}
	return p.flags(verify, disable)
}

// jsonErr says what is wrong with the JSON of the file, where. (The offsets
// of encoding/json.Decoder's syntax errors are not the file's: the error
// says after which offset, the decoder's position before the value.)
func (p *preloader) jsonErr(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		if err == error(se) { // from Token: not wrapped with where
			return fmt.Errorf("preload %s: malformed JSON after byte offset %d: %w", p.file.path, dec.InputOffset(), err)
		}
		return fmt.Errorf("preload %s: malformed JSON %w", p.file.path, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("preload %s: the file ends inside a JSON value (after byte offset %d); is it cut short?", p.file.path, dec.InputOffset())
	}
	return fmt.Errorf("preload %s: %w", p.file.path, err)
}

// tooLong is the error of a record over the body limit.
func (p *preloader) tooLong() error {
	return fmt.Errorf("the value is larger than the body limit of %d bytes (--max-body)", p.s.rules.MaxBody)
}

// recordLimit returns a mark for limitedFile that fails once the bytes read
// beyond the reader's position, offset, pass the body limit: one record
// larger than a body could be cannot fill the memory.
func (p *preloader) recordLimit(offset func() int64) func(int64) error {
	limit := p.s.rules.MaxBody
	return func(read int64) error {
		if read-offset() > limit {
			return p.tooLong()
		}
		return nil
	}
}

// readNDJSON reads one record per line: a customer, a relation (an object
// with relation_external_id and no external_id), or a whole request body (an
// object with customers or relations and no external_id).
func (p *preloader) readNDJSON(r *limitedFile) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for line := 1; ; line++ {
		b, err := readLine(br, p.s.rules.MaxBody, buf[:0])
		buf = b
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("preload %s line %d: %w", p.file.path, line, err)
		}
		if b = bytes.TrimSpace(b); len(b) > 0 {
			if lerr := p.ndjsonLine(b, line); lerr != nil {
				return lerr
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// readLine appends the next line of r to buf, without its newline; a line
// longer than limit is an error. At the end of r it returns io.EOF with the
// last line, if any.
func readLine(r *bufio.Reader, limit int64, buf []byte) ([]byte, error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if int64(len(buf)+len(chunk)) > limit+1 {
			return buf, fmt.Errorf("the line is longer than the body limit of %d bytes (--max-body)", limit)
		}
		buf = append(buf, chunk...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return bytes.TrimSuffix(buf, []byte("\n")), err
		}
	}
}

// ndjsonLine hands the record or records of one line to the batch.
func (p *preloader) ndjsonLine(b []byte, line int) error {
	fail := func(err error) error { return fmt.Errorf("preload %s line %d: %w", p.file.path, line, err) }
	if p.phase == relationsPhase && !bytes.Contains(b, []byte("relation")) && !bytes.Contains(b, []byte(`\u`)) {
		return nil // a customer (a relation or a body has the word "relation" in a key)
	}
	one, err := p.s.decodeRecord("customers", b)
	if err != nil {
		return fail(err)
	}
	c := one.Customers[0]
	_, isRelation := c.Extra["relation_external_id"]
	_, hasCustomers := c.Extra["customers"]
	_, hasRelations := c.Extra["relations"]
	switch {
	case c.ExternalID != nil || !isRelation && !hasCustomers && !hasRelations:
		return p.customer(c, line)
	case isRelation:
		if p.phase == customersPhase {
			return p.relation(openapi.Relation{}, line) // only noted
		}
		if one, err = p.s.decodeRecord("relations", b); err != nil {
			return fail(err)
		}
		return p.relation(one.Relations[0], line)
	}
	body, err := openapi.DecodeSaveCustomersLimits(b, p.s.rules.DecodeLimits(maxViolations))
	if err != nil {
		return fail(err)
	}
	if body.VerifyInput != nil || body.DisableRiskScan != nil {
		if err := p.flags(body.VerifyInput, body.DisableRiskScan); err != nil {
			return err
		}
	}
	for _, c := range body.Customers {
		if err := p.customer(c, line); err != nil {
			return err
		}
	}
	for _, r := range body.Relations {
		if err := p.relation(r, line); err != nil {
			return err
		}
	}
	return nil
}

// decodeRecord decodes raw as the one item of list ("customers" or
// "relations") of a request, with the endpoint's decoder and limits; the
// JSON pointers and offsets of its errors are those of raw.
func (s *Server) decodeRecord(list string, raw []byte) (*openapi.SaveCustomersRequest, error) {
	prefix := `{"` + list + `":[`
	body := make([]byte, 0, len(prefix)+len(raw)+2)
	body = append(append(append(body, prefix...), raw...), ']', '}')
	one, err := openapi.DecodeSaveCustomersLimits(body, s.rules.DecodeLimits(maxViolations))
	var se *openapi.SyntaxError
	var ve *openapi.ValidationError
	var le *openapi.LimitError
	switch {
	case errors.As(err, &le):
		le.Pointer = strings.TrimPrefix(le.Pointer, "/"+list+"/0")
		return nil, fmt.Errorf("%w; --%s changes the limit", le, rules.LimitFlag(le.What))
	case errors.As(err, &se):
		return nil, fmt.Errorf("malformed JSON near byte %d of the record: %s", max(0, se.Offset-int64(len(prefix))), se.Msg)
	case errors.As(err, &ve):
		for i, v := range ve.Violations {
			ve.Violations[i].Pointer = strings.TrimPrefix(v.Pointer, "/"+list+"/0")
		}
		ve.Kind = strings.TrimSuffix(list, "s") // "customer does not match the OpenAPI document: /kyc_level: …"
		return nil, ve
	case err != nil:
		return nil, err
	case len(one.Customers)+len(one.Relations) != 1:
		return nil, errors.New("want one customer or relation object")
	}
	return one, nil
}

// readCSV reads a table of algoreg-kit fixtures --format csv: customers,
// or relations. Each record goes through the endpoint's decoder, as JSON, so
// that it is checked as a save checks it.
func (p *preloader) readCSV(r *limitedFile) error {
	var cr *fixtures.CSVReader
	r.mark = p.recordLimit(func() int64 {
		if cr == nil {
			return 0
		}
		return cr.InputOffset()
	})
	cr, err := fixtures.NewCSVReader(r)
	if err != nil {
		return fmt.Errorf("preload %s %w", p.file.path, err)
	}
	if cr.Relations() != (p.phase == relationsPhase) {
		p.file.relations = p.file.relations || cr.Relations()
		return nil
	}
	var buf []byte
	for {
		start := cr.InputOffset()
		c, rel, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil && cr.InputOffset()-start > p.s.rules.MaxBody {
			err = fmt.Errorf("line %d: %w", cr.Line(), p.tooLong())
		}
		if err != nil {
			return fmt.Errorf("preload %s %w", p.file.path, err)
		}
		list := "customers"
		if c != nil {
			buf = fixtures.AppendCustomer(buf[:0], c)
		} else {
			list, buf = "relations", fixtures.AppendRelation(buf[:0], rel)
		}
		one, err := p.s.decodeRecord(list, buf)
		if err != nil {
			return fmt.Errorf("preload %s line %d: %w", p.file.path, cr.Line(), err)
		}
		if c != nil {
			err = p.customer(one.Customers[0], cr.Line())
		} else {
			err = p.relation(one.Relations[0], cr.Line())
		}
		if err != nil {
			return err
		}
	}
}
