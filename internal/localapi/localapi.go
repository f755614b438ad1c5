// Package localapi runs the whole API on this machine: the real Lambda
// binary as a pool of worker processes speaking the Lambda Runtime API
// (internal/lambdaruntime) behind an emulated API Gateway REST stage with an
// API key and a usage plan (internal/gateway), served over HTTP on loopback.
// `challengectl local` and `challengectl ci --target local` use it.
package localapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/challengectl/challengectl/internal/gateway"
	"github.com/challengectl/challengectl/internal/lambdaruntime"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/naming"
)

// DefaultAddr is where `challengectl local` listens unless told otherwise.
const DefaultAddr = "127.0.0.1:8080"

// Options configure the local stack. Zero values take the defaults noted.
type Options struct {
	ProjectDir string        // checkout holding lambda/ (needed when BinaryPath is empty)
	BinaryPath string        // prebuilt bootstrap; empty → build lambda/ for the host
	Addr       string        // default 127.0.0.1:8080; "127.0.0.1:0" picks a free port
	Stage      string        // default "prod"
	App        string        // default "challenge-api"
	APIKey     string        // empty → a generated random key
	Limits     limits.Limits // zero → limits.Default()
	Workers    int           // default runtime.NumCPU()
	// FunctionTimeout is the Lambda timeout; default 10 s.
	FunctionTimeout time.Duration
	Logger          *slog.Logger
}

// Stack is a running local API.
type Stack struct {
	URL     string // http://127.0.0.1:PORT/<stage>, as on AWS
	APIKey  string
	Addr    string // the listening address
	Stage   string
	Limits  limits.Limits
	Workers int
	// FunctionTimeout is the Lambda timeout in force.
	FunctionTimeout time.Duration
	Gateway         *gateway.Gateway
	Pool            *lambdaruntime.Pool

	srv      *http.Server
	serveErr chan error
	tmpDir   string
	log      *slog.Logger
}

// Start builds the function if needed, starts the workers and the gateway,
// and returns once the API answers on Stack.URL. On error nothing is left
// running.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Stage == "" {
		o.Stage = naming.DefaultStage
	}
	if o.App == "" {
		o.App = naming.DefaultApp
	}
	if o.Limits == (limits.Limits{}) {
		o.Limits = limits.Default()
	}
	if err := o.Limits.Validate(); err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.FunctionTimeout <= 0 {
		o.FunctionTimeout = lambdaruntime.DefaultTimeout
	}
	if o.APIKey == "" {
		o.APIKey = NewAPIKey()
	}
	log := o.Logger

	s := &Stack{Stage: o.Stage, Limits: o.Limits, Workers: o.Workers, FunctionTimeout: o.FunctionTimeout, APIKey: o.APIKey, log: log}
	defer func() {
		if err != nil {
			s.cleanup()
		}
	}()

	// Listen first: a busy port is the most likely failure and must not
	// cost a build.
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, &AddrError{Addr: o.Addr, Err: err}
	}
	s.Addr = ln.Addr().String()
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second}
	defer func() {
		if err != nil {
			_ = ln.Close()
		}
	}()

	bin := o.BinaryPath
	if bin == "" {
		s.tmpDir, err = os.MkdirTemp("", "challengectl-local-")
		if err != nil {
			return nil, fmt.Errorf("local: temp dir: %w", err)
		}
		bin = filepath.Join(s.tmpDir, "bootstrap")
		log.Info("building the Lambda for this machine", "project", o.ProjectDir)
		started := time.Now()
		if err := buildFunction(ctx, o.ProjectDir, bin); err != nil {
			return nil, err
		}
		log.Info("Lambda built", "elapsed", time.Since(started).Round(time.Millisecond))
	}

	s.Pool, err = lambdaruntime.Start(ctx, lambdaruntime.Options{
		BinaryPath:   bin,
		Workers:      o.Workers,
		Timeout:      o.FunctionTimeout,
		FunctionName: naming.FunctionName(o.App, o.Stage),
		Logger:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("local: start Lambda workers: %w", err)
	}
	s.Gateway, err = gateway.New(gateway.Options{
		Stage:   o.Stage,
		APIKeys: []string{o.APIKey},
		Limits:  o.Limits,
		Invoker: s.Pool,
		Logger:  log,
	})
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	s.srv.Handler = s.Gateway
	s.serveErr = make(chan error, 1)
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
		close(s.serveErr)
	}()
	s.URL = "http://" + s.Addr + "/" + o.Stage
	log.Debug("local API ready", "url", s.URL, "workers", o.Workers)
	return s, nil
}

// Err delivers the server's failure, if it stops on its own; it is closed
// after Shutdown.
func (s *Stack) Err() <-chan error { return s.serveErr }

// Shutdown stops accepting connections, lets in-flight requests finish
// (until ctx ends), then stops every worker and removes the build.
func (s *Stack) Shutdown(ctx context.Context) error {
	var errs []error
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain HTTP requests: %w", err))
			_ = s.srv.Close()
		}
	}
	if s.Pool != nil {
		if err := s.Pool.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.cleanup()
	return errors.Join(errs...)
}

func (s *Stack) cleanup() {
	if s.Pool != nil {
		s.Pool.Close()
	}
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
}

// AddrError reports an address that cannot be listened on (in use, not
// local, malformed).
type AddrError struct {
	Addr string
	Err  error
}

func (e *AddrError) Error() string { return fmt.Sprintf("listen on %s: %v", e.Addr, e.Err) }
func (e *AddrError) Unwrap() error { return e.Err }

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewAPIKey returns a random 40-character key, the shape of API Gateway's
// generated keys (about 238 bits of entropy).
func NewAPIKey() string {
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		// Rejection sampling: bytes ≥ 248 (4×62) would bias the modulo.
		for b[i] >= 248 {
			var one [1]byte
			_, _ = rand.Read(one[:])
			b[i] = one[0]
		}
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return string(b)
}
