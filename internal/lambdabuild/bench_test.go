package lambdabuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/challengectl/challengectl/internal/testtools"
)

// BenchmarkRebuild measures `build` with no source change (the Go build
// cache is warm after the first, untimed build): ns/op is the whole rebuild,
// zip included (target ≤ 2 s). It also reports the arm64 zip size (target
// ≤ 4 MiB) and, as a baseline measured in the same run, the bare `go build`
// with the same flags: the floor any rebuild pays.
//
//	go test -run '^$' -bench Rebuild -benchtime 5x ./internal/lambdabuild/
func BenchmarkRebuild(b *testing.B) {
	testtools.GoToolchain(b)
	root := testtools.ModuleRoot(b)
	dir := b.TempDir()
	zp := filepath.Join(dir, "package.zip")
	first, err := Build(context.Background(), Options{ProjectDir: root, ZipPath: zp})
	if err != nil {
		b.Fatal(err)
	}

	var base float64
	b.Run("go-build-baseline", func(b *testing.B) {
		bc := BuildCommand(root, Package, "linux", "arm64", filepath.Join(dir, "bare"))
		for b.Loop() {
			cmd := exec.Command("go", bc.Args[1:]...)
			cmd.Dir, cmd.Env = bc.Dir, append(os.Environ(), bc.Env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
		base = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("build-zip-arm64", func(b *testing.B) {
		var res *Result
		for b.Loop() {
			res, err = Build(context.Background(), Options{ProjectDir: root, ZipPath: zp})
			if err != nil {
				b.Fatal(err)
			}
		}
		if res.SHA256 != first.SHA256 {
			b.Fatalf("rebuild changed the zip: %s → %s", first.SHA256, res.SHA256)
		}
		per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(per/1e9, "s/rebuild")
		b.ReportMetric(float64(res.Size)/(1<<20), "zip-MiB")
		if base > 0 {
			b.ReportMetric(per/base, "x-go-build")
		}
	})
}
