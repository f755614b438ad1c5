package deploy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestOutputOnlyChangeIsApplied: a plan that changes an output but no
// resource must still be applied, or the state keeps serving the old value
// to `outputs`, smoke and loadtest.
func TestOutputOnlyChangeIsApplied(t *testing.T) {
	e := newBackend(t)
	ctx := context.Background()
	o := e.options(t, map[string]string{
		"note.tf":  `output "note" { value = trimspace(file("${path.module}/note.txt")) }`,
		"note.txt": "first",
	})
	if _, err := Run(ctx, o); err != nil {
		t.Fatalf("first deploy: %v", err)
	}
	if err := os.WriteFile(filepath.Join(o.TerraformDir, "note.txt"), []byte("second"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("second deploy: %v", err)
	}
	if res.Summary != (PlanSummary{}) {
		t.Fatalf("summary %+v, want no resource change", res.Summary)
	}
	if res.NoChanges || !res.Applied {
		t.Fatalf("no_changes=%v applied=%v, want the output change applied", res.NoChanges, res.Applied)
	}
	if got := res.Outputs["note"].String(); got != "second" {
		t.Fatalf("note = %q, want the new value", got)
	}
	outs, err := Outputs(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := outs["note"].String(); got != "second" {
		t.Fatalf("state output note = %q, want second", got)
	}
}
