package deploy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/challengectl/challengectl/internal/testtools"
)

// TestDeployBuildsPackage: without --package, deploy cross-compiles lambda/
// (internal/lambdabuild) into the project's dist/package.zip and hands its
// hash to Terraform.
func TestDeployBuildsPackage(t *testing.T) {
	testtools.GoToolchain(t)
	e := newBackend(t)
	root := testtools.ModuleRoot(t)
	proj := t.TempDir()
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proj, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(proj, "lambda"), os.DirFS(filepath.Join(root, "lambda"))); err != nil {
		t.Fatal(err)
	}
	o := e.options(t, nil)
	o.PackagePath, o.ProjectDir = "", proj
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(proj, "dist", "package.zip")
	if res.PackagePath != want {
		t.Errorf("package = %s, want %s", res.PackagePath, want)
	}
	hash, err := SourceCodeHash(want)
	if err != nil || hash != res.SourceCodeHash || !res.Applied {
		t.Errorf("hash %s vs %s (%v), applied %v", hash, res.SourceCodeHash, err, res.Applied)
	}
}
