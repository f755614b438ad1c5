package unlock

import (
	"testing"

	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
)

func TestNewCmdUnlockArgs(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := factory.New(ios, factory.BuildInfo{})
	for _, tc := range []struct {
		args []string
		id   string
		yes  bool
	}{
		{nil, "", false},
		{[]string{"abc-123"}, "abc-123", false},
		{[]string{"abc-123", "--yes", "--bucket", "b", "--table", "t"}, "abc-123", true},
		{[]string{"-y", "x"}, "x", true},
	} {
		var got *Options
		cmd := NewCmdUnlock(f, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got.LockID != tc.id || got.Yes != tc.yes {
			t.Errorf("%v: id=%q yes=%v", tc.args, got.LockID, got.Yes)
		}
	}
	cmd := NewCmdUnlock(f, func(*Options) error { return nil })
	cmd.SetArgs([]string{"a", "b"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil {
		t.Error("two lock IDs accepted")
	}
}
