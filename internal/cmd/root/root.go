// Package root assembles the cobra command tree and the global flags of
// CLI.md, with their environment fallbacks.
package root

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/challengectl/challengectl/internal/clierr"
	bootstrapcmd "github.com/challengectl/challengectl/internal/cmd/bootstrap"
	buildcmd "github.com/challengectl/challengectl/internal/cmd/build"
	cicmd "github.com/challengectl/challengectl/internal/cmd/ci"
	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	destroycmd "github.com/challengectl/challengectl/internal/cmd/destroy"
	loadtestcmd "github.com/challengectl/challengectl/internal/cmd/loadtest"
	localcmd "github.com/challengectl/challengectl/internal/cmd/local"
	outputscmd "github.com/challengectl/challengectl/internal/cmd/outputs"
	smokecmd "github.com/challengectl/challengectl/internal/cmd/smoke"
	unlockcmd "github.com/challengectl/challengectl/internal/cmd/unlock"
	versioncmd "github.com/challengectl/challengectl/internal/cmd/version"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/naming"
)

// envFallbacks lists, per global flag, the environment variables read when
// the flag is not given; the first non-empty one wins.
var envFallbacks = map[string][]string{
	"region":       {"AWS_REGION", "AWS_DEFAULT_REGION"},
	"profile":      {"AWS_PROFILE"},
	"endpoint-url": {"CHALLENGECTL_ENDPOINT_URL", "AWS_ENDPOINT_URL"},
	"stage":        {"CHALLENGECTL_STAGE"},
	"app":          {"CHALLENGECTL_APP"},
	"project-dir":  {"CHALLENGECTL_PROJECT_DIR"},
	"no-color":     {"NO_COLOR"},
}

// NewCmdRoot returns the whole command tree.
func NewCmdRoot(f *factory.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "challengectl <command>",
		Short: "Take a small API from nothing to production on AWS, and prove it works",
		Long: `challengectl bootstraps a Terraform state backend, builds the Go Lambda,
deploys it behind API Gateway with an API key and usage plan, smoke-tests and
load-tests it. "challengectl local" runs the same API on this machine.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), f.Getenv); err != nil {
				return err
			}
			f.IOStreams.SetNoColor(f.Globals.NoColor)
			return f.ValidateGlobals()
		},
	}
	// Every flag error (unknown flag, bad value, missing argument) is a usage
	// error: exit 2, naming the flag.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &clierr.UsageError{Msg: err.Error(), Fix: "see --help"}
	})
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetIn(f.IOStreams.In)

	g := &f.Globals
	pf := cmd.PersistentFlags()
	pf.StringVar(&g.Region, "region", "", "AWS region (env AWS_REGION, AWS_DEFAULT_REGION, AWS config)")
	pf.StringVar(&g.Profile, "profile", "", "AWS shared-config profile (env AWS_PROFILE)")
	pf.StringVar(&g.EndpointURL, "endpoint-url", "", "send every AWS call to this endpoint, e.g. an emulator (env CHALLENGECTL_ENDPOINT_URL, AWS_ENDPOINT_URL)")
	pf.StringVar(&g.Stage, "stage", naming.DefaultStage, "deployment stage (env CHALLENGECTL_STAGE)")
	pf.StringVar(&g.App, "app", naming.DefaultApp, "application name (env CHALLENGECTL_APP)")
	pf.StringVar(&g.ProjectDir, "project-dir", "", "checkout holding lambda/ and terraform/ (env CHALLENGECTL_PROJECT_DIR)")
	pf.StringVarP(&g.Output, "output", "o", "text", "output format: text or json")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "print debug progress on stderr")
	pf.BoolVarP(&g.Quiet, "quiet", "q", false, "print only warnings and errors on stderr")
	pf.BoolVar(&g.NoColor, "no-color", false, "disable colour (env NO_COLOR)")
	cmd.MarkFlagsMutuallyExclusive("verbose", "quiet")

	// Every command, listed here rather than registered from init functions,
	// so the tree is built from the factory alone and nothing is global.
	cmd.AddCommand(
		bootstrapcmd.NewCmdBootstrap(f, nil),
		buildcmd.NewCmdBuild(f, nil),
		deploycmd.NewCmdDeploy(f, nil),
		outputscmd.NewCmdOutputs(f, nil),
		destroycmd.NewCmdDestroy(f, nil),
		unlockcmd.NewCmdUnlock(f, nil),
		smokecmd.NewCmdSmoke(f, nil),
		loadtestcmd.NewCmdLoadtest(f, nil),
		localcmd.NewCmdLocal(f, nil),
		cicmd.NewCmdCI(f, nil),
		versioncmd.NewCmdVersion(f, nil),
		newCmdCompletion(f),
	)
	return cmd
}

// applyEnv fills every global flag that was not given on the command line
// from its environment fallbacks.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	for name, envs := range envFallbacks {
		fl := fs.Lookup(name)
		if fl == nil || fl.Changed {
			continue
		}
		for _, env := range envs {
			v := getenv(env)
			if v == "" {
				continue
			}
			if name == "no-color" {
				// NO_COLOR: any non-empty value means "no colour".
				v = "true"
			}
			if err := fl.Value.Set(v); err != nil {
				return clierr.Usage(env, fmt.Sprintf("invalid value %q: %v", v, err), "")
			}
			break
		}
	}
	return nil
}

func newCmdCompletion(f *factory.Factory) *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish",
		Short:     "Print a shell completion script",
		Args:      exactValidArgs,
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := f.IOStreams.Out
			switch args[0] {
			case "bash":
				return cmd.Root().GenBashCompletionV2(out, true)
			case "zsh":
				return cmd.Root().GenZshCompletion(out)
			default:
				return cmd.Root().GenFishCompletion(out, true)
			}
		},
	}
}

func exactValidArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs)(cmd, args); err != nil {
		return &clierr.UsageError{Field: "shell", Msg: err.Error(), Fix: "use one of " + strings.Join(cmd.ValidArgs, ", ")}
	}
	return nil
}
