package tfdriver

import (
	"errors"
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
