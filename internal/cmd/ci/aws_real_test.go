package ci_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/challengectl/challengectl/internal/app"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
	"github.com/challengectl/challengectl/internal/testtools"
)

// TestCIAgainstRealAWS deploys the real terraform/ tree to a real AWS
// account, smoke-tests and load-tests it, then destroys it. It runs only
// when CHALLENGECTL_E2E_AWS=1, with credentials, AWS_REGION,
// TF_STATE_BUCKET and TF_STATE_TABLE in the environment, and uses the stage
// CHALLENGECTL_E2E_STAGE (default "e2e") so it never touches prod.
func TestCIAgainstRealAWS(t *testing.T) {
	if os.Getenv("CHALLENGECTL_E2E_AWS") != "1" {
		t.Skip("real-AWS end-to-end test: set CHALLENGECTL_E2E_AWS=1 (costs money, needs credentials)")
	}
	for _, k := range []string{"AWS_REGION", "TF_STATE_BUCKET", "TF_STATE_TABLE"} {
		if os.Getenv(k) == "" {
			t.Fatalf("CHALLENGECTL_E2E_AWS=1 needs %s", k)
		}
	}
	stage := os.Getenv("CHALLENGECTL_E2E_STAGE")
	if stage == "" {
		stage = "e2e"
	}
	root := testtools.ModuleRoot(t)
	run := func(args ...string) (int, string) {
		ios, _, out, errOut := iostreams.Test()
		f := factory.New(ios, factory.BuildInfo{Version: "e2e"})
		f.WorkDir = root
		code := app.Run(context.Background(), f, append(args, "--stage", stage))
		return code, out.String() + errOut.String()
	}
	t.Cleanup(func() {
		if code, out := run("destroy", "--auto-approve"); code != 0 {
			t.Errorf("destroy: exit %d\n%s", code, out)
		}
	})
	code, out := run("ci", "--target", "aws", "--loadtest", "--auto-approve")
	if code != 0 {
		t.Fatalf("ci --target aws: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "3/3 checks passed") {
		t.Fatalf("smoke did not pass:\n%s", out)
	}
}
