// Package ghactions speaks to the GitHub Actions runner through its files and
// workflow commands: masks, step outputs and the job summary. Everything is a
// no-op outside Actions (GITHUB_ACTIONS != "true").
package ghactions

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/challengectl/challengectl/internal/secret"
)

// Runner is the Actions environment of one process.
type Runner struct {
	Getenv func(string) string
	// Log is where workflow commands such as ::add-mask:: are written (stdout
	// of the step in production; the runner reads both streams).
	Log io.Writer
}

// Enabled reports whether we run inside GitHub Actions.
func (r Runner) Enabled() bool { return r.Getenv("GITHUB_ACTIONS") == "true" }

// Mask registers a secret so the runner redacts it from every later line.
func (r Runner) Mask(value string) { secret.GitHubMask(r.Log, r.Getenv, value) }

// SetOutput writes a step output (`name=value`) to $GITHUB_OUTPUT, with the
// heredoc form and a random delimiter so a value can never inject another
// output.
func (r Runner) SetOutput(name, value string) error {
	if !r.Enabled() {
		return nil
	}
	return r.appendFile("GITHUB_OUTPUT", formatOutput(name, value, delimiter()))
}

// AppendSummary appends Markdown to the job summary ($GITHUB_STEP_SUMMARY).
func (r Runner) AppendSummary(markdown string) error {
	if !r.Enabled() {
		return nil
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return r.appendFile("GITHUB_STEP_SUMMARY", markdown)
}

func (r Runner) appendFile(env, text string) error {
	path := r.Getenv(env)
	if path == "" {
		return fmt.Errorf("GitHub Actions: %s is not set", env)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", env, err)
	}
	if _, err := io.WriteString(f, text); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", env, err)
	}
	return f.Close()
}

func formatOutput(name, value, delim string) string {
	return fmt.Sprintf("%s<<%s\n%s\n%s\n", name, delim, value, delim)
}

func delimiter() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "ghadelimiter_" + hex.EncodeToString(b)
}
