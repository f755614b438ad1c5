package outputs

import (
	"testing"

	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
)

func TestNewCmdOutputsFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := factory.New(ios, factory.BuildInfo{})
	var got *Options
	cmd := NewCmdOutputs(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--show-secrets", "--bucket", "b", "--key", "k", "--table", "t"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.ShowSecrets || got.State.Bucket != "b" || got.State.Key != "k" || got.State.Table != "t" {
		t.Errorf("options = %+v", *got)
	}
}
