package root

import (
	"github.com/spf13/cobra"

	unlockcmd "github.com/challengectl/challengectl/internal/cmd/unlock"
	"github.com/challengectl/challengectl/internal/factory"
)

func init() {
	subcommands = append(subcommands, func(f *factory.Factory) *cobra.Command { return unlockcmd.NewCmdUnlock(f, nil) })
}
