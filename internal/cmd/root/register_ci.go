package root

import (
	"github.com/spf13/cobra"

	cicmd "github.com/challengectl/challengectl/internal/cmd/ci"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return cicmd.NewCmdCI(f, nil) })
}
