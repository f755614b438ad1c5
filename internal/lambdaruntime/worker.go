package lambdaruntime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime API paths and headers (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	apiPrefix = "/2018-06-01/runtime"

	hdrRequestID   = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline    = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID     = "Lambda-Runtime-Trace-Id"
	hdrErrorType   = "Lambda-Runtime-Function-Error-Type"
	trlErrorBody   = "Lambda-Runtime-Function-Error-Body"
)

// worker is one process of the function and its own Runtime API endpoint.
type worker struct {
	p    *Pool
	slot int
	cmd  *exec.Cmd
	ln   net.Listener
	api  *apiServer
	addr string // host:port, its AWS_LAMBDA_RUNTIME_API
	tail *tailWriter
	// out is the read end of the function's stdout/stderr pipe; outDone
	// is closed once drainOutput has read all of it.
	out     *os.File
	outDone chan struct{}

	ready     chan struct{} // closed on the first /next
	readyOnce sync.Once
	exited    chan struct{} // closed once the process is reaped
	status    string        // exit status, valid after exited

	mu       sync.Mutex
	current  *job
	initType string
	initMsg  string
	timedOut atomic.Bool
}

// spawn starts one worker process for slot, with a fresh Runtime API
// endpoint: a replaced worker never shares connections or handlers with the
// process it replaces.
func (p *Pool) spawn(slot int) (*worker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambda runtime API listener: %w", err)
	}
	w := &worker{
		p:      p,
		slot:   slot,
		ln:     ln,
		addr:   ln.Addr().String(),
		ready:  make(chan struct{}),
		exited: make(chan struct{}),
	}
	w.tail = newTailWriter(p.log, slot)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", w.handleNext)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", w.handleResponse)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", w.handleError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", w.handleInitError)
	w.api = newAPIServer(ln, mux)
	go w.api.serve()

	n := p.spawned.Add(1)
	cmd := exec.Command(p.o.BinaryPath, p.o.Args...)
	cmd.Dir = filepath.Dir(p.o.BinaryPath)
	cmd.Env = append(p.lambdaEnv(w.addr, n), p.o.Env...)
	// The function's stdout and stderr share one pipe that we read
	// ourselves (see drainOutput) rather than through exec's copying
	// goroutine, which wakes up for every line the function logs, i.e.
	// on every invocation.
	pr, pw, err := os.Pipe()
	if err != nil {
		w.api.close()
		return nil, fmt.Errorf("lambda worker output pipe: %w", err)
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	isolate(cmd)
	err = cmd.Start()
	_ = pw.Close() // the child holds its own copy
	if err != nil {
		_ = pr.Close()
		w.api.close()
		return nil, fmt.Errorf("start lambda worker %s: %w", p.o.BinaryPath, err)
	}
	w.out = pr
	w.outDone = make(chan struct{})
	go w.drainOutput()
	w.cmd = cmd
	p.log.Debug("lambda worker started", "worker", slot, "pid", cmd.Process.Pid, "runtime_api", w.addr)
	return w, nil
}

// lambdaEnv is the environment Lambda gives a provided.al2023 function; the
// host's environment (credentials included) is not passed on.
func (p *Pool) lambdaEnv(addr string, n int64) []string {
	o := p.o
	day := time.Now().UTC().Format("2006/01/02")
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + addr,
		"AWS_LAMBDA_FUNCTION_NAME=" + o.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(o.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + o.FunctionName,
		fmt.Sprintf("AWS_LAMBDA_LOG_STREAM_NAME=%s/[$LATEST]%032x", day, n),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + o.Region,
		"AWS_DEFAULT_REGION=" + o.Region,
		"LAMBDA_TASK_ROOT=" + filepath.Dir(o.BinaryPath),
		"LAMBDA_RUNTIME_DIR=" + filepath.Dir(o.BinaryPath),
		"_HANDLER=" + filepath.Base(o.BinaryPath),
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin:/bin",
		// A Lambda instance runs one invocation at a time, and a 128 MB
		// function gets a small fraction of one vCPU (a full vCPU only at
		// 1,769 MB). One P matches that and spares a Go worker the
		// scheduler's cross-thread wakeups (futex, spinning Ms) on every
		// invocation, which cost more than the handler itself here
		// (BenchmarkThroughput: about a quarter less CPU per invocation
		// in the workers). Options.Env comes after and may override it.
		"GOMAXPROCS=1",
	}
}

func (w *worker) pid() int {
	if w.cmd == nil || w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

func (w *worker) isReady() bool {
	select {
	case <-w.ready:
		return true
	default:
		return false
	}
}

// wait reaps the process, fails its in-flight invocation and closes its
// endpoint. It returns the exit status.
func (w *worker) wait() string {
	err := w.cmd.Wait()
	// Make sure nothing the function started outlives it.
	killGroup(w.cmd)
	// Read the function's last words before reporting the exit. A
	// grandchild that escaped the group and keeps the pipe open must not
	// hold this up for more than a second.
	t := time.NewTimer(time.Second)
	select {
	case <-w.outDone:
	case <-t.C:
		_ = w.out.Close()
		<-w.outDone
	}
	t.Stop()
	status := "exit status 0"
	if err != nil {
		status = err.Error()
	}
	w.api.close()
	w.mu.Lock()
	w.status = status
	j := w.current
	w.current = nil
	w.mu.Unlock()
	if j != nil {
		j.finish(result{err: &CrashError{RequestID: j.id, Worker: w.slot, PID: w.pid(), Status: status, Stderr: w.tail.String()}})
	}
	close(w.exited)
	return status
}

// initError describes why a worker stopped before it was ready.
func (w *worker) initError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return &InitError{Worker: w.slot, Type: w.initType, Message: w.initMsg, Status: w.status, Stderr: w.tail.String()}
}

// killForTimeout kills the worker holding j, unless j already finished.
func (w *worker) killForTimeout(j *job) {
	w.mu.Lock()
	held := w.current == j
	if held {
		w.current = nil
	}
	w.mu.Unlock()
	if held {
		w.timedOut.Store(true)
		killGroup(w.cmd)
	}
}

func (w *worker) handleNext(rw http.ResponseWriter, r *http.Request) {
	w.readyOnce.Do(func() { close(w.ready) })
	var j *job
	select {
	case j = <-w.p.queue:
	case <-r.Context().Done():
		return
	case <-w.p.closing:
		http.Error(rw, `{"errorMessage":"shutting down","errorType":"ShutDown"}`, http.StatusServiceUnavailable)
		return
	}
	w.mu.Lock()
	if w.status != "" {
		// The process exited while this request waited for a job, and
		// wait() has already failed what it held: fail this one too
		// rather than leave it to the timeout.
		status := w.status
		w.mu.Unlock()
		j.worker = w
		close(j.started)
		j.finish(result{err: &CrashError{RequestID: j.id, Worker: w.slot, PID: w.pid(), Status: status, Stderr: w.tail.String()}})
		return
	}
	if old := w.current; old != nil {
		// The runtime asked for more work without answering: the
		// previous invocation will never get a result.
		old.finish(result{err: fmt.Errorf("invocation %s: %w: the runtime asked for the next invocation without answering", old.id, ErrWorkerCrashed)})
	}
	w.current = j
	w.mu.Unlock()
	j.worker = w
	j.deadline = time.Now().Add(w.p.o.Timeout)
	close(j.started)

	h := rw.Header()
	h.Set("Content-Type", "application/json")
	h.Set(hdrRequestID, j.id)
	h.Set(hdrDeadline, strconv.FormatInt(j.deadline.UnixMilli(), 10))
	h.Set(hdrFunctionARN, w.p.arn)
	h.Set(hdrTraceID, j.trace)
	h.Set("Content-Length", strconv.Itoa(len(j.payload)))
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(j.payload)
	// A write error means the process is gone: wait() fails the job.
}

// take removes and returns the in-flight job with the given id.
func (w *worker) take(id string) *job {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current == nil || w.current.id != id {
		return nil
	}
	j := w.current
	w.current = nil
	return j
}

func runtimeError(rw http.ResponseWriter, status int, typ, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

func accepted(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(rw, `{"status":"OK"}`)
}

// takePosted reads the body of a /response or /error post and takes the
// invocation it answers. ok is false when there is nothing more to do: the
// runtime died mid-post (wait() reports the crash) or the ID is unknown
// (answered here with Lambda's InvalidRequestID).
func (w *worker) takePosted(rw http.ResponseWriter, r *http.Request) (id string, body []byte, j *job, ok bool) {
	id = r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		return id, nil, nil, false
	}
	if j = w.take(id); j == nil {
		runtimeError(rw, http.StatusBadRequest, "InvalidRequestID", "no invocation "+id+" is in progress on this runtime")
		return id, nil, nil, false
	}
	return id, body, j, true
}

func (w *worker) handleResponse(rw http.ResponseWriter, r *http.Request) {
	id, body, j, ok := w.takePosted(rw, r)
	if !ok {
		return
	}
	if len(body) > MaxResponseBytes {
		j.finish(result{err: fmt.Errorf("invocation %s: %w", id, ErrResponseTooLarge)})
		runtimeError(rw, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload exceeds 6291456 bytes")
		return
	}
	// aws-lambda-go streams the response and reports a failure that
	// happens while streaming in trailers.
	if typ := r.Trailer.Get(hdrErrorType); typ != "" {
		fe := &FunctionError{RequestID: id, Type: typ}
		if raw, err := base64.StdEncoding.DecodeString(r.Trailer.Get(trlErrorBody)); err == nil {
			fe.Payload = raw
			fillFunctionError(fe, raw)
		}
		j.finish(result{err: fe})
		accepted(rw)
		return
	}
	j.finish(result{payload: body})
	accepted(rw)
}

func fillFunctionError(fe *FunctionError, raw []byte) {
	var doc struct {
		Type    string          `json:"errorType"`
		Message string          `json:"errorMessage"`
		Stack   json.RawMessage `json:"stackTrace"`
	}
	if json.Unmarshal(raw, &doc) == nil {
		if doc.Type != "" {
			fe.Type = doc.Type
		}
		fe.Message = doc.Message
		fe.StackTrace = doc.Stack
	}
}

func (w *worker) handleError(rw http.ResponseWriter, r *http.Request) {
	id, body, j, ok := w.takePosted(rw, r)
	if !ok {
		return
	}
	fe := &FunctionError{RequestID: id, Type: r.Header.Get(hdrErrorType), Payload: body}
	fillFunctionError(fe, body)
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	j.finish(result{err: fe})
	accepted(rw)
}

func (w *worker) handleInitError(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	fe := &FunctionError{Type: r.Header.Get(hdrErrorType)}
	fillFunctionError(fe, body)
	w.mu.Lock()
	w.initType, w.initMsg = fe.Type, fe.Message
	w.mu.Unlock()
	accepted(rw)
}

// outputBatch is how long drainOutput lets the function's output gather in
// the pipe between reads. Reading each line as it comes costs a wakeup of
// this process per invocation; a few milliseconds of log latency cost
// nothing. The pipe holds 64 KiB, far more than a worker writes in that time;
// a function that writes faster just waits for the next read, as it would
// on a slow terminal.
const outputBatch = 5 * time.Millisecond

// drainOutput copies the function's output to the tail writer until the
// pipe closes (the process and everything it started have exited).
func (w *worker) drainOutput() {
	defer close(w.outDone)
	defer w.out.Close()
	buf := make([]byte, 64*1024)
	for {
		n, err := w.out.Read(buf)
		if n > 0 {
			_, _ = w.tail.Write(buf[:n])
		}
		if err != nil {
			return
		}
		time.Sleep(outputBatch)
	}
}

// tailWriter receives the function's stdout and stderr: each line goes to
// the logger at debug level (the local CloudWatch), and the last few lines
// are kept to explain a crash.
type tailWriter struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	log     interface {
		Debug(msg string, args ...any)
	}
	slot int
}

const tailLines = 8

func newTailWriter(log interface{ Debug(string, ...any) }, slot int) *tailWriter {
	return &tailWriter{log: log, slot: slot}
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(t.partial) < 64*1024 {
				t.partial = append(t.partial, b...)
			}
			break
		}
		line := string(append(t.partial, b[:i]...))
		t.partial = t.partial[:0]
		b = b[i+1:]
		t.add(line)
	}
	return n, nil
}

func (t *tailWriter) add(line string) {
	line = strings.TrimRight(line, "\r")
	t.log.Debug("function output", "worker", t.slot, "line", line)
	t.lines = append(t.lines, line)
	if len(t.lines) > tailLines {
		t.lines = t.lines[len(t.lines)-tailLines:]
	}
}

// String returns the last lines written, joined with " | ".
func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.partial) > 0 {
		lines = append(append([]string(nil), lines...), string(t.partial))
	}
	return strings.Join(lines, " | ")
}
