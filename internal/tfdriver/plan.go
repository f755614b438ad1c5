package tfdriver

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// DefaultGuarded are the resources a routine deploy must never create or
// replace once the stage exists: the Lambda function and the REST API.
var DefaultGuarded = []string{
	"module.lambda_func.aws_lambda_function.this",
	"module.apigw_rest.aws_api_gateway_rest_api.this",
}

// PlanSummary counts a plan's changes the way Terraform's own summary does:
// a replacement is one add and one destroy.
type PlanSummary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
	// Forget counts resources the plan removes from state without destroying
	// them (`removed` blocks, Terraform and OpenTofu 1.7+); such a plan must
	// still be applied, or the state keeps them.
	Forget int `json:"forget,omitempty"`
}

// NoChanges reports an empty plan.
func (s PlanSummary) NoChanges() bool {
	return s.Add == 0 && s.Change == 0 && s.Destroy == 0 && s.Forget == 0
}

// Planned renders the summary the way Terraform's plan does:
// "1 to add, 0 to change, 0 to destroy" (", 1 to forget" when any).
func (s PlanSummary) Planned() string {
	out := fmt.Sprintf("%d to add, %d to change, %d to destroy", s.Add, s.Change, s.Destroy)
	if s.Forget > 0 {
		out += fmt.Sprintf(", %d to forget", s.Forget)
	}
	return out
}

// Applied renders the summary of an applied plan, in Terraform's words:
// "1 added, 0 changed, 0 destroyed" (", 1 forgotten" when any).
func (s PlanSummary) Applied() string {
	out := fmt.Sprintf("%d added, %d changed, %d destroyed", s.Add, s.Change, s.Destroy)
	if s.Forget > 0 {
		out += fmt.Sprintf(", %d forgotten", s.Forget)
	}
	return out
}

// ResourceChange is one planned change, in challengectl's words.
type ResourceChange struct {
	Address string `json:"address"`
	Action  string `json:"action"` // create, update, delete, replace
	Reason  string `json:"reason,omitempty"`
}

// Plan is a saved plan read back with `show -json`.
type Plan struct {
	File       string
	HasChanges bool
	Summary    PlanSummary
	Changes    []ResourceChange
	// InState lists the managed resource addresses the prior state holds.
	InState []string
	Raw     *tfjson.Plan

	// keptOld counts replacements that create the new object and forget
	// (not destroy) the old one: one apply operation each, not two.
	keptOld int
}

func newPlan(raw *tfjson.Plan, file string) *Plan {
	p := &Plan{File: file, Raw: raw}
	if raw == nil {
		return p
	}
	for _, rc := range raw.ResourceChanges {
		if rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		a := rc.Change.Actions
		var action string
		switch {
		case a.Replace():
			action = "replace"
			p.Summary.Add++
			p.Summary.Destroy++
		case replaceKeepingOld(a):
			// A replacement whose old object is only forgotten: a new one
			// is created (with the same name, for the function: a 409) and
			// nothing is destroyed.
			action = "replace"
			p.Summary.Add++
			p.keptOld++
		case a.Create():
			action = "create"
			p.Summary.Add++
		case a.Update():
			action = "update"
			p.Summary.Change++
		case a.Delete():
			action = "delete"
			p.Summary.Destroy++
		case a.Forget():
			action = "forget"
			p.Summary.Forget++
		default:
			continue
		}
		p.Changes = append(p.Changes, ResourceChange{Address: rc.Address, Action: action, Reason: replaceReason(rc)})
	}
	if raw.PriorState != nil && raw.PriorState.Values != nil {
		collect(raw.PriorState.Values.RootModule, &p.InState)
	}
	sort.Strings(p.InState)
	return p
}

func collect(m *tfjson.StateModule, into *[]string) {
	if m == nil {
		return
	}
	for _, r := range m.Resources {
		if r.Mode == tfjson.ManagedResourceMode {
			*into = append(*into, r.Address)
		}
	}
	for _, c := range m.ChildModules {
		collect(c, into)
	}
}

// replaceKeepingOld reports HashiCorp Terraform's ["create", "forget"]
// replacement (plans.CreateThenForget, listed among the valid actions of its
// JSON plan format; planned for a resource with `lifecycle { destroy =
// false }`), which terraform-json's Actions.Replace does not recognise. The
// reverse order is accepted too, for a forget-then-create (OpenTofu has such
// an action from 1.11; its JSON form is not confirmed here).
func replaceKeepingOld(a tfjson.Actions) bool {
	return len(a) == 2 && (a[0] == tfjson.ActionCreate && a[1] == tfjson.ActionForget ||
		a[0] == tfjson.ActionForget && a[1] == tfjson.ActionCreate)
}

func replaceReason(rc *tfjson.ResourceChange) string {
	keepsOld := replaceKeepingOld(rc.Change.Actions)
	if !rc.Change.Actions.Replace() && !keepsOld {
		return ""
	}
	reason := replacePathsReason(rc)
	if keepsOld {
		if reason != "" {
			reason += "; "
		}
		return reason + "the existing object is forgotten, not destroyed (destroy = false)"
	}
	return reason
}

func replacePathsReason(rc *tfjson.ResourceChange) string {
	var paths []string
	for _, p := range rc.Change.ReplacePaths {
		if steps, ok := p.([]any); ok {
			var parts []string
			for _, s := range steps {
				if str, ok := s.(string); ok {
					parts = append(parts, str)
				}
			}
			if len(parts) > 0 {
				paths = append(paths, strings.Join(parts, "."))
			}
		}
	}
	if len(paths) > 0 {
		return "forced by a change to " + strings.Join(paths, ", ")
	}
	if rc.ActionReason != "" {
		return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(string(rc.ActionReason), "replace_"), "_", " "))
	}
	return ""
}

// Operations is the number of apply_complete events the apply will emit:
// a replacement is two operations (destroy and create), one when the old
// object is only forgotten.
func (p *Plan) Operations() int {
	n := -p.keptOld
	for _, c := range p.Changes {
		switch c.Action {
		case "replace":
			n += 2
		case "forget":
			// Forgetting makes no provider call and no apply_start or
			// apply_complete event.
		default:
			n++
		}
	}
	return n
}

// StateHasResources reports whether the prior state holds any managed resource.
func (p *Plan) StateHasResources() bool { return len(p.InState) > 0 }

// Has reports whether the prior state holds addr (or an instance of it).
func (p *Plan) Has(addr string) bool {
	for _, a := range p.InState {
		if matches(a, addr) {
			return true
		}
	}
	return false
}

// Creates reports whether the plan creates addr (or an instance of it).
func (p *Plan) Creates(addr string) bool {
	for _, c := range p.Changes {
		if c.Action == "create" && matches(c.Address, addr) {
			return true
		}
	}
	return false
}

// matches compares a resource instance address with a resource address:
// "x.y[0]" and `x.y["a"]` are instances of "x.y".
func matches(instance, addr string) bool {
	return instance == addr || strings.HasPrefix(instance, addr+"[")
}

// Guard refuses a plan that creates or replaces a guarded address while the
// prior state already holds resources. An empty guarded list means
// DefaultGuarded.
func Guard(p *Plan, guarded []string) error {
	if !p.StateHasResources() {
		return nil // a first deploy creates everything, as it should
	}
	if len(guarded) == 0 {
		guarded = DefaultGuarded
	}
	var bad []GuardedChange
	for _, c := range p.Changes {
		if c.Action != "create" && c.Action != "replace" {
			continue
		}
		if slices.ContainsFunc(guarded, func(g string) bool { return matches(c.Address, g) }) {
			bad = append(bad, GuardedChange(c))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &GuardError{Changes: bad}
}

// OutputsChange reports whether the plan changes any root output. A plan
// with no resource change can still change outputs (a new variable value
// behind an output); it must be applied, or the state keeps the old values
// and `outputs`, smoke and loadtest read stale ones.
func (p *Plan) OutputsChange() bool {
	if p.Raw == nil {
		return false
	}
	for _, oc := range p.Raw.OutputChanges {
		if oc != nil && !oc.Actions.NoOp() {
			return true
		}
	}
	return false
}
