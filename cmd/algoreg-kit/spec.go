package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/openapi"
)

const specUsage = `Usage: algoreg-kit spec [--mock] [--format yaml|json]

Prints the vendor's contract: the OpenAPI document of the two vendor endpoints
(POST /api/v1/customers/save, POST /api/v1/token) and the schemas they use, with
the token endpoint also described as an OAuth2 password flow. Give this one to
other tools (Prism, Dredd, Specmatic, code generators). With --mock, prints the
full document that drives the mock, the fixtures and the contract suite, with the
mock-only paths (/__admin/..., /healthz, /openapi.yaml) and the Prefer header.

Examples:
  algoreg-kit spec > algoreg.yaml
  algoreg-kit spec --mock --format json | jq '.paths | keys'
`

type specConfig struct {
	parsed
	Format string // yaml or json
	Mock   bool   // the full document, mock-only paths included
}

func parseSpec(args []string, getenv func(string) string) (specConfig, error) {
	var cfg specConfig
	fs := newFlagSet("spec", specUsage)
	fs.BoolVar(&cfg.Mock, "mock", false, "print the full document, with the paths and parameters only the algoreg-kit mock serves")
	fs.choice(&cfg.Format, "format", "yaml", []string{"yaml", "json"}, "output `format`: yaml or json")
	var err error
	cfg.notes, err = fs.parse(args, getenv)
	return cfg, err
}

func runSpec(ctx context.Context, cfg specConfig, e env) error {
	if cfg.Format == "yaml" {
		b := openapi.Document()
		if !cfg.Mock {
			var err error
			if b, err = openapi.VendorDocument(); err != nil {
				return err
			}
		}
		_, err := e.stdout.Write(b)
		return err
	}
	load := openapi.LoadVendor
	if cfg.Mock {
		load = openapi.Load
	}
	doc, err := load(ctx)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("spec: encode the document as JSON: %w", err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}
