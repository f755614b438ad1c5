package root

import (
	"github.com/spf13/cobra"

	outputscmd "github.com/challengectl/challengectl/internal/cmd/outputs"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return outputscmd.NewCmdOutputs(f, nil) })
}
