package deploy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestDeployLifecycle: first deploy creates everything and yields the
// outputs; a second one with the same inputs changes nothing; new code is an
// in-place update; the state lands at the per-stage key with versions;
// destroy removes everything.
func TestDeployLifecycle(t *testing.T) {
	e := newBackend(t)
	ctx := context.Background()
	o := e.options(t, nil)
	var progress [][2]int
	o.Progress = func(done, total int) { progress = append(progress, [2]int{done, total}) }

	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("first deploy: %v", err)
	}
	if !res.Applied || res.Summary != (PlanSummary{Add: 3}) {
		t.Fatalf("first deploy: applied=%v summary=%+v, want 3 adds applied", res.Applied, res.Summary)
	}
	if last := progress[len(progress)-1]; last != [2]int{3, 3} {
		t.Errorf("progress ended at %v, want [3 3] (all: %v)", last, progress)
	}
	url := res.Outputs["api_url"].String()
	if !strings.HasPrefix(url, "https://") || !strings.HasSuffix(url, ".execute-api.us-east-1.amazonaws.com/test") {
		t.Errorf("api_url = %q", url)
	}
	if k := res.Outputs["api_key"]; !k.Sensitive || len(k.String()) != 64 {
		t.Errorf("api_key = %+v, want a sensitive 64-char value", k)
	}
	if got := res.StateKey; got != "challenge-api/test/terraform.tfstate" {
		t.Errorf("state key = %q", got)
	}

	// Same inputs: nothing to do, nothing applied.
	res2, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("second deploy: %v", err)
	}
	if !res2.NoChanges || res2.Applied {
		t.Fatalf("second deploy: %+v, want no changes and nothing applied", res2)
	}
	if res2.Outputs["api_url"].String() != url {
		t.Errorf("api_url changed without a change: %q → %q", url, res2.Outputs["api_url"])
	}

	// New code: an in-place update of the function, no replacement.
	o.PackagePath = writeZip(t, "v2")
	res3, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("code update: %v", err)
	}
	if res3.Summary != (PlanSummary{Change: 1}) || !res3.Applied {
		t.Fatalf("code update: %+v, want 1 change applied", res3.Summary)
	}

	// The state object is at the per-stage key, with one version per write.
	s3c := s3.NewFromConfig(e.cfg, func(so *s3.Options) { so.UsePathStyle = true })
	vers, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(e.bucket), Prefix: aws.String("challenge-api/test/")})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range vers.Versions {
		if aws.ToString(v.Key) != "challenge-api/test/terraform.tfstate" {
			t.Errorf("unexpected object %s", aws.ToString(v.Key))
		}
		n++
	}
	if n < 2 {
		t.Errorf("state has %d versions, want ≥ 2 (two applies)", n)
	}

	// No plan file (it embeds the state, and the key) is left behind.
	if _, err := os.Stat(filepath.Join(o.TerraformDir, ".terraform-test", "challengectl.tfplan")); !os.IsNotExist(err) {
		t.Errorf("plan file left after deploy: %v", err)
	}

	url2, key, err := ReadOutputs(ctx, o)
	if err != nil || url2 != url || key != res.Outputs["api_key"].String() {
		t.Errorf("ReadOutputs = %q, (key len %d), %v", url2, len(key), err)
	}

	dres, err := Destroy(ctx, o)
	if err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if !dres.Destroyed || dres.Summary != (PlanSummary{Destroy: 3}) {
		t.Fatalf("destroy: %+v", dres)
	}
	if _, err := Outputs(ctx, o); err == nil {
		t.Fatal("outputs after destroy: want NotDeployedError")
	} else if _, ok := err.(*NotDeployedError); !ok {
		t.Fatalf("outputs after destroy: %T %v", err, err)
	}
}
