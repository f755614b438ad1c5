package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/challengectl/challengectl/internal/naming"
)

// BenchmarkNoChangeDeploy measures a deploy that finds nothing to do
// (binary check, init, plan, show -json, guard, output) against the same
// OpenTofu commands run bare in the same run: the baseline is what any
// wrapper must pay, the difference is challengectl's overhead.
//
//	go test -run '^$' -bench NoChangeDeploy -benchtime 10x ./internal/deploy/
func BenchmarkNoChangeDeploy(b *testing.B) {
	e := newBackendB(b)
	o := e.optionsB(b)
	if _, err := Run(context.Background(), o); err != nil {
		b.Fatal(err)
	}
	b.Run("challengectl", func(b *testing.B) {
		for b.Loop() {
			res, err := Run(context.Background(), o)
			if err != nil || !res.NoChanges {
				b.Fatalf("%+v %v", res, err)
			}
		}
	})
	b.Run("bare-tofu", func(b *testing.B) {
		dd := filepath.Join(o.TerraformDir, naming.DataDirName(o.Stage))
		env := append(os.Environ(), "TF_DATA_DIR="+dd, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", "TF_IN_AUTOMATION=1")
		run := func(args ...string) {
			cmd := exec.Command(e.tofu, args...)
			cmd.Dir, cmd.Env = o.TerraformDir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %v\n%s", args, err, out)
			}
		}
		for b.Loop() {
			run("init", "-input=false", "-reconfigure", "-backend-config="+filepath.Join(dd, "challengectl-backend.hcl"))
			run("plan", "-input=false", "-lock-timeout=0s", "-out="+filepath.Join(dd, "bare.tfplan"), "-var-file="+filepath.Join(dd, "challengectl.tfvars.json"))
			run("show", "-json", filepath.Join(dd, "bare.tfplan"))
			run("output", "-json")
		}
	})
}
