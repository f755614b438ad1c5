package tfdriver

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

func rc(addr string, actions ...tfjson.Action) *tfjson.ResourceChange {
	return &tfjson.ResourceChange{Address: addr, Mode: tfjson.ManagedResourceMode, Change: &tfjson.Change{Actions: actions}}
}

func planWith(inState []string, changes ...*tfjson.ResourceChange) *Plan {
	raw := &tfjson.Plan{ResourceChanges: changes}
	if len(inState) > 0 {
		mod := &tfjson.StateModule{}
		for _, a := range inState {
			mod.Resources = append(mod.Resources, &tfjson.StateResource{Address: a, Mode: tfjson.ManagedResourceMode})
		}
		raw.PriorState = &tfjson.State{Values: &tfjson.StateValues{RootModule: &tfjson.StateModule{ChildModules: []*tfjson.StateModule{mod}}}}
	}
	return newPlan(raw, "plan")
}

const fn = "module.lambda_func.aws_lambda_function.this"
const api = "module.apigw_rest.aws_api_gateway_rest_api.this"

func TestPlanSummary(t *testing.T) {
	p := planWith(nil,
		rc("a", tfjson.ActionCreate),
		rc("b", tfjson.ActionUpdate),
		rc("c", tfjson.ActionDelete, tfjson.ActionCreate),
		rc("d", tfjson.ActionDelete),
		rc("e", tfjson.ActionNoop),
		rc("f", tfjson.ActionCreate, tfjson.ActionDelete),
	)
	if p.Summary != (PlanSummary{Add: 3, Change: 1, Destroy: 3}) {
		t.Errorf("summary = %+v", p.Summary)
	}
	if p.Operations() != 7 {
		t.Errorf("operations = %d, want 7 (two per replacement)", p.Operations())
	}
}

func TestGuard(t *testing.T) {
	// A first deploy creates everything.
	if err := Guard(planWith(nil, rc(fn, tfjson.ActionCreate), rc(api, tfjson.ActionCreate)), nil); err != nil {
		t.Errorf("first deploy refused: %v", err)
	}
	// An existing stage: updates pass, other resources may be replaced.
	existing := []string{fn, api, "module.apigw_rest.aws_api_gateway_deployment.this"}
	if err := Guard(planWith(existing, rc(fn, tfjson.ActionUpdate), rc("module.apigw_rest.aws_api_gateway_deployment.this", tfjson.ActionCreate, tfjson.ActionDelete)), nil); err != nil {
		t.Errorf("routine update refused: %v", err)
	}
	// Replacing the function or recreating the API is refused, with both named.
	err := Guard(planWith(existing, rc(fn, tfjson.ActionDelete, tfjson.ActionCreate), rc(api+`["x"]`, tfjson.ActionCreate)), nil)
	var ge *GuardError
	if !errors.As(err, &ge) || len(ge.Changes) != 2 || ge.Changes[0].Action != "replace" || ge.Changes[1].Address != api+`["x"]` {
		t.Fatalf("want both guarded changes, got %v", err)
	}
	// The list is injectable.
	if err := Guard(planWith([]string{"x.y"}, rc("terraform_data.f", tfjson.ActionCreate)), []string{"terraform_data.f"}); err == nil {
		t.Error("injected guard ignored")
	}
	p := planWith(existing)
	if !p.Has(fn) || p.Has("module.x.y") || !p.StateHasResources() {
		t.Errorf("InState = %v", p.InState)
	}
}

// hashicorpCreateThenForget is a `show -json` plan of HashiCorp Terraform
// replacing the function while keeping the old object: its JSON plan format
// lists ["create", "forget"] among the valid actions (jsonplan.Change,
// plans.CreateThenForget). OpenTofu 1.10 never plans it, and terraform-json's
// Actions.Replace() does not recognise it.
const hashicorpCreateThenForget = `{
  "format_version": "1.2",
  "terraform_version": "1.16.0",
  "resource_changes": [
    {
      "address": "module.lambda_func.aws_lambda_function.this",
      "module_address": "module.lambda_func",
      "mode": "managed",
      "type": "aws_lambda_function",
      "name": "this",
      "provider_name": "registry.terraform.io/hashicorp/aws",
      "change": {
        "actions": ["create", "forget"],
        "before": {"function_name": "challenge-api-prod"},
        "after": {"function_name": "challenge-api-prod2"},
        "after_unknown": {},
        "before_sensitive": {},
        "after_sensitive": {},
        "replace_paths": [["function_name"]]
      },
      "action_reason": "replace_because_cannot_update"
    }
  ],
  "prior_state": {
    "format_version": "1.0",
    "terraform_version": "1.16.0",
    "values": {
      "root_module": {
        "child_modules": [
          {
            "address": "module.lambda_func",
            "resources": [
              {
                "address": "module.lambda_func.aws_lambda_function.this",
                "mode": "managed",
                "type": "aws_lambda_function",
                "name": "this",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "values": {"function_name": "challenge-api-prod"}
              }
            ]
          }
        ]
      }
    }
  },
  "applyable": true,
  "complete": true,
  "errored": false
}`

// TestPlanCreateThenForget: a replacement that forgets the old function is
// still a replacement of a guarded resource (a new function created while
// the old one lives on: the 409), and a change to apply, not "no changes".
func TestPlanCreateThenForget(t *testing.T) {
	var raw tfjson.Plan
	if err := json.Unmarshal([]byte(hashicorpCreateThenForget), &raw); err != nil {
		t.Fatal(err)
	}
	p := newPlan(&raw, "plan")
	if p.Summary != (PlanSummary{Add: 1}) || p.Summary.NoChanges() {
		t.Errorf("summary = %+v, want one add and nothing destroyed", p.Summary)
	}
	if p.Operations() != 1 {
		t.Errorf("operations = %d, want 1 (the create; the old object is only forgotten)", p.Operations())
	}
	err := Guard(p, nil)
	var ge *GuardError
	if !errors.As(err, &ge) || len(ge.Changes) != 1 || ge.Changes[0].Action != "replace" || ge.Changes[0].Address != fn {
		t.Fatalf("guard: want the function's replacement refused, got %v", err)
	}
	if r := ge.Changes[0].Reason; !strings.Contains(r, "function_name") || !strings.Contains(r, "not destroyed") {
		t.Errorf("reason = %q", r)
	}
}

// TestPlanForgetOnly: a plan that only forgets resources (a `removed` block
// with destroy = false) is a change to apply, not "no changes", or the
// state would keep the resource; it is no replacement for the guard.
func TestPlanForgetOnly(t *testing.T) {
	var raw tfjson.Plan
	if err := json.Unmarshal([]byte(`{
  "format_version": "1.2",
  "resource_changes": [{
    "address": "terraform_data.old", "mode": "managed", "type": "terraform_data", "name": "old",
    "change": {"actions": ["forget"], "before": {}, "after": null}
  }]
}`), &raw); err != nil {
		t.Fatal(err)
	}
	p := newPlan(&raw, "plan")
	if p.Summary != (PlanSummary{Forget: 1}) || p.Summary.NoChanges() {
		t.Errorf("summary = %+v (no changes: %v), want one forget, to be applied", p.Summary, p.Summary.NoChanges())
	}
	if p.Operations() != 0 {
		t.Errorf("operations = %d, want 0 (forgetting makes no apply events)", p.Operations())
	}
	if err := Guard(p, []string{"terraform_data.old"}); err != nil {
		t.Errorf("guard refused a forget: %v", err)
	}
}
