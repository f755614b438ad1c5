// Package build implements `challengectl build`: cross-compile lambda/ into
// bootstrap and write the reproducible zip that deploy uploads.
package build

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/render"
)

// DefaultOut is where the zip goes, relative to the project directory.
const DefaultOut = "dist/package.zip"

// Options of the build command.
type Options struct {
	Factory *factory.Factory
	Arch    string // normalized Go name: arm64 or amd64
	Out     string // as given; empty means <project>/dist/package.zip
}

// Output is the -o json document (and the fields of the text output).
type Output struct {
	Path           string `json:"path"`
	Size           int64  `json:"size"`
	SHA256         string `json:"sha256"`
	Arch           string `json:"arch"`
	SourceCodeHash string `json:"source_code_hash"`
}

// NewCmdBuild builds the command; runF replaces the run in flag tests.
func NewCmdBuild(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "build [--arch arm64|amd64] [--out PATH]",
		Short: "Cross-compile lambda/ into bootstrap and write a reproducible zip",
		Long: `Cross-compile the Go Lambda in lambda/ for Linux (runtime provided.al2023)
into a binary named bootstrap and pack it into a zip that is byte-identical for
the same sources and Go version: one entry, mode 0755, fixed timestamp.

Prints the zip's path, size and SHA-256; -o json adds arch and
source_code_hash (the base64 SHA-256 Terraform compares). If the build fails,
an older zip at the output path is removed so it cannot be deployed by mistake.`,
		Example: `  challengectl build
  challengectl build --arch amd64 --out /tmp/package.zip -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			arch, err := lambdabuild.NormalizeArch(opts.Arch)
			if err != nil {
				return err
			}
			opts.Arch = arch
			if cmd.Flags().Changed("out") && strings.TrimSpace(opts.Out) == "" {
				return clierr.Usage("--out", "the output path is empty", "give a file path such as dist/package.zip, or leave --out out")
			}
			if runF != nil {
				return runF(opts)
			}
			return buildRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Arch, "arch", "arm64", "Lambda architecture: arm64 or amd64 (x86_64)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "zip to write (default <project>/"+DefaultOut+")")
	return cmd
}

func buildRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	project, err := f.ProjectDir()
	if err != nil {
		return err
	}
	out := opts.Out
	switch {
	case out == "":
		out = filepath.Join(project, DefaultOut)
	case !filepath.IsAbs(out):
		// Relative to where the user stands, like any other CLI path.
		out = filepath.Join(f.WorkDir, out)
	}
	res, err := lambdabuild.Build(ctx, lambdabuild.Options{
		ProjectDir: project,
		Arch:       opts.Arch,
		ZipPath:    out,
		Logger:     f.Logger(),
	})
	if err != nil {
		return fmt.Errorf("build the Lambda: %w", err)
	}
	doc := Output{
		Path:           res.ZipPath,
		Size:           res.Size,
		SHA256:         res.SHA256,
		Arch:           res.Arch,
		SourceCodeHash: res.SourceCodeHash,
	}
	if f.JSON() {
		return render.JSON(f.IOStreams.Out, doc)
	}
	w := render.Table(f.IOStreams.Out)
	fmt.Fprintf(w, "path\t%s\n", doc.Path)
	fmt.Fprintf(w, "size\t%d bytes (%s)\n", doc.Size, humanSize(doc.Size))
	fmt.Fprintf(w, "sha256\t%s\n", doc.SHA256)
	fmt.Fprintf(w, "arch\t%s\n", doc.Arch)
	return w.Flush()
}

// humanSize renders bytes in binary units, as Lambda's own limits are given.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
