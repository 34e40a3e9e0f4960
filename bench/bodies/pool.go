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
	Bodies, Customers, Relations, Bytes int
}

// markBody compacts one body, checks it, and puts Marker in front of every
// identifier. wantCustomers < 0 accepts any count.
func markBody(body []byte, wantCustomers int) ([]byte, *openapi.SaveCustomersRequest, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	var req openapi.SaveCustomersRequest
	if err := json.Unmarshal(compact.Bytes(), &req); err != nil {
		return nil, nil, fmt.Errorf("not a SaveCustomersRequest: %w", err)
	}
	if wantCustomers >= 0 && len(req.Customers) != wantCustomers {
		return nil, nil, fmt.Errorf("got %d customers, want %d", len(req.Customers), wantCustomers)
	}
	if req.VerifyInput != nil && *req.VerifyInput {
		return nil, nil, fmt.Errorf("verify_input is true: the server would persist nothing")
	}
	want := 0
	for i, c := range req.Customers {
		if c.ExternalID == nil || *c.ExternalID == "" {
			return nil, nil, fmt.Errorf("customers[%d] has no external_id", i)
		}
		want++
	}
	for _, r := range req.Relations {
		for _, id := range []*string{r.RelationExternalID, r.ParentCustomerExternalID, r.ChildCustomerExternalID} {
			if id != nil {
				want++
			}
		}
	}
	if bytes.Contains(compact.Bytes(), []byte(Marker)) {
		return nil, nil, fmt.Errorf("the body already contains the marker %s", Marker)
	}
	marked := idKey.ReplaceAll(compact.Bytes(), []byte(`${0}`+Marker))
	if got := bytes.Count(marked, []byte(Marker)); got != want {
		return nil, nil, fmt.Errorf("marked %d identifiers, want %d (an identifier key inside a string value?)", got, want)
	}
	return marked, &req, nil
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
		marked, req, err := markBody(raw, wantCustomers)
		if err != nil {
			return fmt.Errorf("%s: body %d: %w", name, n+1, err)
		}
		bw.Write(marked)
		bw.WriteByte('\n')
		st.Bodies++
		st.Customers += len(req.Customers)
		st.Relations += len(req.Relations)
		st.Bytes += len(marked)
	}
	return bw.Flush()
}
