package tfconfig

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/challengectl/challengectl/internal/testtools"
)

// BenchmarkParseTree is the baseline for BenchmarkCheck: parsing the tree's
// HCL alone, which Check must do anyway.
func BenchmarkParseTree(b *testing.B) {
	dir := treeDir(b)
	for b.Loop() {
		if _, err := loadTree(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is the whole invariant check of the real tree.
func BenchmarkCheck(b *testing.B) {
	dir := treeDir(b)
	for b.Loop() {
		vs, err := Check(dir)
		if err != nil || len(vs) != 0 {
			b.Fatal(err, vs)
		}
	}
}

var benchValues = map[string]any{
	"region":           "",
	"package_zip":      "dist/package.zip",
	"source_code_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
}

// BenchmarkCheckValues rejects an empty region in-process.
func BenchmarkCheckValues(b *testing.B) {
	dir := treeDir(b)
	for b.Loop() {
		if err := CheckValues(dir, benchValues); err == nil {
			b.Fatal("empty region accepted")
		}
	}
}

// BenchmarkTofuPlanValidation is CheckValues's baseline: the same rejection
// by running `tofu plan` on the variables (the cheapest way to ask
// Terraform, with no provider to load).
func BenchmarkTofuPlanValidation(b *testing.B) {
	tofu := testtools.Path(b, "tofu")
	dir := b.TempDir()
	src, err := os.ReadFile(filepath.Join(treeDir(b), "variables.tf"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "variables.tf"), src, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "v.tfvars.json"), []byte(`{"region":"","package_zip":"dist/package.zip","source_code_hash":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}`), 0o644); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null", "HOME="+b.TempDir(), "CHECKPOINT_DISABLE=1")
	for b.Loop() {
		cmd := exec.Command(tofu, "plan", "-input=false", "-no-color", "-lock=false", "-var-file=v.tfvars.json")
		cmd.Dir, cmd.Env = dir, env
		if err := cmd.Run(); err == nil {
			b.Fatal("tofu accepted an empty region")
		}
	}
}
