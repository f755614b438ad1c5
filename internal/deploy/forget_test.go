package deploy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestForgetOnlyPlanIsApplied: after a resource leaves the configuration
// through a `removed` block with destroy = false, the plan only forgets it.
// That plan must still be applied, or the state keeps the resource (and a
// later `removed` cleanup or a re-add behaves unexpectedly).
func TestForgetOnlyPlanIsApplied(t *testing.T) {
	e := newBackend(t)
	ctx := context.Background()
	o := e.options(t, map[string]string{"extra.tf": `resource "terraform_data" "extra" { input = "x" }`})
	if _, err := Run(ctx, o); err != nil {
		t.Fatalf("first deploy: %v", err)
	}
	removed := "removed {\n  from = terraform_data.extra\n  lifecycle {\n    destroy = false\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(o.TerraformDir, "extra.tf"), []byte(removed), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("second deploy: %v", err)
	}
	if res.Summary != (PlanSummary{Forget: 1}) || res.NoChanges || !res.Applied {
		t.Fatalf("summary %+v, no_changes=%v, applied=%v: want one forget, applied", res.Summary, res.NoChanges, res.Applied)
	}
	// A third run sees the resource gone from state: nothing left to do
	// (had the forget not been applied, it would be planned again).
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatalf("third deploy: %v", err)
	}
	if !res.NoChanges {
		t.Fatalf("third deploy: summary %+v, want no changes once the resource is forgotten", res.Summary)
	}
}
