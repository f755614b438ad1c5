package limits

import (
	"errors"
	"strings"
	"testing"

	"github.com/challengectl/challengectl/internal/clierr"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	cases := map[string]func(*Limits){
		"--rate":         func(l *Limits) { l.StageRate = 0 },
		"--burst":        func(l *Limits) { l.StageBurst = -1 },
		"--key-rate":     func(l *Limits) { l.KeyRate = 0 },
		"--key-burst":    func(l *Limits) { l.KeyBurst = 0 },
		"--quota":        func(l *Limits) { l.Quota = 0 },
		"--quota-period": func(l *Limits) { l.QuotaPeriod = "YEAR" },
	}
	for flag, mutate := range cases {
		l := Default()
		mutate(&l)
		err := l.Validate()
		var u *clierr.UsageError
		if !errors.As(err, &u) || u.Field != flag {
			t.Errorf("%s: got %v, want a usage error on %s", flag, err, flag)
		}
	}
}

func TestNormalizePeriod(t *testing.T) {
	for _, in := range []string{"day", "Week", " MONTH "} {
		got, err := NormalizePeriod(in)
		if err != nil || got != strings.ToUpper(strings.TrimSpace(in)) {
			t.Errorf("NormalizePeriod(%q) = %q, %v", in, got, err)
		}
	}
}
