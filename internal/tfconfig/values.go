package tfconfig

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// ValueProblem is one variable value the configuration would reject.
type ValueProblem struct {
	Variable string `json:"variable"`
	Message  string `json:"message"`
}

// ValuesError lists every problem CheckValues found, so a caller can report
// all of them at once, before Terraform runs.
type ValuesError struct {
	Dir      string
	Problems []ValueProblem
}

func (e *ValuesError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("var.%s: %s", p.Variable, p.Message)
	}
	return fmt.Sprintf("terraform variables for %s: %s", e.Dir, strings.Join(parts, "; "))
}

// CheckValues checks values (what a var file would hold, JSON-like Go
// values) against the variables of the module in dir, as `terraform plan`
// would but without running it: every name must be declared, every required
// variable present, each value convertible to its type, and each validation
// condition true. When the root values pass, the arguments they produce for
// local child modules (e.g. function_name = "${app_name}-${stage}") are
// checked against those modules' validations too. It returns a *ValuesError
// listing every problem, or nil.
//
// A condition that cannot be evaluated here (it uses a function this
// package does not implement, or another variable) is skipped: Terraform
// still checks it at plan time.
func CheckValues(dir string, values map[string]any) error {
	m, err := parseModule(dir)
	if err != nil {
		return err
	}
	var problems []ValueProblem
	declared := map[string]bool{}
	converted := map[string]cty.Value{} // root values that passed, typed
	for _, b := range m.blocksOf("variable") {
		name := b.Labels[0]
		declared[name] = true
		raw, given := values[name]
		if !given {
			if attr(b, "default") == nil {
				problems = append(problems, ValueProblem{name, "required variable has no value"})
			}
			continue
		}
		v, err := toCty(raw)
		if err != nil {
			problems = append(problems, ValueProblem{name, err.Error()})
			continue
		}
		if v.IsNull() {
			if nullable, ok := literalBool(attr(b, "nullable")); ok && !nullable {
				problems = append(problems, ValueProblem{name, "must not be null"})
			}
			continue
		}
		if ta := attr(b, "type"); ta != nil {
			ty, diags := typeexpr.TypeConstraint(ta.Expr)
			if diags.HasErrors() {
				return fmt.Errorf("variable %q: type: %w", name, diags)
			}
			cv, err := convert.Convert(v, ty)
			if err != nil {
				problems = append(problems, ValueProblem{name, fmt.Sprintf("want %s: %v", typeexpr.TypeString(ty), err)})
				continue
			}
			v = cv
		}
		ev := newEvaluator(m, map[string]cty.Value{name: v})
		ok := true
		for _, vb := range childBlocks(b, "validation") {
			cond := attr(vb, "condition")
			if cond == nil {
				continue
			}
			if !onlyVar(cond.Expr.Variables(), name) {
				continue // refers to other variables: left to Terraform
			}
			res, err := ev.eval(cond.Expr)
			if err != nil || !res.IsKnown() || res.IsNull() || res.Type() != cty.Bool {
				continue
			}
			if res.False() {
				msg := "fails its validation"
				if ma := attr(vb, "error_message"); ma != nil {
					if mv, err := ev.eval(ma.Expr); err == nil && mv.Type() == cty.String && mv.IsKnown() {
						msg = mv.AsString()
					}
				}
				problems = append(problems, ValueProblem{name, msg})
				ok = false
			}
		}
		if ok {
			converted[name] = v
		}
	}
	if len(problems) == 0 {
		// Root values are fine: check what they become in local modules,
		// whose own validations (name lengths) Terraform would apply.
		more, err := moduleProblems(dir, m, converted)
		if err != nil {
			return err
		}
		problems = append(problems, more...)
	}
	for name := range values {
		if !declared[name] {
			problems = append(problems, ValueProblem{name, "is not declared by the configuration"})
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Variable < problems[j].Variable })
	return &ValuesError{Dir: dir, Problems: problems}
}

// onlyVar reports whether every reference is to var.name (function calls
// and literals aside).
func onlyVar(trs []hcl.Traversal, name string) bool {
	for _, tr := range trs {
		n, ok := attrName(tr, 1)
		if tr.RootName() != "var" || !ok || n != name {
			return false
		}
	}
	return true
}

// toCty converts a JSON-like Go value (what encoding/json produces or
// accepts) to a cty value.
func toCty(raw any) (cty.Value, error) {
	if raw == nil {
		return cty.NullVal(cty.DynamicPseudoType), nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return cty.NilVal, fmt.Errorf("cannot encode value: %w", err)
	}
	ty, err := ctyjson.ImpliedType(b)
	if err != nil {
		return cty.NilVal, fmt.Errorf("cannot type value: %w", err)
	}
	v, err := ctyjson.Unmarshal(b, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("cannot decode value: %w", err)
	}
	return v, nil
}

// moduleProblems evaluates each argument of each local module call that is
// built only from root variables and locals, and checks it against the
// called module's variable validations.
func moduleProblems(dir string, root *module, vals map[string]cty.Value) ([]ValueProblem, error) {
	tree, err := loadTree(dir)
	if err != nil {
		return nil, err
	}
	// Root variables left unset take their defaults.
	all := map[string]cty.Value{}
	for _, b := range root.blocksOf("variable") {
		name := b.Labels[0]
		if v, ok := vals[name]; ok {
			all[name] = v
			continue
		}
		if d := attr(b, "default"); d != nil {
			if v, diags := d.Expr.Value(nil); !diags.HasErrors() {
				all[name] = v
			}
		}
	}
	var problems []ValueProblem
	for _, call := range sortedKeys(tree.calls) {
		child := tree.calls[call]
		mb := tree.block("module", call)
		ev := newEvaluator(tree, all)
		for _, vb := range child.blocksOf("variable") {
			arg := attr(mb, vb.Labels[0])
			if arg == nil || len(childBlocks(vb, "validation")) == 0 || !tree.onlyInputs(arg.Expr, 0) {
				continue
			}
			v, err := ev.eval(arg.Expr)
			if err != nil || !v.IsWhollyKnown() {
				continue
			}
			cev := newEvaluator(child, map[string]cty.Value{vb.Labels[0]: v})
			for _, val := range childBlocks(vb, "validation") {
				cond := attr(val, "condition")
				if cond == nil || !onlyVar(cond.Expr.Variables(), vb.Labels[0]) {
					continue
				}
				res, err := cev.eval(cond.Expr)
				if err != nil || !res.IsKnown() || res.IsNull() || res.Type() != cty.Bool || res.True() {
					continue
				}
				msg := "fails its validation"
				if ma := attr(val, "error_message"); ma != nil {
					if mv, err := cev.eval(ma.Expr); err == nil && mv.Type() == cty.String && mv.IsKnown() {
						msg = mv.AsString()
					}
				}
				blame := strings.TrimPrefix(firstVarRef(tree, arg.Expr), "var.")
				problems = append(problems, ValueProblem{blame, fmt.Sprintf("module %s, variable %s: %s", call, vb.Labels[0], msg)})
			}
		}
	}
	return problems, nil
}

// onlyInputs reports whether expr depends on nothing but variables and
// locals that themselves depend only on variables.
func (m *module) onlyInputs(expr hcl.Expression, depth int) bool {
	if depth > 16 {
		return false
	}
	for _, tr := range expr.Variables() {
		name, ok := attrName(tr, 1)
		switch {
		case tr.RootName() == "var" && ok:
		case tr.RootName() == "local" && ok:
			a := m.locals()[name]
			if a == nil || !m.onlyInputs(a.Expr, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// firstVarRef returns the first root variable an expression depends on,
// through locals, for blaming a module-level problem on an input.
func firstVarRef(m *module, expr hcl.Expression) string {
	for _, r := range refs(expr) {
		if strings.HasPrefix(r, "var.") {
			return r
		}
		if name, ok := strings.CutPrefix(r, "local."); ok {
			if a := m.locals()[name]; a != nil {
				if v := firstVarRef(m, a.Expr); v != "" {
					return v
				}
			}
		}
	}
	return ""
}
