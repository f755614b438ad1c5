package root

import (
	"github.com/spf13/cobra"

	bootstrapcmd "github.com/challengectl/challengectl/internal/cmd/bootstrap"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return bootstrapcmd.NewCmdBootstrap(f, nil) })
}
