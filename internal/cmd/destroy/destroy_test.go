package destroy

import (
	"testing"

	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
)

func TestNewCmdDestroyFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := factory.New(ios, factory.BuildInfo{})
	var got *Options
	cmd := NewCmdDestroy(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--auto-approve", "--bucket", "b", "--table", "t", "--terraform-dir", "tf"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.AutoApprove || got.State.Bucket != "b" || got.State.TerraformDir != "tf" {
		t.Errorf("options = %+v", *got)
	}
}
