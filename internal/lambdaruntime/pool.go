// Package lambdaruntime runs a Lambda function binary (a `bootstrap` speaking
// the Lambda Runtime API) as a pool of worker processes, the way concurrent
// Lambda instances run, and invokes it synchronously.
//
// Each worker is a real process with its own Runtime API endpoint on
// loopback (as each Lambda sandbox has its own), the environment Lambda sets
// (AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME, ...) and nothing from the
// host's environment. Invocations go to whichever worker asks for the next
// one. A worker that exits is replaced and its in-flight invocation fails with
// ErrWorkerCrashed; a worker that runs past the function timeout is killed
// (with everything it started) and replaced, and the invocation fails with
// ErrTimeout. Close and Shutdown leave no process behind.
package lambdaruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultFunctionName = "function"
	DefaultMemoryMB     = 128
	DefaultRegion       = "us-east-1"
	DefaultAccountID    = "123456789012"
	DefaultStartTimeout = 15 * time.Second

	// MaxResponseBytes is Lambda's limit on a synchronous response payload.
	MaxResponseBytes = 6 * 1024 * 1024
)

// Options configure a Pool.
type Options struct {
	BinaryPath   string        // the function's bootstrap executable (required)
	Args         []string      // arguments for it, rarely needed
	Workers      int           // concurrent instances; default runtime.NumCPU()
	Timeout      time.Duration // function timeout; default 10 s
	FunctionName string        // AWS_LAMBDA_FUNCTION_NAME; default "function"
	MemoryMB     int           // AWS_LAMBDA_FUNCTION_MEMORY_SIZE; default 128
	Region       string        // AWS_REGION; default us-east-1
	AccountID    string        // used in the invoked function ARN
	Env          []string      // extra KEY=VALUE variables for the function
	// StartTimeout bounds how long Start waits for every worker to ask for
	// its first invocation; default 15 s.
	StartTimeout time.Duration
	// Logger receives pool events (worker replaced, timeouts) and, at debug
	// level, every line the function writes. Nil discards them.
	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.BinaryPath == "" {
		return errors.New("lambdaruntime: BinaryPath is required")
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FunctionName == "" {
		o.FunctionName = DefaultFunctionName
	}
	if o.MemoryMB <= 0 {
		o.MemoryMB = DefaultMemoryMB
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// Pool is a set of running workers of one function.
type Pool struct {
	o   Options
	log *slog.Logger
	arn string

	// queue hands an invocation to the worker whose /next request is
	// waiting. It is unbuffered: an invocation is either held by a worker or
	// still owned by its caller, never parked where nobody sees it.
	queue chan *job

	closing   chan struct{} // closed by Close: stop everything now
	closeOnce sync.Once

	// enterMu orders Invoke's registration against Shutdown's drain.
	enterMu  sync.RWMutex
	draining bool
	inflight sync.WaitGroup

	mu      sync.Mutex
	workers []*worker // the live worker of each slot
	slots   sync.WaitGroup

	restarts atomic.Int64
	spawned  atomic.Int64
}

// WorkerInfo describes one live worker.
type WorkerInfo struct {
	Slot int    `json:"slot"`
	PID  int    `json:"pid"`
	Addr string `json:"runtime_api"` // its AWS_LAMBDA_RUNTIME_API
}

// Start launches the workers and waits until each has asked for its first
// invocation. A worker that fails to initialise makes Start fail with an
// *InitError (errors.Is ErrInitFailed), after stopping the others.
func Start(ctx context.Context, o Options) (*Pool, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	p := &Pool{
		o:       o,
		log:     o.Logger,
		arn:     fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", o.Region, o.AccountID, o.FunctionName),
		queue:   make(chan *job),
		closing: make(chan struct{}),
		workers: make([]*worker, o.Workers),
	}
	first := make([]*worker, o.Workers)
	for i := range first {
		w, err := p.spawn(i)
		if err != nil {
			p.Close()
			return nil, err
		}
		first[i] = w
		p.workers[i] = w
		p.slots.Add(1)
		go p.supervise(i, w)
	}

	timer := time.NewTimer(o.StartTimeout)
	defer timer.Stop()
	for _, w := range first {
		select {
		case <-w.ready:
		case <-w.exited:
			p.Close()
			return nil, w.initError()
		case <-timer.C:
			p.Close()
			return nil, fmt.Errorf("%w: worker %d did not ask for an invocation within %s", ErrInitFailed, w.slot, o.StartTimeout)
		case <-ctx.Done():
			p.Close()
			return nil, ctx.Err()
		}
	}
	p.log.Debug("lambda workers ready", "workers", o.Workers, "binary", o.BinaryPath)
	return p, nil
}

// FunctionARN is the ARN the workers see as the invoked function.
func (p *Pool) FunctionARN() string { return p.arn }

// Timeout is the function timeout in force.
func (p *Pool) Timeout() time.Duration { return p.o.Timeout }

// Restarts counts the workers replaced since Start.
func (p *Pool) Restarts() int64 { return p.restarts.Load() }

// Workers lists the live workers.
func (p *Pool) Workers() []WorkerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]WorkerInfo, 0, len(p.workers))
	for i, w := range p.workers {
		if w == nil || w.cmd.Process == nil {
			continue
		}
		out = append(out, WorkerInfo{Slot: i, PID: w.cmd.Process.Pid, Addr: w.addr})
	}
	return out
}

// job is one invocation on its way through a worker.
type job struct {
	id       string
	payload  []byte
	trace    string
	deadline time.Time
	worker   *worker
	started  chan struct{} // closed once worker and deadline are set
	done     chan result   // buffered: the worker never blocks on a gone caller
	once     sync.Once
}

type result struct {
	payload []byte
	err     error
}

// finish delivers the outcome once; later outcomes (a crash after a
// timeout, say) are dropped.
func (j *job) finish(r result) {
	j.once.Do(func() { j.done <- r })
}

// Invoke runs one synchronous invocation and returns the function's response
// payload. Errors: *FunctionError (ErrFunctionError), ErrTimeout,
// *CrashError (ErrWorkerCrashed), ErrResponseTooLarge, ErrNoWorker,
// ErrClosed, or ctx's error. If ctx ends while a worker holds the
// invocation, the worker finishes it and the result is dropped, as when an
// API Gateway client hangs up on a running Lambda.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if !p.enter() {
		return nil, ErrClosed
	}
	defer p.inflight.Done()

	j := &job{
		id:      newRequestID(),
		payload: payload,
		trace:   newTraceID(),
		started: make(chan struct{}),
		done:    make(chan result, 1),
	}
	timer := time.NewTimer(p.o.Timeout)
	defer timer.Stop()
	select {
	case p.queue <- j:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.closing:
		return nil, ErrClosed
	case <-timer.C:
		return nil, fmt.Errorf("invocation %s: %w within the function timeout (%s)", j.id, ErrNoWorker, p.o.Timeout)
	}
	// A worker holds the job from now on. Its deadline runs from the
	// hand-off; the worker computes the same deadline for the runtime, a
	// few microseconds apart. Not waiting here for the worker to publish
	// its own (j.started) spares every invocation a park and a wakeup of
	// this goroutine, often on another thread.
	timer.Reset(p.o.Timeout)
	select {
	case r := <-j.done:
		return r.payload, r.err
	case <-timer.C:
		<-j.started // j.worker is set (long since: this is the timeout)
		j.worker.killForTimeout(j)
		return nil, fmt.Errorf("invocation %s: %w after %s", j.id, ErrTimeout, p.o.Timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) enter() bool {
	p.enterMu.RLock()
	defer p.enterMu.RUnlock()
	if p.draining {
		return false
	}
	select {
	case <-p.closing:
		return false
	default:
	}
	p.inflight.Add(1)
	return true
}

// Shutdown refuses new invocations, waits for those in flight (until ctx
// ends), then stops every worker as Close does.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.enterMu.Lock()
	p.draining = true
	p.enterMu.Unlock()
	drained := make(chan struct{})
	go func() { p.inflight.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = fmt.Errorf("lambda runtime: invocations still running at shutdown: %w", ctx.Err())
	}
	p.Close()
	return err
}

// Close kills every worker and its process group, waits for them to be
// reaped and stops the Runtime API endpoints. In-flight invocations fail with
// ErrWorkerCrashed. It is safe to call more than once.
func (p *Pool) Close() {
	p.closeOnce.Do(func() {
		close(p.closing)
		p.mu.Lock()
		for _, w := range p.workers {
			if w != nil {
				killGroup(w.cmd)
			}
		}
		p.mu.Unlock()
	})
	p.slots.Wait()
}

func (p *Pool) isClosing() bool {
	select {
	case <-p.closing:
		return true
	default:
		return false
	}
}

// supervise waits for the slot's worker to exit and replaces it until the
// pool closes. A worker that dies before it ever asked for work is retried
// with a growing pause, so a function that cannot start does not spin.
func (p *Pool) supervise(slot int, w *worker) {
	defer p.slots.Done()
	backoff := 100 * time.Millisecond
	for {
		status := w.wait()
		if p.isClosing() {
			return
		}
		wasReady := w.isReady()
		if w.timedOut.Load() {
			p.log.Warn("lambda worker killed after the function timeout; replacing it", "worker", slot, "pid", w.pid(), "timeout", p.o.Timeout)
		} else if wasReady {
			p.log.Warn("lambda worker exited; replacing it", "worker", slot, "pid", w.pid(), "status", status, "last_output", w.tail.String())
		} else {
			p.log.Warn("lambda worker failed to initialise; retrying", "worker", slot, "error", w.initError(), "retry_in", backoff)
		}
		if wasReady {
			backoff = 100 * time.Millisecond
		} else {
			select {
			case <-time.After(backoff):
			case <-p.closing:
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		}
		for {
			nw, err := p.spawn(slot)
			if err == nil {
				p.restarts.Add(1)
				p.mu.Lock()
				p.workers[slot] = nw
				closing := p.isClosing()
				p.mu.Unlock()
				if closing {
					// Close ran between spawn and registration: it did
					// not see this worker, so kill it here.
					killGroup(nw.cmd)
				}
				w = nw
				break
			}
			p.log.Error("cannot start lambda worker", "worker", slot, "error", err)
			select {
			case <-time.After(backoff):
			case <-p.closing:
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}
}

// newRequestID returns a random UUID v4, the form of Lambda request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// NewRequestID returns a random UUID v4; the gateway uses it for its own
// request ids.
func NewRequestID() string { return newRequestID() }

// newTraceID returns an X-Ray trace header value like Lambda passes in
// Lambda-Runtime-Trace-Id.
func newTraceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var p [8]byte
	_, _ = rand.Read(p[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:]), hex.EncodeToString(p[:]))
}
