package root

import (
	"github.com/spf13/cobra"

	destroycmd "github.com/challengectl/challengectl/internal/cmd/destroy"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return destroycmd.NewCmdDestroy(f, nil) })
}
