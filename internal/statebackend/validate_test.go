package statebackend

import (
	"errors"
	"strings"
	"testing"

	"github.com/challengectl/challengectl/internal/clierr"
)

func TestValidateBucketName(t *testing.T) {
	valid := []string{"abc", "my-tf-state", "state.example.com", "a1b", strings.Repeat("a", 63), "1-2-3", "sthree", "xn-foo", "my-s3alias-x"}
	for _, n := range valid {
		if err := ValidateBucketName(n); err != nil {
			t.Errorf("ValidateBucketName(%q) = %v, want nil", n, err)
		}
	}
	invalid := map[string]string{
		"":                           "no state bucket name",
		"ab":                         "3 to 63 characters",
		strings.Repeat("a", 64):      "3 to 63 characters",
		"My-Bucket":                  "only lowercase letters",
		"my_bucket":                  "only lowercase letters",
		"-bucket":                    "start and end",
		"bucket-":                    "start and end",
		".bucket":                    "start and end",
		"my..bucket":                 "two adjacent dots",
		"192.168.5.4":                "IP address",
		"192.168.5.400":              "IP address",
		"xn--bucket":                 `prefix "xn--"`,
		"sthree-bucket":              `prefix "sthree-"`,
		"sthree-configurator-bucket": `prefix "sthree-"`,
		"amzn-s3-demo-bucket":        `prefix "amzn-s3-demo-"`,
		"bucket-s3alias":             `suffix "-s3alias"`,
		"bucket--ol-s3":              `suffix "--ol-s3"`,
		"bucket.mrap":                `suffix ".mrap"`,
		"bucket--x-s3":               `suffix "--x-s3"`,
	}
	for n, rule := range invalid {
		err := ValidateBucketName(n)
		var u *clierr.UsageError
		if !errors.As(err, &u) {
			t.Errorf("ValidateBucketName(%q) = %v, want a usage error", n, err)
			continue
		}
		if u.Field != "--bucket" || !strings.Contains(err.Error(), rule) {
			t.Errorf("ValidateBucketName(%q) = %q (field %q), want field --bucket and rule %q", n, err, u.Field, rule)
		}
		if clierr.ExitCode(err, false) != clierr.ExitUsage {
			t.Errorf("ValidateBucketName(%q): exit code %d, want 2", n, clierr.ExitCode(err, false))
		}
	}
}

func TestValidateTableName(t *testing.T) {
	for _, n := range []string{"abc", "terraform-locks", "Tf_State.Locks-1", strings.Repeat("x", 255)} {
		if err := ValidateTableName(n); err != nil {
			t.Errorf("ValidateTableName(%q) = %v, want nil", n, err)
		}
	}
	invalid := map[string]string{
		"":                       "no lock table name",
		"ab":                     "3 to 255 characters",
		strings.Repeat("x", 256): "3 to 255 characters",
		"tf locks":               "only letters",
		"tf/locks":               "only letters",
		"tf:locks":               "only letters",
	}
	for n, rule := range invalid {
		err := ValidateTableName(n)
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != "--table" || !strings.Contains(err.Error(), rule) {
			t.Errorf("ValidateTableName(%q) = %v, want a --table usage error about %q", n, err, rule)
		}
	}
}
