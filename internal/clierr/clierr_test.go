package clierr

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		interrupted bool
		want        int
	}{
		{"success", nil, false, 0},
		{"failure", errors.New("boom"), false, 1},
		{"usage", Usage("--region", "empty", "pass --region us-east-1"), false, 2},
		{"wrapped usage", fmt.Errorf("deploy: %w", Usage("--stage", "bad", "")), false, 2},
		{"interrupted flag", errors.New("terraform exited"), true, 130},
		{"interrupted error", fmt.Errorf("apply: %w", ErrInterrupted), false, 130},
		{"context canceled", fmt.Errorf("x: %w", context.Canceled), false, 130},
		{"silent", Silent(errors.New("checks failed")), false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err, tt.interrupted); got != tt.want {
				t.Fatalf("ExitCode(%v, %v) = %d, want %d", tt.err, tt.interrupted, got, tt.want)
			}
		})
	}
}

func TestUsageErrorMessage(t *testing.T) {
	err := Usage("--region", `"us-east" is not a region`, "use a name like us-east-1")
	want := `--region: "us-east" is not a region (use a name like us-east-1)`
	if err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
}
