// Package clierr defines the error kinds the CLI turns into exit codes, in one
// place: 0 success, 1 an operation or check failed, 2 bad input (nothing was
// changed), 130 interrupted after a clean stop.
package clierr

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes of the CLI contract.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// UsageError is bad input: a flag, argument or environment value that fails
// validation before anything is changed. Field names what is wrong and Fix
// says what to do about it.
type UsageError struct {
	Field string // e.g. "--region" or "TF_STATE_BUCKET"
	Msg   string // what is wrong
	Fix   string // what to do, may be empty
}

func (e *UsageError) Error() string {
	s := e.Msg
	if e.Field != "" {
		s = e.Field + ": " + e.Msg
	}
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// Usage builds a UsageError.
func Usage(field, msg, fix string) error { return &UsageError{Field: field, Msg: msg, Fix: fix} }

// Usagef builds a UsageError with a formatted message and no fix.
func Usagef(field, format string, args ...any) error {
	return &UsageError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ErrInterrupted reports that the user stopped the command (SIGINT/SIGTERM)
// and that it stopped cleanly.
var ErrInterrupted = errors.New("interrupted")

// SilentError is a failure that has already been reported to the user (for
// example a failed smoke check whose report is on stdout): exit 1, print nothing more.
type SilentError struct{ Err error }

func (e *SilentError) Error() string { return e.Err.Error() }
func (e *SilentError) Unwrap() error { return e.Err }

// Silent wraps err so that the CLI exits 1 without printing it again.
func Silent(err error) error { return &SilentError{Err: err} }

// IsSilent reports whether err was already reported.
func IsSilent(err error) bool {
	var s *SilentError
	return errors.As(err, &s)
}

// ExitCode maps an error returned by a command to the process exit code.
// Interruption wins over everything: a command cancelled by Ctrl-C that then
// failed because of the cancellation still exits 130.
func ExitCode(err error, interrupted bool) int {
	switch {
	case err == nil && !interrupted:
		return ExitOK
	case interrupted, errors.Is(err, ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	var u *UsageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitFailure
}
