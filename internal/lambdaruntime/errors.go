package lambdaruntime

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Sentinel errors of an invocation. Callers test them with errors.Is; the
// concrete types below carry the details.
var (
	// ErrFunctionError: the function reported an error through /error.
	ErrFunctionError = errors.New("function error")
	// ErrTimeout: the function did not answer within its timeout; its worker
	// was killed and replaced.
	ErrTimeout = errors.New("function timed out")
	// ErrWorkerCrashed: the worker process exited while it held the invocation.
	ErrWorkerCrashed = errors.New("worker process exited during the invocation")
	// ErrResponseTooLarge: the response exceeded Lambda's 6 MB synchronous limit.
	ErrResponseTooLarge = errors.New("function response exceeds the 6 MB limit")
	// ErrNoWorker: no worker took the invocation within the function timeout
	// (every worker is busy, or the function keeps failing to start).
	ErrNoWorker = errors.New("no worker took the invocation")
	// ErrClosed: the pool is shutting down or closed.
	ErrClosed = errors.New("lambda runtime pool is closed")
	// ErrInitFailed: a worker exited or reported /init/error before it asked
	// for its first invocation.
	ErrInitFailed = errors.New("function failed to initialise")
)

// FunctionError is the error document a function posted to
// /runtime/invocation/{id}/error.
type FunctionError struct {
	RequestID  string
	Type       string          // errorType, or the Lambda-Runtime-Function-Error-Type header
	Message    string          // errorMessage
	StackTrace json.RawMessage // stackTrace, as sent
	Payload    []byte          // the raw error document
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("invocation %s: function error %s: %s", e.RequestID, e.Type, e.Message)
}

// Is makes errors.Is(err, ErrFunctionError) true.
func (e *FunctionError) Is(target error) bool { return target == ErrFunctionError }

// CrashError reports a worker that exited while it held an invocation.
type CrashError struct {
	RequestID string
	Worker    int    // slot number
	PID       int    // the process that exited
	Status    string // exit status, e.g. "exit status 2" or "signal: killed"
	Stderr    string // the last lines the process wrote
}

func (e *CrashError) Error() string {
	s := fmt.Sprintf("invocation %s: worker %d (pid %d) exited: %s", e.RequestID, e.Worker, e.PID, e.Status)
	if e.Stderr != "" {
		s += "; last output: " + e.Stderr
	}
	return s
}

// Is makes errors.Is(err, ErrWorkerCrashed) true.
func (e *CrashError) Is(target error) bool { return target == ErrWorkerCrashed }

// InitError reports a worker that failed before its first invocation.
type InitError struct {
	Worker  int
	Type    string // from /init/error, if the runtime posted one
	Message string
	Status  string // exit status, if it exited
	Stderr  string
}

func (e *InitError) Error() string {
	s := fmt.Sprintf("worker %d failed to initialise", e.Worker)
	if e.Type != "" || e.Message != "" {
		s += fmt.Sprintf(": %s: %s", e.Type, e.Message)
	}
	if e.Status != "" {
		s += " (" + e.Status + ")"
	}
	if e.Stderr != "" {
		s += "; last output: " + e.Stderr
	}
	return s
}

// Is makes errors.Is(err, ErrInitFailed) true.
func (e *InitError) Is(target error) bool { return target == ErrInitFailed }
