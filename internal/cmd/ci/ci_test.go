package ci

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/factory"
	"github.com/challengectl/challengectl/internal/iostreams"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*testing.T, *Options)
		wantErr string // usage error field
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, o *Options) {
			if o.Target != "local" || o.Requests != 300 || o.Concurrency != 50 || o.Loadtest || o.SmokeTimeout != time.Minute {
				t.Errorf("defaults: %+v", o)
			}
			if o.AWS.Arch != "arm64" || o.AWS.State.LockTimeout != time.Minute {
				t.Errorf("aws defaults: %+v", o.AWS)
			}
		}},
		{name: "aws", args: []string{"--target", "aws", "--loadtest", "--auto-approve", "--bucket", "b", "--table", "t", "--key", "k", "--kms-key-id", "alias/x"},
			check: func(t *testing.T, o *Options) {
				if o.Target != "aws" || !o.Loadtest || !o.AWS.AutoApprove || o.AWS.State.Bucket != "b" || o.AWS.State.Table != "t" || o.AWS.State.Key != "k" || o.AWS.KMSKeyID != "alias/x" {
					t.Errorf("aws flags: %+v", o)
				}
			}},
		{name: "expect-throttle given", args: []string{"--target", "aws", "--expect-throttle"}, check: func(t *testing.T, o *Options) {
			if !o.ExpectThrottle || !o.expectThrottleSet {
				t.Errorf("expect-throttle not recorded: %+v", o)
			}
		}},
		{name: "bad target", args: []string{"--target", "gcp"}, wantErr: "--target"},
		{name: "zero requests", args: []string{"--requests", "0"}, wantErr: "--requests"},
		{name: "zero concurrency", args: []string{"--concurrency", "0"}, wantErr: "--concurrency"},
		{name: "negative workers", args: []string{"--workers", "-1"}, wantErr: "--workers"},
		{name: "zero smoke timeout", args: []string{"--smoke-timeout", "0s"}, wantErr: "--smoke-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &factory.Factory{IOStreams: ios, Getenv: func(string) string { return "" }}
			var got *Options
			cmd := NewCmdCI(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.Execute()
			if tt.wantErr != "" {
				var u *clierr.UsageError
				if !errors.As(err, &u) || u.Field != tt.wantErr {
					t.Fatalf("err = %v, want a usage error on %s", err, tt.wantErr)
				}
				if got != nil {
					t.Fatal("run was called despite bad input")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}
