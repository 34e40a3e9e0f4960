package main

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"
)

// The part of an OpenAPI 3.0 document the generator reads. Mappings whose
// order matters (components.schemas, properties) keep the document's order.

type document struct {
	Components struct {
		Schemas ordered[*schema] `yaml:"schemas"`
	} `yaml:"components"`
}

type schema struct {
	Ref                  string           `yaml:"$ref"`
	Type                 string           `yaml:"type"`
	Format               string           `yaml:"format"`
	Nullable             bool             `yaml:"nullable"`
	Description          string           `yaml:"description"`
	Required             []string         `yaml:"required"`
	Items                *schema          `yaml:"items"`
	Properties           ordered[*schema] `yaml:"properties"`
	AdditionalProperties any              `yaml:"additionalProperties"`
	OneOf                []*schema        `yaml:"oneOf"`
}

// entry is one key of a mapping and its value.
type entry[T any] struct {
	Key   string
	Value T
}

// ordered is a YAML mapping decoded in the document's order.
type ordered[T any] []entry[T]

func (o *ordered[T]) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		var v T
		if err := n.Content[i+1].Decode(&v); err != nil {
			return err
		}
		*o = append(*o, entry[T]{n.Content[i].Value, v})
	}
	return nil
}

// get returns the value of key and whether it is there.
func (o ordered[T]) get(key string) (T, bool) {
	for _, e := range o {
		if e.Key == key {
			return e.Value, true
		}
	}
	var zero T
	return zero, false
}

func parseDocument(src []byte) (*document, error) {
	var doc document
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return &doc, nil
}

// refName returns the schema name of a local reference.
func refName(ref string) (string, error) {
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok {
		return "", fmt.Errorf("reference %q: only #/components/schemas/ references are supported", ref)
	}
	return name, nil
}

// isObject reports whether s is an object schema with properties of its own
// (one that gets a Go struct).
func (s *schema) isObject() bool { return s.Type == "object" && len(s.Properties) > 0 }

// keepsExtra reports whether an object keeps the keys its schema does not
// define (no additionalProperties: false).
func (s *schema) keepsExtra() bool { return s.AdditionalProperties != false }

func (s *schema) required(prop string) bool { return slices.Contains(s.Required, prop) }

// isFreeMap reports whether s is an object of any keys (additionalProperties:
// true and no properties), a map[string]any.
func (s *schema) isFreeMap() bool {
	return s.Type == "object" && len(s.Properties) == 0 && s.AdditionalProperties == true
}
