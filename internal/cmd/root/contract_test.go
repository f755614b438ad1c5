package root

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
)

// The names of the command-line contract (CLI.md): commands may gain flags,
// but none of these may be renamed or dropped. Users' scripts, the GitHub
// workflow and the acceptance checks call them.
var contract = map[string][]string{
	"bootstrap":  {"bucket", "table", "kms-key-id", "dry-run"},
	"build":      {"arch", "out"},
	"deploy":     {"bucket", "key", "table", "package", "terraform-dir", "auto-approve", "plan-only", "allow-replace", "adopt", "lock-timeout"},
	"outputs":    {"show-secrets"},
	"destroy":    {"auto-approve"},
	"unlock":     {"yes"},
	"smoke":      {"url", "api-key", "name", "timeout"},
	"loadtest":   {"url", "api-key", "requests", "concurrency", "rate", "duration", "path", "expect-throttle", "report"},
	"local":      {"addr", "api-key", "rate", "burst", "quota", "quota-period", "workers"},
	"ci":         {"target", "loadtest"},
	"version":    nil,
	"completion": nil,
}

// globalContract: every global flag, with its shorthand when CLI.md gives one,
// and the environment variables its help must name.
var globalContract = []struct {
	name, short string
	env         []string
}{
	{"region", "", []string{"AWS_REGION", "AWS_DEFAULT_REGION"}},
	{"profile", "", []string{"AWS_PROFILE"}},
	{"endpoint-url", "", []string{"CHALLENGECTL_ENDPOINT_URL", "AWS_ENDPOINT_URL"}},
	{"stage", "", []string{"CHALLENGECTL_STAGE"}},
	{"app", "", []string{"CHALLENGECTL_APP"}},
	{"project-dir", "", []string{"CHALLENGECTL_PROJECT_DIR"}},
	{"output", "o", nil},
	{"verbose", "v", nil},
	{"quiet", "q", nil},
	{"no-color", "", []string{"NO_COLOR"}},
}

func TestCLIContract(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(factory.New(ios, factory.BuildInfo{}))
	for name, flags := range contract {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd == root {
			t.Errorf("command %q is missing", name)
			continue
		}
		for _, fl := range flags {
			if cmd.Flags().Lookup(fl) == nil {
				t.Errorf("%s: flag --%s is missing", name, fl)
			}
		}
	}
	for _, g := range globalContract {
		f := root.PersistentFlags().Lookup(g.name)
		if f == nil {
			t.Errorf("global flag --%s is missing", g.name)
			continue
		}
		if f.Shorthand != g.short {
			t.Errorf("--%s: shorthand %q, want %q", g.name, f.Shorthand, g.short)
		}
		for _, env := range g.env {
			if !slices.Contains(envFallbacks[g.name], env) {
				t.Errorf("--%s does not fall back to %s", g.name, env)
			}
			if !strings.Contains(f.Usage, env) {
				t.Errorf("--%s: help %q does not name %s", g.name, f.Usage, env)
			}
		}
	}
	// completion writes a script for each shell of the contract.
	for _, sh := range []string{"bash", "zsh", "fish"} {
		ios, _, out, _ := iostreams.Test()
		r := NewCmdRoot(factory.New(ios, factory.BuildInfo{}))
		r.SetArgs([]string{"completion", sh})
		if err := r.Execute(); err != nil || !strings.Contains(out.String(), "challengectl") {
			t.Errorf("completion %s: %v, %d bytes of script", sh, err, out.Len())
		}
	}
	// Every command documents itself.
	for _, c := range root.Commands() {
		walk(c, func(c *cobra.Command) {
			if c.Short == "" && !c.Hidden {
				t.Errorf("%s has no short description", c.CommandPath())
			}
		})
	}
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}
