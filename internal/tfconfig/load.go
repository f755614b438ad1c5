// Package tfconfig reads a Terraform configuration without running
// Terraform: its variables (names, types, defaults, validations), its
// outputs (with sensitivity), its resource addresses, and the invariants
// challengectl's own terraform/ tree must keep (every method behind an API
// key, a scoped Lambda permission, ...). It parses HCL with
// github.com/hashicorp/terraform-config-inspect and github.com/hashicorp/hcl/v2;
// nothing here needs a provider, a backend or the network.
package tfconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	inspect "github.com/hashicorp/terraform-config-inspect/tfconfig"
)

// Pos is a place in a configuration file.
type Pos struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.Filename, p.Line) }

// Variable is one `variable` block of a module.
type Variable struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"` // as written, e.g. "string", "map(string)"; empty when untyped
	Description string `json:"description,omitempty"`
	// Default is the default value decoded from JSON (numbers are float64);
	// nil when the variable has no default.
	Default     any  `json:"default"`
	Required    bool `json:"required"` // no default: a value must be supplied
	Sensitive   bool `json:"sensitive,omitempty"`
	Validations int  `json:"validations"` // number of validation blocks
	Pos         Pos  `json:"pos"`
}

// Output is one `output` block of a module.
type Output struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Sensitive   bool   `json:"sensitive"`
	Pos         Pos    `json:"pos"`
}

// ParseError reports a configuration that cannot be read or parsed.
type ParseError struct {
	Dir   string
	Diags hcl.Diagnostics
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("terraform configuration %s: %s", e.Dir, e.Diags.Error())
}

// Variables returns the variables declared by the module in dir (its *.tf
// files, not its child modules), sorted by name.
func Variables(dir string) ([]Variable, error) {
	mod, err := inspectModule(dir)
	if err != nil {
		return nil, err
	}
	parsed, err := parseModule(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Variable, 0, len(mod.Variables))
	for name, v := range mod.Variables {
		validations := 0
		if b := parsed.block("variable", name); b != nil {
			validations = len(childBlocks(b, "validation"))
		}
		out = append(out, Variable{
			Name:        name,
			Type:        v.Type,
			Description: v.Description,
			Default:     v.Default,
			Required:    v.Required,
			Sensitive:   v.Sensitive,
			Validations: validations,
			Pos:         Pos{Filename: v.Pos.Filename, Line: v.Pos.Line},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// VariableDefaults returns the default of every variable of the module in
// dir that has one, decoded from JSON (numbers are float64, lists []any,
// objects map[string]any). Required variables are absent from the map.
func VariableDefaults(dir string) (map[string]any, error) {
	vars, err := Variables(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(vars))
	for _, v := range vars {
		if !v.Required {
			out[v.Name] = v.Default
		}
	}
	return out, nil
}

// Outputs returns the outputs declared by the module in dir, sorted by name.
func Outputs(dir string) ([]Output, error) {
	mod, err := inspectModule(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Output, 0, len(mod.Outputs))
	for name, o := range mod.Outputs {
		out = append(out, Output{
			Name:        name,
			Description: o.Description,
			Sensitive:   o.Sensitive,
			Pos:         Pos{Filename: o.Pos.Filename, Line: o.Pos.Line},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ResourceAddresses returns the address of every managed resource in the
// configuration at dir and in its local child modules, as Terraform plans
// and state name them: "aws_x.name" in the root,
// "module.call.aws_x.name" inside a module call. Sorted.
func ResourceAddresses(dir string) ([]string, error) {
	root, err := loadTree(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	var walk func(m *module, prefix string)
	walk = func(m *module, prefix string) {
		for _, b := range m.blocksOf("resource") {
			out = append(out, prefix+b.Labels[0]+"."+b.Labels[1])
		}
		for _, name := range sortedKeys(m.calls) {
			walk(m.calls[name], prefix+"module."+name+".")
		}
	}
	walk(root, "")
	sort.Strings(out)
	return out, nil
}

func inspectModule(dir string) (*inspect.Module, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("terraform configuration: %w", err)
	}
	mod, diags := inspect.LoadModule(dir)
	if diags.HasErrors() {
		return nil, fmt.Errorf("terraform configuration %s: %w", dir, diags.Err())
	}
	return mod, nil
}

// module is one parsed Terraform module directory.
type module struct {
	dir    string // absolute or as given
	rel    string // relative to the tree root, for messages ("" for the root)
	blocks []*hclsyntax.Block
	files  map[string]*hcl.File
	calls  map[string]*module // local child modules by call name
}

// maxModuleDepth bounds recursion through module calls (a cycle of local
// sources would otherwise never end).
const maxModuleDepth = 8

// loadTree parses dir and every child module it calls with a local source.
func loadTree(dir string) (*module, error) {
	return loadTreeAt(dir, "", 0)
}

func loadTreeAt(dir, rel string, depth int) (*module, error) {
	if depth > maxModuleDepth {
		return nil, fmt.Errorf("terraform configuration %s: modules nested deeper than %d", dir, maxModuleDepth)
	}
	m, err := parseModule(dir)
	if err != nil {
		return nil, err
	}
	m.rel = rel
	for _, b := range m.blocksOf("module") {
		src, ok := literalString(attr(b, "source"))
		if !ok || !(strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../")) {
			continue // registry or remote modules are not read here
		}
		child, err := loadTreeAt(filepath.Join(dir, src), filepath.ToSlash(filepath.Join(rel, src)), depth+1)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w", b.Labels[0], err)
		}
		m.calls[b.Labels[0]] = child
	}
	return m, nil
}

// parseModule parses the *.tf files of one directory (override files and
// JSON syntax are not used by challengectl and are ignored).
func parseModule(dir string) (*module, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("terraform configuration: %w", err)
	}
	p := hclparse.NewParser()
	m := &module{dir: dir, files: map[string]*hcl.File{}, calls: map[string]*module{}}
	var diags hcl.Diagnostics
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, "_override.tf") || name == "override.tf" {
			continue
		}
		f, d := p.ParseHCLFile(filepath.Join(dir, name))
		diags = append(diags, d...)
		if f == nil {
			continue
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			return nil, errors.New("tfconfig: unexpected body type")
		}
		m.files[name] = f
		m.blocks = append(m.blocks, body.Blocks...)
	}
	if diags.HasErrors() {
		return nil, &ParseError{Dir: dir, Diags: diags}
	}
	return m, nil
}

// blocksOf returns the top-level blocks of one type, in file order.
func (m *module) blocksOf(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

// block returns the first top-level block with this type and labels.
func (m *module) block(typ string, labels ...string) *hclsyntax.Block {
	for _, b := range m.blocks {
		if b.Type == typ && equalStrings(b.Labels, labels) {
			return b
		}
	}
	return nil
}

func (m *module) resource(typ, name string) *hclsyntax.Block {
	return m.block("resource", typ, name)
}

// resources returns every managed resource of one type.
func (m *module) resources(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.blocksOf("resource") {
		if b.Labels[0] == typ {
			out = append(out, b)
		}
	}
	return out
}

// locals returns every `locals` attribute of the module by name.
func (m *module) locals() map[string]*hclsyntax.Attribute {
	out := map[string]*hclsyntax.Attribute{}
	for _, b := range m.blocksOf("locals") {
		for name, a := range b.Body.Attributes {
			out[name] = a
		}
	}
	return out
}

// pos turns an HCL range into a Pos relative to the tree root.
func (m *module) pos(r hcl.Range) Pos {
	return Pos{Filename: filepath.ToSlash(filepath.Join(m.rel, filepath.Base(r.Filename))), Line: r.Start.Line}
}

// attr returns a block's attribute or nil.
func attr(b *hclsyntax.Block, name string) *hclsyntax.Attribute {
	if b == nil {
		return nil
	}
	return b.Body.Attributes[name]
}

// childBlocks returns a block's nested blocks of one type.
func childBlocks(b *hclsyntax.Block, typ string) []*hclsyntax.Block {
	if b == nil {
		return nil
	}
	var out []*hclsyntax.Block
	for _, c := range b.Body.Blocks {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

func childBlock(b *hclsyntax.Block, typ string) *hclsyntax.Block {
	if cs := childBlocks(b, typ); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
