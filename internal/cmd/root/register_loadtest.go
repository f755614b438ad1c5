package root

import (
	loadtestcmd "github.com/challengectl/challengectl/internal/cmd/loadtest"
	"github.com/challengectl/challengectl/internal/factory"

	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return loadtestcmd.NewCmdLoadtest(f, nil) })
}
