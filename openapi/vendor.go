package openapi

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"
)

// VendorDocument returns the vendor's contract (YAML): the embedded document
// without what only the algoreg-kit mock serves. It is derived from the one
// document, never kept beside it:
//
//   - every mapping entry marked `x-mock-only: true` is dropped (operations,
//     parameters, headers, components, examples), and every `$ref` to a
//     dropped component with it; a path left without an operation goes too,
//     and so does a mapping or list left empty by what was dropped;
//   - in every description, each Markdown section whose heading ends with
//     "(mock only)" is dropped, down to the next heading of its level or
//     above;
//   - then every component nothing left refers to (schemas, responses,
//     parameters, examples, headers, request bodies, security schemes), and
//     every tag no operation uses.
//
// Give this one to other tools (Prism, Dredd, Specmatic, generators):
// `algoreg-kit spec`. The full document is [Document] (`spec --mock`).
func VendorDocument() ([]byte, error) {
	return vendorDocument(document)
}

// vendorDocument filters the OpenAPI document b (YAML) as VendorDocument says.
func vendorDocument(b []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("vendor document: read openapi.yaml: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("vendor document: openapi.yaml is not a YAML mapping")
	}
	doc := root.Content[0]
	dropped := map[string]bool{} // "#/components/<kind>/<name>" refs of dropped components
	dropMockOnly(doc, "#", dropped)
	dropDanglingRefs(doc, dropped)
	dropMockOnlySections(doc)
	if paths := mapValue(doc, "paths"); paths != nil {
		for i := 0; i+1 < len(paths.Content); {
			if !hasOperation(paths.Content[i+1]) {
				paths.Content = slices.Delete(paths.Content, i, i+2)
				continue
			}
			i += 2
		}
	}
	pruneComponents(doc)
	pruneTags(doc)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("vendor document: write YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("vendor document: write YAML: %w", err)
	}
	return out.Bytes(), nil
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func mockOnly(n *yaml.Node) bool {
	v := mapValue(n, "x-mock-only")
	return v != nil && v.Value == "true"
}

// dropMockOnly removes, at every depth, the mapping entries and sequence
// items marked x-mock-only, recording the components it removes.
func dropMockOnly(n *yaml.Node, pointer string, dropped map[string]bool) {
	prune(n, pointer, func(p string, c *yaml.Node) bool {
		if !mockOnly(c) {
			return false
		}
		if strings.HasPrefix(p, "#/components/") {
			dropped[p] = true
		}
		return true
	})
}

// dropDanglingRefs removes the references to dropped components.
func dropDanglingRefs(n *yaml.Node, dropped map[string]bool) {
	prune(n, "#", func(_ string, c *yaml.Node) bool {
		ref := mapValue(c, "$ref")
		return ref != nil && dropped[ref.Value]
	})
}

// prune removes, at every depth below n, the mapping entries and sequence
// items whose value drop is true of (given its JSON pointer; a sequence
// item has its sequence's), and a sequence or mapping that this leaves
// empty goes from its parent mapping too.
func prune(n *yaml.Node, pointer string, drop func(pointer string, c *yaml.Node) bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); {
			key, val := n.Content[i].Value, n.Content[i+1]
			p := pointer + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
			if drop(p, val) {
				n.Content = slices.Delete(n.Content, i, i+2)
				continue
			}
			before := len(val.Content)
			prune(val, p, drop)
			if before > 0 && len(val.Content) == 0 && (val.Kind == yaml.SequenceNode || val.Kind == yaml.MappingNode) {
				n.Content = slices.Delete(n.Content, i, i+2)
				continue
			}
			i += 2
		}
	case yaml.SequenceNode:
		for i := 0; i < len(n.Content); {
			if drop(pointer, n.Content[i]) {
				n.Content = slices.Delete(n.Content, i, i+1)
				continue
			}
			prune(n.Content[i], pointer, drop)
			i++
		}
	}
}

// mockOnlyHeading matches a Markdown heading line whose text ends with
// "(mock only)"; its group is the heading's #s.
var mockOnlyHeading = regexp.MustCompile(`^(#+)\s.*\(mock only\)\s*$`)

// dropMockOnlySections removes, from every description at every depth, the
// Markdown sections whose heading ends with "(mock only)".
func dropMockOnlySections(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; n.Content[i].Value == "description" && v.Kind == yaml.ScalarNode {
				v.Value = withoutMockOnlySections(v.Value)
			}
		}
	}
	for _, c := range n.Content {
		dropMockOnlySections(c)
	}
}

// withoutMockOnlySections is text without its "(mock only)" sections: from
// such a heading to the next heading of as many #s or fewer.
func withoutMockOnlySections(text string) string {
	if !strings.Contains(text, "(mock only)") {
		return text
	}
	var out []string
	dropping := 0 // the level of the section being dropped, 0 for none
	for _, line := range strings.Split(text, "\n") {
		if level := headingLevel(line); level > 0 && (dropping == 0 || level <= dropping) {
			dropping = 0
			if m := mockOnlyHeading.FindStringSubmatch(line); m != nil {
				dropping = len(m[1])
			}
		}
		if dropping == 0 {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// headingLevel is the number of #s of a Markdown heading line, 0 for
// another line.
func headingLevel(line string) int {
	n := len(line) - len(strings.TrimLeft(line, "#"))
	if n == 0 || n == len(line) || line[n] != ' ' {
		return 0
	}
	return n
}

func hasOperation(item *yaml.Node) bool {
	for _, m := range httpMethods {
		if mapValue(item, m) != nil {
			return true
		}
	}
	return false
}

// pruneComponents removes the components nothing outside components (nor a
// component kept) refers to, until none is left to remove.
func pruneComponents(doc *yaml.Node) {
	components := mapValue(doc, "components")
	if components == nil {
		return
	}
	for {
		used := map[string]bool{}
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value != "components" {
				collectRefs(doc.Content[i+1], used)
			}
		}
		collectSecurity(doc, used)
		// What a kept component refers to is used too: grow to a fixed point.
		for {
			n := len(used)
			forEachComponent(components, func(ref string, c *yaml.Node) {
				if used[ref] {
					collectRefs(c, used)
				}
			})
			if len(used) == n {
				break
			}
		}
		removed := false
		for i := 0; i+1 < len(components.Content); i += 2 {
			kind, group := components.Content[i].Value, components.Content[i+1]
			for j := 0; j+1 < len(group.Content); {
				if !used["#/components/"+kind+"/"+group.Content[j].Value] {
					group.Content = slices.Delete(group.Content, j, j+2)
					removed = true
					continue
				}
				j += 2
			}
		}
		for i := 0; i+1 < len(components.Content); {
			if len(components.Content[i+1].Content) == 0 {
				components.Content = slices.Delete(components.Content, i, i+2)
				continue
			}
			i += 2
		}
		if !removed {
			return
		}
	}
}

func forEachComponent(components *yaml.Node, f func(ref string, c *yaml.Node)) {
	for i := 0; i+1 < len(components.Content); i += 2 {
		kind, group := components.Content[i].Value, components.Content[i+1]
		for j := 0; j+1 < len(group.Content); j += 2 {
			f("#/components/"+kind+"/"+group.Content[j].Value, group.Content[j+1])
		}
	}
}

func collectRefs(n *yaml.Node, used map[string]bool) {
	if n.Kind == yaml.MappingNode {
		if ref := mapValue(n, "$ref"); ref != nil {
			used[ref.Value] = true
		}
	}
	for _, c := range n.Content {
		collectRefs(c, used)
	}
}

// collectSecurity marks the security schemes that the security requirements
// (top level and per operation) name: they name them without a $ref.
func collectSecurity(doc *yaml.Node, used map[string]bool) {
	mark := func(sec *yaml.Node) {
		if sec == nil {
			return
		}
		for _, req := range sec.Content {
			for i := 0; i+1 < len(req.Content); i += 2 {
				used["#/components/securitySchemes/"+req.Content[i].Value] = true
			}
		}
	}
	mark(mapValue(doc, "security"))
	paths := mapValue(doc, "paths")
	if paths == nil {
		return
	}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		for _, m := range httpMethods {
			mark(mapValue(mapValue(paths.Content[i+1], m), "security"))
		}
	}
}

// pruneTags removes the tags that no operation left uses.
func pruneTags(doc *yaml.Node) {
	tags, paths := mapValue(doc, "tags"), mapValue(doc, "paths")
	if tags == nil {
		return
	}
	used := map[string]bool{}
	if paths != nil {
		for i := 0; i+1 < len(paths.Content); i += 2 {
			for _, m := range httpMethods {
				if t := mapValue(mapValue(paths.Content[i+1], m), "tags"); t != nil {
					for _, name := range t.Content {
						used[name.Value] = true
					}
				}
			}
		}
	}
	tags.Content = slices.DeleteFunc(tags.Content, func(t *yaml.Node) bool {
		name := mapValue(t, "name")
		return name == nil || !used[name.Value]
	})
}
