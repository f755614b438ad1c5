// Package unlock implements `challengectl unlock`.
package unlock

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/challengectl/challengectl/internal/clierr"
	deploycmd "github.com/challengectl/challengectl/internal/cmd/deploy"
	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/render"
	"github.com/challengectl/challengectl/internal/tfdriver"
)

// Options of the unlock command.
type Options struct {
	Factory *factory.Factory
	State   deploycmd.StateFlags
	LockID  string
	Yes     bool
}

// NewCmdUnlock builds the command; runF replaces the run in flag tests.
func NewCmdUnlock(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "unlock [LOCK_ID]",
		Short: "Show who holds the Terraform state lock, or release it",
		Long: `Without LOCK_ID, reads the lock item from the DynamoDB table and shows who
holds it, for which operation and since when. With LOCK_ID, releases that lock
through Terraform's force-unlock, asking first on a terminal unless --yes.
Release a lock only when its holder has crashed: a running apply would lose it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.LockID = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return unlockRun(cmd.Context(), opts)
		},
	}
	opts.State.Register(cmd.Flags())
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "release without asking")
	return cmd
}

type jsonLock struct {
	Locked   bool               `json:"locked"`
	Released bool               `json:"released,omitempty"`
	Lock     *tfdriver.LockInfo `json:"lock,omitempty"`
}

func unlockRun(ctx context.Context, opts *Options) error {
	f := opts.Factory
	ios := f.IOStreams
	// Decide about the prompt before any call: never wait without a TTY.
	if opts.LockID != "" && !opts.Yes && !ios.CanPrompt() {
		return clierr.Usage("--yes", "no terminal to confirm the release on", "pass --yes to release lock "+opts.LockID+" without a prompt")
	}
	o, err := opts.State.DeployOptions(ctx, f)
	if err != nil {
		return err
	}
	holder, err := deploy.LockHolder(ctx, o)
	if err != nil {
		return err
	}
	if opts.LockID == "" {
		if f.JSON() {
			return render.JSON(ios.Out, jsonLock{Locked: holder != nil, Lock: holder})
		}
		if holder == nil {
			_, err := fmt.Fprintf(ios.Out, "The state of stage %s is not locked.\n", o.Stage)
			return err
		}
		writeHolder(ios.Out, holder)
		_, err := fmt.Fprintf(ios.Out, "\nIf that run has crashed, release the lock with: challengectl unlock %s\n", holder.ID)
		return err
	}
	if holder != nil && holder.ID == opts.LockID && !opts.Yes {
		writeHolder(ios.ErrOut, holder)
		ok, err := deploycmd.Confirm(ctx, ios.In, ios.ErrOut, "Release this lock? Do it only if that run is no longer running.")
		if err != nil {
			return err
		}
		if !ok {
			return deploy.ErrDeclined
		}
	}
	if err := deploy.Unlock(ctx, o, opts.LockID); err != nil {
		return err
	}
	if f.JSON() {
		return render.JSON(ios.Out, jsonLock{Locked: false, Released: true, Lock: holder})
	}
	_, err = fmt.Fprintf(ios.Out, "Released lock %s of stage %s.\n", opts.LockID, o.Stage)
	return err
}

func writeHolder(w interface{ Write([]byte) (int, error) }, li *tfdriver.LockInfo) {
	fmt.Fprintf(w, "The state is locked.\n")
	fmt.Fprintf(w, "  who:       %s\n", li.Who)
	fmt.Fprintf(w, "  operation: %s\n", li.Operation)
	if !li.Created.IsZero() {
		fmt.Fprintf(w, "  since:     %s (%s ago)\n", li.Created.UTC().Format(time.RFC3339), time.Since(li.Created).Round(time.Second))
	}
	fmt.Fprintf(w, "  lock ID:   %s\n", li.ID)
	fmt.Fprintf(w, "  path:      %s\n", li.Path)
}
