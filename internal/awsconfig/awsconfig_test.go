package awsconfig

import (
	"context"
	"errors"
	"testing"

	"github.com/challengectl/challengectl/internal/clierr"
)

func TestValidateRegion(t *testing.T) {
	good := []string{"us-east-1", "eu-west-3", "ap-southeast-4", "us-gov-west-1", "cn-north-1", "us-isob-east-1", "eusc-de-east-1"}
	bad := []string{"", "us-east", "US-EAST-1", "us_east_1", "useast1", "us-east-1a", " us-east-1", "1-us-east"}
	for _, r := range good {
		if err := ValidateRegion(r); err != nil {
			t.Errorf("ValidateRegion(%q) = %v, want nil", r, err)
		}
	}
	for _, r := range bad {
		err := ValidateRegion(r)
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != "--region" {
			t.Errorf("ValidateRegion(%q) = %v, want a usage error on --region", r, err)
		}
	}
}

func TestLoadRejectsBadEndpoint(t *testing.T) {
	_, err := Load(context.Background(), Options{Region: "us-east-1", EndpointURL: "localhost:4566"})
	if clierr.ExitCode(err, false) != clierr.ExitUsage {
		t.Fatalf("got %v, want usage error", err)
	}
}

func TestLoadWithEndpoint(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	cfg, err := Load(context.Background(), Options{Region: "eu-west-1", EndpointURL: "http://127.0.0.1:4566",
		Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:4566" {
		t.Fatalf("region %q endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "test" {
		t.Fatalf("emulator credentials: %+v %v", creds, err)
	}
}
