package root

import (
	"github.com/spf13/cobra"

	buildcmd "github.com/challengectl/challengectl/internal/cmd/build"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return buildcmd.NewCmdBuild(f, nil) })
}
