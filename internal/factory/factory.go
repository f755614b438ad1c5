// Package factory gives every command what it shares with the others: the IO
// streams, the resolved global options, the environment, the AWS
// configuration and a logger. Commands receive a *Factory and never read
// globals or os.Getenv themselves, so tests can build one with fakes.
package factory

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/challengectl/challengectl/internal/awsconfig"
	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/iostreams"
	"github.com/challengectl/challengectl/internal/naming"
)

// BuildInfo is injected at link time (see .goreleaser.yaml and the Makefile).
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

// Globals are the global flags of CLI.md after environment fallbacks.
type Globals struct {
	Region      string
	Profile     string
	EndpointURL string
	Stage       string
	App         string
	ProjectDir  string
	Output      string // "text" or "json"
	Verbose     bool
	Quiet       bool
	NoColor     bool
}

// Factory is shared by all commands of one invocation.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Getenv    func(string) string
	Build     BuildInfo
	Globals   Globals
	// WorkDir is where project discovery starts (os.Getwd in production).
	WorkDir string

	awsCfg *aws.Config
}

// New returns a factory for the real process.
func New(ios *iostreams.IOStreams, build BuildInfo) *Factory {
	wd, _ := os.Getwd()
	return &Factory{IOStreams: ios, Getenv: os.Getenv, Build: build, WorkDir: wd}
}

// JSON reports whether -o json was asked for.
func (f *Factory) JSON() bool { return f.Globals.Output == "json" }

// Logger writes progress to stderr: info by default, debug with -v, only
// warnings and errors with -q. Libraries get this logger; they never print.
func (f *Factory) Logger() *slog.Logger {
	level := slog.LevelInfo
	switch {
	case f.Globals.Verbose:
		level = slog.LevelDebug
	case f.Globals.Quiet:
		level = slog.LevelWarn
	}
	return slog.New(newProgressHandler(f.IOStreams.ErrOut, level))
}

var (
	stagePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	appPattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,39}$`)
)

// ValidateGlobals checks the global options that every command relies on.
func (f *Factory) ValidateGlobals() error {
	g := f.Globals
	if g.Output != "text" && g.Output != "json" {
		return clierr.Usage("--output", fmt.Sprintf("%q is not an output format", g.Output), "use text or json")
	}
	if !stagePattern.MatchString(g.Stage) {
		return clierr.Usage("--stage", fmt.Sprintf("%q is not a valid stage name", g.Stage),
			"use 1-64 letters, digits, hyphens or underscores, e.g. prod")
	}
	if !appPattern.MatchString(g.App) {
		return clierr.Usage("--app", fmt.Sprintf("%q is not a valid application name", g.App),
			"start with a letter; use up to 40 letters, digits, hyphens or underscores")
	}
	if g.Region != "" {
		if err := awsconfig.ValidateRegion(g.Region); err != nil {
			return err
		}
	}
	return awsconfig.ValidateEndpoint(g.EndpointURL)
}

// AWSConfig loads (once) the AWS configuration for the global options.
func (f *Factory) AWSConfig(ctx context.Context) (aws.Config, error) {
	if f.awsCfg != nil {
		return *f.awsCfg, nil
	}
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{
		Region:      f.Globals.Region,
		Profile:     f.Globals.Profile,
		EndpointURL: f.Globals.EndpointURL,
		Getenv:      f.Getenv,
	})
	if err != nil {
		return aws.Config{}, err
	}
	f.awsCfg = &cfg
	return cfg, nil
}

// ProjectDir returns --project-dir, or the nearest ancestor of the working
// directory holding both lambda/ and terraform/.
func (f *Factory) ProjectDir() (string, error) {
	if f.Globals.ProjectDir != "" {
		dir, err := filepath.Abs(f.Globals.ProjectDir)
		if err != nil {
			return "", fmt.Errorf("resolve --project-dir: %w", err)
		}
		if !isProject(dir) {
			return "", clierr.Usage("--project-dir", fmt.Sprintf("%s does not hold lambda/ and terraform/", dir),
				"point it at a challengectl checkout")
		}
		return dir, nil
	}
	dir := f.WorkDir
	for {
		if isProject(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", clierr.Usage("--project-dir", fmt.Sprintf("no directory holding lambda/ and terraform/ above %s", f.WorkDir),
				"run from inside a challengectl checkout or pass --project-dir")
		}
		dir = parent
	}
}

func isProject(dir string) bool {
	for _, sub := range []string{"lambda", "terraform"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// Discard is a logger that drops everything; for tests and library defaults.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Test returns a factory for command tests: buffered streams that are not a
// TTY, an environment made of env alone, and the global flags' defaults
// (app, stage, text output). Out and errOut are what the command wrote.
func Test(env map[string]string) (f *Factory, out, errOut *iostreams.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	f = New(ios, BuildInfo{})
	f.Getenv = func(k string) string { return env[k] }
	f.Globals = Globals{App: naming.DefaultApp, Stage: naming.DefaultStage, Output: "text"}
	return f, out, errOut
}
