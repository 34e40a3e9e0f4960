package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

// Marker is what bench/save.lua replaces with a per-request prefix.
const Marker = "@ID@"

// idKey matches the identifier keys of compact JSON, up to the value's opening quote.
var idKey = regexp.MustCompile(`"(external_id|relation_external_id|parent_customer_external_id|child_customer_external_id)":"`)

// stats describes a pool.
type stats struct {
	Bodies, Customers, Relations, DroppedRelations, Bytes int
}

// markBody compacts one body, checks it, drops the relations that name a
// customer the body does not hold, and puts Marker in front of every
// identifier. wantCustomers < 0 accepts any count.
//
// Dropping is what lets every body stand alone: the load script gives each
// request its own id prefix, so a relation to a customer of another body would
// name a customer that does not exist (relation_customer_unknown). When nothing
// is dropped the body keeps the generator's bytes; otherwise it is re-encoded.
func markBody(body []byte, wantCustomers int) ([]byte, *openapi.SaveCustomersRequest, int, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return nil, nil, 0, fmt.Errorf("not JSON: %w", err)
	}
	var req openapi.SaveCustomersRequest
	if err := json.Unmarshal(compact.Bytes(), &req); err != nil {
		return nil, nil, 0, fmt.Errorf("not a SaveCustomersRequest: %w", err)
	}
	if wantCustomers >= 0 && len(req.Customers) != wantCustomers {
		return nil, nil, 0, fmt.Errorf("got %d customers, want %d", len(req.Customers), wantCustomers)
	}
	if req.VerifyInput != nil && *req.VerifyInput {
		return nil, nil, 0, fmt.Errorf("verify_input is true: the server would persist nothing")
	}
	here := make(map[string]bool, len(req.Customers))
	for i, c := range req.Customers {
		if c.ExternalID == nil || *c.ExternalID == "" {
			return nil, nil, 0, fmt.Errorf("customers[%d] has no external_id", i)
		}
		here[*c.ExternalID] = true
	}
	kept := req.Relations[:0:0]
	for _, r := range req.Relations {
		if r.ParentCustomerExternalID != nil && here[*r.ParentCustomerExternalID] &&
			r.ChildCustomerExternalID != nil && here[*r.ChildCustomerExternalID] {
			kept = append(kept, r)
		}
	}
	dropped := len(req.Relations) - len(kept)
	if dropped > 0 {
		req.Relations = kept
		b, err := json.Marshal(&req)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("re-encode: %w", err)
		}
		compact.Reset()
		compact.Write(b)
	}
	want := len(req.Customers)
	for _, r := range req.Relations {
		if r.RelationExternalID != nil {
			want++
		}
		want += 2 // parent and child, both present (checked above)
	}
	if bytes.Contains(compact.Bytes(), []byte(Marker)) {
		return nil, nil, 0, fmt.Errorf("the body already contains the marker %s", Marker)
	}
	marked := idKey.ReplaceAll(compact.Bytes(), []byte(`${0}`+Marker))
	if got := bytes.Count(marked, []byte(Marker)); got != want {
		return nil, nil, 0, fmt.Errorf("marked %d identifiers, want %d (an identifier key inside a string value?)", got, want)
	}
	return marked, &req, dropped, nil
}

// writePool reads bodies from r (one or more JSON values, separated by
// whitespace), marks each, and writes one per line to w.
func writePool(w io.Writer, r io.Reader, name string, wantCustomers int, st *stats) error {
	dec := json.NewDecoder(r)
	bw := bufio.NewWriter(w)
	for n := 0; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			if n == 0 {
				return fmt.Errorf("%s: no body", name)
			}
			break
		} else if err != nil {
			return fmt.Errorf("%s: body %d: %w", name, n+1, err)
		}
		marked, req, dropped, err := markBody(raw, wantCustomers)
		if err != nil {
			return fmt.Errorf("%s: body %d: %w", name, n+1, err)
		}
		bw.Write(marked)
		bw.WriteByte('\n')
		st.Bodies++
		st.Customers += len(req.Customers)
		st.Relations += len(req.Relations)
		st.DroppedRelations += dropped
		st.Bytes += len(marked)
	}
	return bw.Flush()
}

// readPool reads a pool file: one marked body per line.
func readPool(r io.Reader) ([][]byte, error) {
	var pool [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		pool = append(pool, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(pool) == 0 {
		return nil, fmt.Errorf("no body")
	}
	return pool, nil
}
