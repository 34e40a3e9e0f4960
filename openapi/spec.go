package openapi

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var document []byte

// Document returns a copy of the embedded OpenAPI document (YAML).
func Document() []byte {
	return append([]byte(nil), document...)
}

// Load parses the embedded document and validates it against the OpenAPI 3.0
// specification, so that a broken document fails at start-up, never mid-request.
func Load(ctx context.Context) (*openapi3.T, error) {
	return load(ctx, "openapi.yaml", document)
}

// LoadVendor parses and validates the vendor document (VendorDocument).
func LoadVendor(ctx context.Context) (*openapi3.T, error) {
	b, err := VendorDocument()
	if err != nil {
		return nil, err
	}
	return load(ctx, "the vendor document", b)
}

func load(ctx context.Context, name string, b []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate %s: %w", name, err)
	}
	return doc, nil
}
