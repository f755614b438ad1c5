// Package lambdabuild cross-compiles the Lambda in lambda/ into a file named
// bootstrap (runtime provided.al2023) and packs it into a reproducible zip:
// the same sources and Go toolchain give a byte-identical zip on every run
// and every machine.
//
// Reproducibility comes from the build flags (-trimpath, -buildvcs=false,
// -ldflags "-s -w -buildid=", CGO off, pinned GOAMD64/GOARM64 levels) and from
// the zip itself: one entry, fixed name, mode 0755, a fixed 1980-01-01
// timestamp and deflate at a fixed level.
//
// Failure policy: the zip is written to a temporary file in the target folder
// and renamed into place only when complete. When a build fails (compile
// error, missing toolchain, interruption), a zip already at ZipPath is
// removed, so that no later step (deploy, a human) mistakes the output of an
// older build for the result of this one. Bad options are rejected before
// anything is touched.
package lambdabuild

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/challengectl/challengectl/internal/clierr"
)

// Options of one build.
type Options struct {
	ProjectDir string // module root holding lambda/ (go build ./lambda runs there)
	Arch       string // "arm64" (default) or "amd64"; anything else is a usage error naming --arch
	GOOS       string // default "linux"; `local` passes runtime.GOOS
	ZipPath    string // write the zip here; empty: no zip
	BinaryPath string // where bootstrap is written; empty: a temporary file, removed after zipping
	Logger     *slog.Logger
}

// Result describes what was built.
type Result struct {
	Arch           string        `json:"arch"`
	GOOS           string        `json:"goos"`
	ZipPath        string        `json:"path,omitempty"`
	BinaryPath     string        `json:"binary_path,omitempty"`
	SHA256         string        `json:"sha256,omitempty"`           // hex SHA-256 of the zip
	SourceCodeHash string        `json:"source_code_hash,omitempty"` // base64 SHA-256 of the zip, as Terraform's source_code_hash wants it
	Size           int64         `json:"size"`                       // bytes of the zip (of the binary when no zip is written)
	Duration       time.Duration `json:"-"`
}

// Package is the Go package built into bootstrap, relative to ProjectDir.
const Package = "./lambda"

// BinaryName is the file name the provided.al2023 runtime executes.
const BinaryName = "bootstrap"

// ZipTime is the modification time of the zip entry: the earliest time a zip
// (MS-DOS) timestamp can hold, so it never depends on the clock or the zone.
var ZipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// ZipMode is the permission of bootstrap inside the zip: Lambda must be able
// to execute it.
const ZipMode os.FileMode = 0o755

// zipLevel is fixed: compress/flate's output depends only on the input and
// the level (for a given Go release), which keeps the zip byte-identical.
// Level 6 was measured on the arm64 bootstrap (5.6 MiB): 2.36 MiB in about
// 0.3 s, where level 9 saved 8 KiB for three times the time, which would
// eat most of the 2 s budget of a no-change rebuild.
const zipLevel = flate.DefaultCompression

// ToolchainError reports that no usable Go toolchain was found.
type ToolchainError struct{ Err error }

func (e *ToolchainError) Error() string {
	return fmt.Sprintf("the Go toolchain is needed to build the Lambda but `go` was not found on PATH (%v): install Go 1.26 or newer from https://go.dev/dl/ and make sure `go version` works in this shell", e.Err)
}
func (e *ToolchainError) Unwrap() error { return e.Err }

// CompileError is a failed `go build`; Output holds what the compiler said.
type CompileError struct {
	Args   []string
	Output string
	Err    error
}

func (e *CompileError) Error() string {
	out := strings.TrimSpace(e.Output)
	if out == "" {
		return fmt.Sprintf("go build %s failed: %v", Package, e.Err)
	}
	return fmt.Sprintf("go build %s failed: %v\n%s", Package, e.Err, out)
}
func (e *CompileError) Unwrap() error { return e.Err }

// HostArch returns the architecture of this machine as Lambda knows it
// (arm64 or amd64); other architectures are returned as Go names them.
func HostArch() string { return runtime.GOARCH }

// NormalizeArch validates an --arch value and returns Go's name for it.
// Lambda's own names are accepted too: x86_64 is amd64, aarch64 is arm64.
// Empty means arm64, the cheaper Lambda architecture.
func NormalizeArch(arch string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(arch)) {
	case "", "arm64", "aarch64":
		return "arm64", nil
	case "amd64", "x86_64", "x86-64":
		return "amd64", nil
	}
	return "", clierr.Usage("--arch", fmt.Sprintf("%q is not a Lambda architecture", arch), "use arm64 or amd64")
}

// LambdaArchitecture returns the name Lambda and Terraform use for a Go
// architecture ("x86_64" for amd64, "arm64" for arm64).
func LambdaArchitecture(goarch string) string {
	if goarch == "amd64" {
		return "x86_64"
	}
	return goarch
}

// supportedGOOS are the systems bootstrap is built for: linux for Lambda,
// the others for `challengectl local` on a developer's machine.
var supportedGOOS = map[string]bool{"linux": true, "darwin": true, "windows": true, "freebsd": true}

// Command is the go invocation of a build: argv and the environment entries
// that override the caller's. It is built apart from running it so the exact
// flags are unit-tested.
type Command struct {
	Dir  string   // where go runs: the module root
	Args []string // argv, starting with "go"
	Env  []string // KEY=VALUE entries added to (and overriding) the environment
}

// BuildCommand returns the go build command that compiles pkg for goos/arch
// into out. It is exported for benchmarks that build a baseline program with
// exactly the same flags.
func BuildCommand(dir, pkg, goos, arch, out string) Command {
	return Command{
		Dir: dir,
		Args: []string{
			"go", "build",
			"-trimpath",       // no local paths in the binary
			"-buildvcs=false", // no VCS stamp: a dirty checkout builds the same bytes
			"-ldflags=-s -w -buildid=",
			"-tags=lambda.norpc", // provided.al2023 needs no net/rpc shim
			"-o", out,
			pkg,
		},
		Env: []string{
			"GOOS=" + goos,
			"GOARCH=" + arch,
			"CGO_ENABLED=0", // static binary: no libc on the Lambda side to match
			// The micro-architecture levels are pinned to Go's defaults so a
			// GOAMD64=v3 in someone's shell neither changes the bytes nor
			// produces a binary Lambda's CPUs might not run.
			"GOAMD64=v1",
			"GOARM64=v8.0",
		},
	}
}

// Build compiles the Lambda and, when ZipPath is set, writes the zip.
func Build(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	arch, err := NormalizeArch(o.Arch)
	if err != nil {
		return nil, err
	}
	goos := o.GOOS
	if goos == "" {
		goos = "linux"
	}
	if !supportedGOOS[goos] {
		return nil, fmt.Errorf("lambdabuild: cannot build bootstrap for GOOS %q", goos)
	}
	if o.ProjectDir == "" {
		return nil, errors.New("lambdabuild: ProjectDir is empty")
	}
	if o.ZipPath == "" && o.BinaryPath == "" {
		return nil, errors.New("lambdabuild: neither ZipPath nor BinaryPath is set: nothing to write")
	}
	if st, err := os.Stat(filepath.Join(o.ProjectDir, "lambda")); err != nil || !st.IsDir() {
		return nil, clierr.Usage("--project-dir", fmt.Sprintf("%s has no lambda/ folder", o.ProjectDir), "point it at a challengectl checkout")
	}

	res, err := build(ctx, log, o, goos, arch)
	if err != nil {
		if o.ZipPath != "" {
			// See the package comment: never leave an old zip that looks
			// like the product of this (failed) build.
			if rmErr := os.Remove(o.ZipPath); rmErr == nil {
				log.Warn("removed the package of an earlier build so it is not mistaken for this one", "path", o.ZipPath)
			} else if !errors.Is(rmErr, os.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("remove stale %s: %w", o.ZipPath, rmErr))
			}
		}
		if ctx.Err() != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		return nil, err
	}
	res.Duration = time.Since(start)
	log.Debug("build done", "duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

func build(ctx context.Context, log *slog.Logger, o Options, goos, arch string) (*Result, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, &ToolchainError{Err: err}
	}

	// The binary goes to a private temporary folder first: next to its final
	// home, so the rename below is atomic, and never half-written in place.
	tmpParent := os.TempDir()
	switch {
	case o.BinaryPath != "":
		tmpParent = filepath.Dir(o.BinaryPath)
	case o.ZipPath != "":
		tmpParent = filepath.Dir(o.ZipPath)
	}
	if err := os.MkdirAll(tmpParent, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	if o.ZipPath != "" {
		if err := os.MkdirAll(filepath.Dir(o.ZipPath), 0o755); err != nil {
			return nil, fmt.Errorf("create output folder: %w", err)
		}
	}
	tmpDir, err := os.MkdirTemp(tmpParent, ".lambdabuild-*")
	if err != nil {
		return nil, fmt.Errorf("create build folder: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	bin := filepath.Join(tmpDir, BinaryName)

	bc := BuildCommand(o.ProjectDir, Package, goos, arch, bin)
	log.Info("building the Lambda", "package", Package, "goos", goos, "arch", arch)
	log.Debug("running", "dir", bc.Dir, "argv", strings.Join(bc.Args, " "), "env", strings.Join(bc.Env, " "))
	if err := run(ctx, goBin, bc); err != nil {
		return nil, err
	}

	res := &Result{Arch: arch, GOOS: goos}
	if o.ZipPath != "" {
		sum, size, err := writeZip(bin, o.ZipPath)
		if err != nil {
			return nil, err
		}
		res.ZipPath = o.ZipPath
		res.Size = size
		res.SHA256 = hex.EncodeToString(sum)
		res.SourceCodeHash = base64.StdEncoding.EncodeToString(sum)
	}
	if o.BinaryPath != "" {
		if err := os.Rename(bin, o.BinaryPath); err != nil {
			return nil, fmt.Errorf("move bootstrap into place: %w", err)
		}
		res.BinaryPath = o.BinaryPath
		if res.ZipPath == "" {
			if st, err := os.Stat(o.BinaryPath); err == nil {
				res.Size = st.Size()
			}
		}
	}
	return res, nil
}

// run executes the go command. Cancelling ctx interrupts go (which stops its
// compilers) and gives it a few seconds before killing it.
func run(ctx context.Context, goBin string, bc Command) error {
	cmd := exec.CommandContext(ctx, goBin, bc.Args[1:]...)
	cmd.Dir = bc.Dir
	cmd.Env = append(os.Environ(), bc.Env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("go build interrupted: %w", ctx.Err())
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return &CompileError{Args: bc.Args, Output: out.String(), Err: err}
		}
		return &ToolchainError{Err: err}
	}
	return nil
}

// writeZip packs bin as the single entry "bootstrap" into a temporary file
// next to dst and renames it into place. It returns the SHA-256 and size of
// the zip.
func writeZip(bin, dst string) ([]byte, int64, error) {
	src, err := os.Open(bin)
	if err != nil {
		return nil, 0, fmt.Errorf("open bootstrap: %w", err)
	}
	defer src.Close()

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return nil, 0, fmt.Errorf("create package: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	if err := WriteZip(io.MultiWriter(tmp, h), src); err != nil {
		return nil, 0, fmt.Errorf("write package: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, 0, fmt.Errorf("write package: %w", err)
	}
	st, err := tmp.Stat()
	if err != nil {
		return nil, 0, err
	}
	if err := tmp.Close(); err != nil {
		return nil, 0, fmt.Errorf("write package: %w", err)
	}
	// CreateTemp makes the file 0600; a package is not a secret.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, 0, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return nil, 0, fmt.Errorf("move package into place: %w", err)
	}
	committed = true
	return h.Sum(nil), st.Size(), nil
}

// WriteZip writes a zip holding exactly one entry, bootstrap, with content
// from r, mode 0755, time ZipTime and deflate at a fixed level: the same
// input always gives the same bytes.
func WriteZip(w io.Writer, r io.Reader) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, zipLevel)
	})
	hdr := &zip.FileHeader{Name: BinaryName, Method: zip.Deflate, Modified: ZipTime}
	hdr.SetMode(ZipMode)
	fw, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	if _, err := io.Copy(fw, r); err != nil {
		return err
	}
	return zw.Close()
}
