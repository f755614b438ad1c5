package localapi_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/lambdaruntime/lambdatest"
	"github.com/challengectl/challengectl/internal/localapi"
	"github.com/challengectl/challengectl/internal/testtools"
)

func call(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStartServeShutdown(t *testing.T) {
	s, err := localapi.Start(context.Background(), localapi.Options{
		BinaryPath: lambdatest.TestFunction(t),
		Addr:       "127.0.0.1:0",
		Workers:    2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/prod$`).MatchString(s.URL) {
		t.Errorf("URL = %q", s.URL)
	}
	if len(s.APIKey) != 40 {
		t.Errorf("generated key has %d characters", len(s.APIKey))
	}
	if s.Limits.StageRate != 100 || s.Limits.Quota != 10000 {
		t.Errorf("limits = %+v, want the defaults", s.Limits)
	}
	if code, body := call(t, s.URL+"/health", s.APIKey); code != 200 || body != `{"status":"ok"}` {
		t.Errorf("/health: %d %s", code, body)
	}
	if code, _ := call(t, s.URL+"/health", ""); code != 403 {
		t.Errorf("/health without key: %d", code)
	}
	workers := s.Pool.Workers()
	if len(workers) != 2 {
		t.Fatalf("workers = %v", workers)
	}

	// A request in flight when Shutdown starts completes.
	done := make(chan int, 1)
	go func() {
		code, _ := call(t, s.URL+"/sleep?ms=400", s.APIKey)
		done <- code
	}()
	time.Sleep(100 * time.Millisecond)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case code := <-done:
		if code != 200 {
			t.Errorf("in-flight request got %d during drain", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request never finished")
	}
	for _, w := range workers {
		if err := syscall.Kill(w.PID, 0); err == nil {
			t.Errorf("worker %d still running after Shutdown", w.PID)
		}
	}
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Errorf("%s still accepts connections", s.Addr)
	}
}

func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = localapi.Start(context.Background(), localapi.Options{
		BinaryPath: lambdatest.TestFunction(t),
		Addr:       ln.Addr().String(),
	})
	var ae *localapi.AddrError
	if !errors.As(err, &ae) || ae.Addr != ln.Addr().String() {
		t.Fatalf("err = %v, want an AddrError", err)
	}
}

// fnModule writes a throwaway project whose lambda/ is main, in its own
// module resolved from the local module cache.
func fnModule(t *testing.T, main string) string {
	t.Helper()
	root := testtools.ModuleRoot(t)
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":         "module example.com/fn\n\ngo 1.26\n\nrequire github.com/aws/aws-lambda-go v1.55.1\n",
		"go.sum":         string(sum),
		"lambda/main.go": main,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildsLambdaFromTheProject(t *testing.T) {
	testtools.GoToolchain(t)
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	src, err := os.ReadFile(filepath.Join(testtools.ModuleRoot(t), "internal/lambdaruntime/testdata/testfn/main.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir := fnModule(t, string(src))
	s, err := localapi.Start(context.Background(), localapi.Options{ProjectDir: dir, Addr: "127.0.0.1:0", Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if code, body := call(t, s.URL+"/hello?name=Ana", s.APIKey); code != 200 || body != `{"message":"Hello, Ana!"}` {
		t.Errorf("/hello: %d %s", code, body)
	}
}

func TestBuildFailureIsReported(t *testing.T) {
	testtools.GoToolchain(t)
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	dir := fnModule(t, "package main\n\nfunc main() { undefinedThing() }\n")
	_, err := localapi.Start(context.Background(), localapi.Options{ProjectDir: dir, Addr: "127.0.0.1:0", Workers: 1})
	var ce *lambdabuild.CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Output, "undefinedThing") {
		t.Fatalf("err = %v, want a CompileError naming the compile error", err)
	}
}

func TestNewAPIKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := localapi.NewAPIKey()
		if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(k) || seen[k] {
			t.Fatalf("bad or repeated key %q", k)
		}
		seen[k] = true
	}
}
