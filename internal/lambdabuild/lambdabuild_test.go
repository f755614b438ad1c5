package lambdabuild

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/testtools"
)

func TestBuildCommand(t *testing.T) {
	c := BuildCommand("/src", "./lambda", "linux", "arm64", "/tmp/x/bootstrap")
	want := []string{"go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-tags=lambda.norpc", "-o", "/tmp/x/bootstrap", "./lambda"}
	if !slices.Equal(c.Args, want) {
		t.Fatalf("argv = %q\nwant   %q", c.Args, want)
	}
	if c.Dir != "/src" {
		t.Fatalf("dir = %q", c.Dir)
	}
	for _, kv := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOAMD64=v1", "GOARM64=v8.0"} {
		if !slices.Contains(c.Env, kv) {
			t.Errorf("env lacks %s: %q", kv, c.Env)
		}
	}
	if c := BuildCommand("/src", "./lambda", "darwin", "amd64", "b"); !slices.Contains(c.Env, "GOOS=darwin") || !slices.Contains(c.Env, "GOARCH=amd64") {
		t.Errorf("env = %q", c.Env)
	}
}

func TestNormalizeArch(t *testing.T) {
	for in, want := range map[string]string{"": "arm64", "arm64": "arm64", "ARM64": "arm64", "aarch64": "arm64", "amd64": "amd64", "x86_64": "amd64"} {
		got, err := NormalizeArch(in)
		if err != nil || got != want {
			t.Errorf("NormalizeArch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"386", "riscv64", "arm", "x86"} {
		_, err := NormalizeArch(bad)
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != "--arch" {
			t.Errorf("NormalizeArch(%q) = %v, want a usage error on --arch", bad, err)
		}
	}
	if LambdaArchitecture("amd64") != "x86_64" || LambdaArchitecture("arm64") != "arm64" {
		t.Error("LambdaArchitecture")
	}
}

// TestWriteZipDeterministic checks the zip format alone, without a compiler:
// same bytes in, same bytes out, and the entry as Lambda needs it.
func TestWriteZipDeterministic(t *testing.T) {
	content := bytes.Repeat([]byte("ELF binary-ish content "), 5000)
	var a, b bytes.Buffer
	if err := WriteZip(&a, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if err := WriteZip(&b, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two zips of the same content differ")
	}
	checkZip(t, a.Bytes(), content)
}

// checkZip asserts the zip holds exactly bootstrap, mode 0755, the fixed
// time, and (when want is not nil) the given content.
func checkZip(t *testing.T, data, want []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" {
		t.Errorf("entry name %q", f.Name)
	}
	if f.Mode() != 0o755 {
		t.Errorf("entry mode %v, want -rwxr-xr-x", f.Mode())
	}
	if !f.Modified.Equal(ZipTime) {
		t.Errorf("entry time %v, want %v", f.Modified, ZipTime)
	}
	if f.Method != zip.Deflate {
		t.Errorf("method %d, want deflate", f.Method)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatalf("read entry (checksum): %v", err)
	}
	if want != nil && !bytes.Equal(got, want) {
		t.Error("entry content differs from the input")
	}
}

// TestBuildReproducible builds the real lambda/ twice for linux/arm64 into
// different folders: the zips must be byte-identical, hold one executable
// ELF entry, and the reported hashes must match the file.
func TestBuildReproducible(t *testing.T) {
	testtools.GoToolchain(t)
	root := testtools.ModuleRoot(t)
	dir := t.TempDir()
	var zips [2][]byte
	var results [2]*Result
	for i := range 2 {
		zp := filepath.Join(dir, string(rune('a'+i)), "package.zip")
		res, err := Build(context.Background(), Options{ProjectDir: root, ZipPath: zp})
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
		data, err := os.ReadFile(zp)
		if err != nil {
			t.Fatal(err)
		}
		zips[i], results[i] = data, res
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Fatalf("two builds of the same sources differ: %s vs %s", results[0].SHA256, results[1].SHA256)
	}
	res := results[0]
	sum := sha256.Sum256(zips[0])
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.SourceCodeHash != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("hashes %s / %s do not match the file", res.SHA256, res.SourceCodeHash)
	}
	if res.Size != int64(len(zips[0])) || res.Arch != "arm64" || res.GOOS != "linux" {
		t.Fatalf("result = %+v", res)
	}
	checkZip(t, zips[0], nil)
	zr, _ := zip.NewReader(bytes.NewReader(zips[0]), int64(len(zips[0])))
	rc, _ := zr.File[0].Open()
	head := make([]byte, 20)
	_, _ = io.ReadFull(rc, head)
	rc.Close()
	// ELF magic, 64-bit, and e_machine 183 (AArch64) at offset 18.
	if !bytes.HasPrefix(head, []byte("\x7fELF\x02")) || head[18] != 183 {
		t.Fatalf("bootstrap is not a linux/arm64 ELF: % x", head)
	}
	// Nothing but the zip is left in the output folder.
	entries, _ := os.ReadDir(filepath.Dir(res.ZipPath))
	if len(entries) != 1 {
		t.Fatalf("output folder holds %d entries, want only the zip", len(entries))
	}
}

// TestBuildBinaryForHost builds for this machine (what `local` does) and
// runs nothing: the binary must exist, be executable and no zip be written.
func TestBuildBinaryForHost(t *testing.T) {
	testtools.GoToolchain(t)
	bin := filepath.Join(t.TempDir(), "bin", "bootstrap")
	res, err := Build(context.Background(), Options{ProjectDir: testtools.ModuleRoot(t), Arch: HostArch(), GOOS: runtime.GOOS, BinaryPath: bin})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(bin)
	if err != nil || st.Mode()&0o100 == 0 {
		t.Fatalf("bootstrap not executable: %v %v", st, err)
	}
	if res.ZipPath != "" || res.SHA256 != "" || res.Size != st.Size() || res.BinaryPath != bin {
		t.Fatalf("result = %+v", res)
	}
}

// fakeProject writes a tiny module whose lambda/ fails to compile.
func fakeProject(t *testing.T, mainGo string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lambda"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/broken\n\ngo 1.22\n")
	write("lambda/main.go", mainGo)
	return dir
}

// staleZip puts an older package where the build will write.
func staleZip(t *testing.T) string {
	t.Helper()
	zp := filepath.Join(t.TempDir(), "dist", "package.zip")
	if err := os.MkdirAll(filepath.Dir(zp), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zp, []byte("old package"), 0o644); err != nil {
		t.Fatal(err)
	}
	return zp
}

func TestBuildCompileErrorRemovesStaleZip(t *testing.T) {
	testtools.GoToolchain(t)
	proj := fakeProject(t, "package main\n\nfunc main() { undefinedThing() }\n")
	zp := staleZip(t)
	_, err := Build(context.Background(), Options{ProjectDir: proj, ZipPath: zp})
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a CompileError", err)
	}
	if !strings.Contains(err.Error(), "undefined: undefinedThing") || !strings.Contains(err.Error(), "main.go:3") {
		t.Fatalf("error does not carry the compiler output: %v", err)
	}
	if _, statErr := os.Stat(zp); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatalf("stale zip still there after a failed build: %v", statErr)
	}
	entries, _ := os.ReadDir(filepath.Dir(zp))
	if len(entries) != 0 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestBuildWithoutGoToolchain(t *testing.T) {
	zp := staleZip(t)
	// An empty PATH: exec.LookPath finds no go, as on a machine without Go.
	t.Setenv("PATH", t.TempDir())
	_, err := Build(context.Background(), Options{ProjectDir: testtools.ModuleRoot(t), ZipPath: zp})
	var te *ToolchainError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a ToolchainError", err)
	}
	if !strings.Contains(err.Error(), "install Go") || !strings.Contains(err.Error(), "https://go.dev/dl/") {
		t.Fatalf("error does not say how to install Go: %v", err)
	}
	if _, statErr := os.Stat(zp); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatal("stale zip still there after a failed build")
	}
}

func TestBuildBadOptionsTouchNothing(t *testing.T) {
	zp := staleZip(t)
	_, err := Build(context.Background(), Options{ProjectDir: testtools.ModuleRoot(t), Arch: "sparc", ZipPath: zp})
	if clierr.ExitCode(err, false) != clierr.ExitUsage || !strings.Contains(err.Error(), "--arch") {
		t.Fatalf("err = %v, want a usage error naming --arch", err)
	}
	_, err = Build(context.Background(), Options{ProjectDir: t.TempDir(), ZipPath: zp})
	if clierr.ExitCode(err, false) != clierr.ExitUsage {
		t.Fatalf("err = %v, want a usage error for a folder without lambda/", err)
	}
	if data, _ := os.ReadFile(zp); string(data) != "old package" {
		t.Fatal("bad options changed the existing zip")
	}
}

func TestBuildCancelled(t *testing.T) {
	testtools.GoToolchain(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	zp := filepath.Join(t.TempDir(), "package.zip")
	_, err := Build(ctx, Options{ProjectDir: testtools.ModuleRoot(t), ZipPath: zp})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, statErr := os.Stat(zp); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatal("a zip was written by a cancelled build")
	}
}
