package tfconfig

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are the Terraform functions challengectl's configuration uses,
// implemented by go-cty's stdlib (the same code Terraform builds on), so
// validation conditions and expressions evaluate as Terraform would.
var functions = map[string]function.Function{
	"abs":        stdlib.AbsoluteFunc,
	"can":        tryfunc.CanFunc,
	"ceil":       stdlib.CeilFunc,
	"coalesce":   stdlib.CoalesceFunc,
	"concat":     stdlib.ConcatFunc,
	"contains":   stdlib.ContainsFunc,
	"floor":      stdlib.FloorFunc,
	"format":     stdlib.FormatFunc,
	"join":       stdlib.JoinFunc,
	"jsonencode": stdlib.JSONEncodeFunc,
	"keys":       stdlib.KeysFunc,
	"length":     lengthFunc,
	"lower":      stdlib.LowerFunc,
	"max":        stdlib.MaxFunc,
	"merge":      stdlib.MergeFunc,
	"min":        stdlib.MinFunc,
	"regex":      stdlib.RegexFunc,
	"replace":    stdlib.ReplaceFunc,
	"sha1":       sha1Func,
	"split":      stdlib.SplitFunc,
	"startswith": startsWithFunc,
	"substr":     stdlib.SubstrFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"try":        tryfunc.TryFunc,
	"upper":      stdlib.UpperFunc,
}

// lengthFunc is Terraform's length: strings count characters, collections
// count elements (stdlib's LengthFunc only takes collections).
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})

var sha1Func = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		sum := sha1.Sum([]byte(args[0].AsString()))
		return cty.StringVal(hex.EncodeToString(sum[:])), nil
	},
})

var startsWithFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "prefix", Type: cty.String}},
	Type:   function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.BoolVal(strings.HasPrefix(args[0].AsString(), args[1].AsString())), nil
	},
})

// evaluator evaluates expressions of one module the way Terraform would for
// var.* and local.*, and symbolically for everything else: a reference such
// as aws_x.this.arn evaluates to the placeholder string
// "${aws_x.this.arn}". So "${aws_api_gateway_rest_api.this.execution_arn}/*/*"
// evaluates to exactly that text, and jsonencode of an IAM policy yields a
// JSON document whose resources are placeholders that can be inspected.
type evaluator struct {
	m      *module
	vars   map[string]cty.Value // var.NAME values; a missing one is a placeholder
	locals map[string]cty.Value
	busy   map[string]bool // locals being evaluated, to report cycles
}

func newEvaluator(m *module, vars map[string]cty.Value) *evaluator {
	if vars == nil {
		vars = map[string]cty.Value{}
	}
	return &evaluator{m: m, vars: vars, locals: map[string]cty.Value{}, busy: map[string]bool{}}
}

func placeholder(tr hcl.Traversal) cty.Value {
	return cty.StringVal("${" + traversalString(tr) + "}")
}

func (e *evaluator) eval(expr hcl.Expression) (cty.Value, error) {
	if expr == nil {
		return cty.NilVal, errors.New("not set")
	}
	ctx, err := e.context(expr)
	if err != nil {
		return cty.NilVal, err
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	return v, nil
}

// context builds the variables expr needs: var and local as values, any
// other root (resources, data, module, each, iterators) as a tree of
// placeholders shaped by the traversals that reach it.
func (e *evaluator) context(expr hcl.Expression) (*hcl.EvalContext, error) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: functions}
	vars := map[string]cty.Value{}
	locals := map[string]cty.Value{}
	others := map[string][]hcl.Traversal{}
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		name, hasName := attrName(tr, 1)
		switch {
		case root == "var" && hasName:
			if v, ok := e.vars[name]; ok {
				vars[name] = v
			} else {
				vars[name] = placeholder(tr[:2])
			}
		case root == "local" && hasName:
			v, err := e.local(name)
			if err != nil {
				return nil, err
			}
			locals[name] = v
		default:
			others[root] = append(others[root], tr)
		}
	}
	if len(vars) > 0 {
		ctx.Variables["var"] = cty.ObjectVal(vars)
	}
	if len(locals) > 0 {
		ctx.Variables["local"] = cty.ObjectVal(locals)
	}
	for root, trs := range others {
		ctx.Variables[root] = placeholderTree(trs, 1)
	}
	return ctx, nil
}

func (e *evaluator) local(name string) (cty.Value, error) {
	if v, ok := e.locals[name]; ok {
		return v, nil
	}
	if e.busy[name] {
		return cty.NilVal, fmt.Errorf("local.%s refers to itself", name)
	}
	a := e.m.locals()[name]
	if a == nil {
		return cty.NilVal, fmt.Errorf("local.%s is not declared", name)
	}
	e.busy[name] = true
	defer delete(e.busy, name)
	v, err := e.eval(a.Expr)
	if err != nil {
		return cty.NilVal, fmt.Errorf("local.%s: %w", name, err)
	}
	e.locals[name] = v
	return v, nil
}

// placeholderTree builds the value a set of traversals sharing a root see:
// an object down to the deepest attribute each one names, whose leaves are
// placeholders. A traversal that stops early (a whole resource) sees the
// object built for the longer ones, or its own placeholder.
func placeholderTree(trs []hcl.Traversal, depth int) cty.Value {
	attrs := map[string][]hcl.Traversal{}
	var self hcl.Traversal
	for _, tr := range trs {
		name, ok := attrName(tr, depth)
		if !ok {
			self = tr[:depth]
			continue
		}
		attrs[name] = append(attrs[name], tr)
	}
	if len(attrs) == 0 {
		if self == nil {
			self = trs[0][:depth]
		}
		return placeholder(self)
	}
	obj := map[string]cty.Value{}
	for name, sub := range attrs {
		obj[name] = placeholderTree(sub, depth+1)
	}
	return cty.ObjectVal(obj)
}

// attrName returns the attribute name at step i of a traversal.
func attrName(tr hcl.Traversal, i int) (string, bool) {
	if i >= len(tr) {
		return "", false
	}
	switch s := tr[i].(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseRoot:
		return s.Name, true
	}
	return "", false
}

// traversalString renders a traversal as Terraform writes it: a.b.c, x[0].
func traversalString(tr hcl.Traversal) string {
	var sb strings.Builder
	for i, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				sb.WriteString(fmt.Sprintf("[%q]", s.Key.AsString()))
			} else if s.Key.Type() == cty.Number {
				sb.WriteString("[" + s.Key.AsBigFloat().String() + "]")
			} else {
				sb.WriteString("[?]")
			}
		case hcl.TraverseSplat:
			sb.WriteString("[*]")
		default:
			_ = i
			sb.WriteString(".?")
		}
	}
	return sb.String()
}

// refs returns the references an expression makes, rendered as text
// ("var.region", "aws_lambda_alias.live.invoke_arn"), sorted and unique.
func refs(expr hcl.Expression) []string {
	if expr == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, tr := range expr.Variables() {
		seen[traversalString(tr)] = true
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// refersTo reports whether expr references target or something inside it
// (target "aws_x.y" matches "aws_x.y" and "aws_x.y.id"), directly or through
// the module's locals.
func (m *module) refersTo(expr hcl.Expression, target string) bool {
	return m.refersToDepth(expr, target, 0)
}

func (m *module) refersToDepth(expr hcl.Expression, target string, depth int) bool {
	if expr == nil || depth > 16 {
		return false
	}
	for _, r := range refs(expr) {
		if r == target || strings.HasPrefix(r, target+".") || strings.HasPrefix(r, target+"[") {
			return true
		}
		if name, ok := strings.CutPrefix(r, "local."); ok {
			name, _, _ = strings.Cut(name, ".")
			if a := m.locals()[name]; a != nil && m.refersToDepth(a.Expr, target, depth+1) {
				return true
			}
		}
	}
	return false
}

// literalString returns the value of an attribute that is a constant string.
func literalString(a *hclsyntax.Attribute) (string, bool) {
	if a == nil || len(a.Expr.Variables()) > 0 {
		return "", false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// literalBool returns the value of an attribute that is a constant bool.
func literalBool(a *hclsyntax.Attribute) (bool, bool) {
	if a == nil || len(a.Expr.Variables()) > 0 {
		return false, false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false, false
	}
	return v.True(), true
}
