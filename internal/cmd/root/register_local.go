package root

import (
	"github.com/spf13/cobra"

	localcmd "github.com/challengectl/challengectl/internal/cmd/local"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return localcmd.NewCmdLocal(f, nil) })
}
