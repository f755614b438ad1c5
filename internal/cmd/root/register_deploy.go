package root

import (
	"github.com/spf13/cobra"

	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return deploycmd.NewCmdDeploy(f, nil) })
}
