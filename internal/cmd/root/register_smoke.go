package root

import (
	smokecmd "github.com/challengectl/challengectl/internal/cmd/smoke"
	"github.com/challengectl/challengectl/internal/factory"

	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return smokecmd.NewCmdSmoke(f, nil) })
}
