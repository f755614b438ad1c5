package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/challengectl/challengectl/internal/tfdriver"
)

// TestGuardRefusesReplacement: once the stage exists, a plan that replaces
// the function is refused (nothing applied) unless AllowReplace.
func TestGuardRefusesReplacement(t *testing.T) {
	e := newBackend(t)
	ctx := context.Background()
	o := e.options(t, nil)
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	// A changed triggers_replace forces a new function in the fixture.
	if err := os.WriteFile(filepath.Join(o.TerraformDir, "replace.txt"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, o)
	var ge *tfdriver.GuardError
	if !errors.As(err, &ge) {
		t.Fatalf("want *GuardError, got %T: %v", err, err)
	}
	if len(ge.Changes) != 1 || ge.Changes[0].Address != "terraform_data.function" || ge.Changes[0].Action != "replace" {
		t.Errorf("guarded changes = %+v", ge.Changes)
	}
	if !strings.Contains(err.Error(), "--allow-replace") || !strings.Contains(ge.Changes[0].Reason, "triggers_replace") {
		t.Errorf("message lacks the why or the override: %v", err)
	}
	if res == nil || res.Applied {
		t.Fatalf("guarded deploy applied: %+v", res)
	}
	// The refused plan really was not applied: the same plan is still pending.
	o.PlanOnly, o.AllowReplace = true, true
	if res, err = Run(ctx, o); err != nil || res.Summary != (PlanSummary{Add: 1, Destroy: 1}) {
		t.Fatalf("plan after refusal: %+v, %v", res, err)
	}
	o.PlanOnly = false
	if res, err = Run(ctx, o); err != nil || !res.Applied {
		t.Fatalf("--allow-replace: %+v, %v", res, err)
	}
}

// TestAdoptExistingFunction: the function exists in AWS (kumo) but not in
// the state. Deploy stops with the remedy; with Adopt it imports the
// function and its API Gateway permission, then deploys.
func TestAdoptExistingFunction(t *testing.T) {
	e := newBackend(t)
	ctx := context.Background()
	lc := lambda.NewFromConfig(e.cfg)
	// kumo servers in one process share storage (also across -count runs):
	// this run's own stage.
	stage := "adopt" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	name := "challenge-api-" + stage
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      lambdatypes.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String("arn:aws:iam::000000000000:role/lambda"),
		Code:         &lambdatypes.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))},
	}); err != nil {
		t.Fatal(err)
	}
	// kumo 0.33 has no aliases, so the leftover permission sits on the
	// function itself (import ID "<function>/<sid>").
	sid := "AllowAPIGatewayInvoke-" + stage + "-20250101"
	if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String(name), StatementId: aws.String(sid),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
	}); err != nil {
		t.Fatal(err)
	}
	o := e.options(t, map[string]string{"permission.tf": `resource "terraform_data" "permission" { input = "invoke" }` + "\n"})
	o.Stage = stage
	_, err := Run(ctx, o)
	var ae *tfdriver.AdoptError
	if !errors.As(err, &ae) {
		t.Fatalf("want *AdoptError, got %T: %v", err, err)
	}
	if !strings.Contains(err.Error(), "challengectl deploy --adopt") || !strings.Contains(err.Error(), " import ") || !strings.Contains(err.Error(), "terraform_data.function "+name) {
		t.Errorf("message lacks the remedy: %v", err)
	}
	o.Adopt = true
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("--adopt: %v", err)
	}
	if want := []string{"terraform_data.function", "terraform_data.permission"}; strings.Join(res.Imported, ",") != strings.Join(want, ",") {
		t.Errorf("imported %v, want %v", res.Imported, want)
	}
	if !res.Applied || res.Summary.Add != 2 { // api and usage plan; function and permission were adopted
		t.Errorf("after adopt: %+v", res.Summary)
	}
}

// TestUnlockStaleLock: a deploy crashes (SIGKILL) while applying and leaves
// the lock behind, as in the seed's README. LockHolder shows the holder, a
// wrong ID is refused, Unlock(ID) releases it, and the next deploy works.
func TestUnlockStaleLock(t *testing.T) {
	e := newBackend(t)
	o := e.options(t, map[string]string{"slow.tf": slowTF})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, o)
		done <- err
	}()
	held := waitForLock(t, o, "OperationTypeApply", done)
	killTofu(t)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("deploy did not return after its terraform was killed")
	}
	stale, err := LockHolder(ctx, o)
	if err != nil || stale == nil || stale.ID != held.ID {
		t.Fatalf("stale lock = %+v, %v; want %s", stale, err, held.ID)
	}
	var nl *NotLockedError
	if err := Unlock(ctx, o, "not-the-id"); !errors.As(err, &nl) || nl.Current == nil {
		t.Fatalf("unlock with a wrong ID: %v", err)
	}
	if err := Unlock(ctx, o, held.ID); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if li, err := LockHolder(ctx, o); err != nil || li != nil {
		t.Fatalf("after unlock: %+v, %v", li, err)
	}
	if err := Unlock(ctx, o, held.ID); !errors.As(err, &nl) || nl.Current != nil {
		t.Fatalf("second unlock: want not locked, got %v", err)
	}
	o.PlanOnly = true
	if _, err := Run(ctx, o); err != nil {
		t.Fatalf("plan after unlock: %v", err)
	}
}

// killTofu SIGKILLs our tofu children and their process groups: a crash.
func killTofu(t *testing.T) {
	t.Helper()
	for _, p := range processesMatching(t, "tofu", "-") {
		var pid int
		if _, err := fmtSscan(p, &pid); err == nil {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, p := range processesMatching(t, "none", "173") {
		var pid int
		if _, err := fmtSscan(p, &pid); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
