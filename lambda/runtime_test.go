package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/testtools"
)

// The tests in this file run the real bootstrap as a process, the way Lambda
// does: under AWS's runtime interface emulator, and against a tiny Runtime
// API served by the test for the cold-start measurement.

// buildHost builds lambda/ (or another package, with the same flags) for this
// machine into dir and returns the binary's path.
func buildHost(tb testing.TB, dir, pkg string) string {
	tb.Helper()
	testtools.GoToolchain(tb)
	root := testtools.ModuleRoot(tb)
	bin := filepath.Join(dir, filepath.Base(pkg))
	if pkg == lambdabuild.Package {
		bin = filepath.Join(dir, lambdabuild.BinaryName)
		if _, err := lambdabuild.Build(context.Background(), lambdabuild.Options{
			ProjectDir: root, Arch: lambdabuild.HostArch(), GOOS: runtime.GOOS, BinaryPath: bin,
		}); err != nil {
			tb.Fatal(err)
		}
		return bin
	}
	bc := lambdabuild.BuildCommand(root, pkg, runtime.GOOS, lambdabuild.HostArch(), bin)
	cmd := exec.Command("go", bc.Args[1:]...)
	cmd.Dir, cmd.Env = bc.Dir, append(os.Environ(), bc.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// sampleEvent derives an API Gateway REST proxy event from AWS's sample.
func sampleEvent(tb testing.TB, method, path string, query map[string]string) events.APIGatewayProxyRequest {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("handler", "testdata", "apigw-request.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		tb.Fatal(err)
	}
	req.HTTPMethod, req.Path = method, path
	req.RequestContext.HTTPMethod = method
	req.PathParameters = map[string]string{"proxy": strings.TrimPrefix(path, "/")}
	req.QueryStringParameters = query
	req.MultiValueQueryStringParameters = nil
	for k, v := range query {
		if req.MultiValueQueryStringParameters == nil {
			req.MultiValueQueryStringParameters = map[string][]string{}
		}
		req.MultiValueQueryStringParameters[k] = []string{v}
	}
	req.Body = ""
	return req
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// runtimeAPI is a minimal Lambda Runtime API on loopback. Each started
// process gets its own path prefix in AWS_LAMBDA_RUNTIME_API (as kumo does
// with /_runtime/<function>), so a killed process's pending `next` can never
// take the event meant for the next one. A process is given one event by
// `next`; its later `next` calls block until it is stopped, as an idle
// Lambda sandbox would.
type runtimeAPI struct {
	srv   *httptest.Server
	event []byte
	seq   atomic.Int64
	mu    sync.Mutex
	procs map[string]*proc
}

type proc struct {
	next chan string // the one request id to hand out
	resp chan []byte // the answer (or "ERROR ..." for /error)
}

func newRuntimeAPI(tb testing.TB, event []byte) *runtimeAPI {
	r := &runtimeAPI{event: event, procs: map[string]*proc{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{proc}/2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) {
		p := r.proc(req.PathValue("proc"))
		if p == nil {
			http.NotFound(w, req)
			return
		}
		select {
		case id := <-p.next:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:challenge-api")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(r.event)
		case <-req.Context().Done():
		}
	})
	answer := func(prefix []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			body, _ := io.ReadAll(req.Body)
			if p := r.proc(req.PathValue("proc")); p != nil {
				select {
				case p.resp <- append(prefix, body...):
				default: // a second answer for one event is ignored
				}
			}
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST /{proc}/2018-06-01/runtime/invocation/{id}/response", answer(nil))
	mux.HandleFunc("POST /{proc}/2018-06-01/runtime/invocation/{id}/error", answer([]byte("ERROR ")))
	mux.HandleFunc("POST /{proc}/2018-06-01/runtime/init/error", answer([]byte("INIT ERROR ")))
	r.srv = httptest.NewServer(mux)
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *runtimeAPI) proc(name string) *proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.procs[name]
}

// invokeCold starts bin, hands it one event and returns the time from
// process start to the answer, with the answer. The process is then killed.
func (r *runtimeAPI) invokeCold(tb testing.TB, bin string) (time.Duration, []byte) {
	tb.Helper()
	name := fmt.Sprintf("p%d", r.seq.Add(1))
	p := &proc{next: make(chan string, 1), resp: make(chan []byte, 1)}
	p.next <- "cold-" + name
	r.mu.Lock()
	r.procs[name] = p
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.procs, name)
		r.mu.Unlock()
	}()

	cmd := exec.Command(bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(r.srv.URL, "http://") + "/" + name,
		"AWS_LAMBDA_FUNCTION_NAME=challenge-api",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1",
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	select {
	case body := <-p.resp:
		return time.Since(start), body
	case <-time.After(30 * time.Second):
		tb.Fatalf("%s gave no answer through the Runtime API within 30s", bin)
		return 0, nil
	}
}

// TestRuntimeAPIInvocation checks the cold-start harness itself: the real
// bootstrap, started fresh, answers a /hello event through the Runtime API.
func TestRuntimeAPIInvocation(t *testing.T) {
	bin := buildHost(t, t.TempDir(), lambdabuild.Package)
	event, _ := json.Marshal(sampleEvent(t, "GET", "/hello", map[string]string{"name": "cold"}))
	api := newRuntimeAPI(t, event)
	for range 2 { // two fresh processes: the harness serves one event each
		_, body := api.invokeCold(t, bin)
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(body, &resp); err != nil || resp.StatusCode != 200 || resp.Body != `{"message":"Hello, cold!"}` {
			t.Fatalf("answer %q: %v", body, err)
		}
	}
}

// BenchmarkColdStart measures process start → first answered invocation
// through the Runtime API for our bootstrap and, in the same run, for a
// minimal aws-lambda-go program built with the same flags. Each iteration
// starts both (alternating which goes first, so machine noise hits both);
// the metrics are the medians and their ratio (target: ratio ≤ 2).
//
//	go test -run '^$' -bench ColdStart -benchtime 30x ./lambda/
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	ours := buildHost(b, dir, lambdabuild.Package)
	minimal := buildHost(b, dir, "./lambda/internal/minimal")
	event, _ := json.Marshal(sampleEvent(b, "GET", "/hello", map[string]string{"name": "cold"}))
	api := newRuntimeAPI(b, event)
	// One untimed start each warms the page cache.
	api.invokeCold(b, ours)
	api.invokeCold(b, minimal)

	var oursD, minD []time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			d, _ := api.invokeCold(b, ours)
			oursD = append(oursD, d)
			d, _ = api.invokeCold(b, minimal)
			minD = append(minD, d)
		} else {
			d, _ := api.invokeCold(b, minimal)
			minD = append(minD, d)
			d, _ = api.invokeCold(b, ours)
			oursD = append(oursD, d)
		}
		i++
	}
	mo, mm := median(oursD), median(minD)
	b.ReportMetric(float64(mo.Microseconds())/1000, "bootstrap-ms")
	b.ReportMetric(float64(mm.Microseconds())/1000, "minimal-ms")
	b.ReportMetric(float64(mo)/float64(mm), "ratio")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
