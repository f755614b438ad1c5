package localapi_test

import (
	"bufio"
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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/lambdaruntime/lambdatest"
	"github.com/challengectl/challengectl/internal/limits"
	"github.com/challengectl/challengectl/internal/localapi"
	"github.com/challengectl/challengectl/internal/testtools"
)

// benchBinary is the project's real bootstrap when lambda/ exists, else the
// test function (same aws-lambda-go runtime loop).
func benchBinary(b *testing.B) string {
	b.Helper()
	root := testtools.ModuleRoot(b)
	// CHALLENGECTL_BENCH_TESTFN=1 measures the minimal test function instead.
	if _, err := os.Stat(filepath.Join(root, "lambda", "main.go")); err != nil || os.Getenv("CHALLENGECTL_BENCH_TESTFN") == "1" {
		return lambdatest.TestFunction(b)
	}
	out := filepath.Join(b.TempDir(), "bootstrap")
	cmd := exec.Command(testtools.GoToolchain(b), "build", "-o", out, "./lambda")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build lambda/: %v\n%s", err, msg)
	}
	return out
}

func raised() limits.Limits {
	return limits.Limits{StageRate: 1e9, StageBurst: 1e9, KeyRate: 1e9, KeyBurst: 1e9, Quota: 1e9, QuotaPeriod: limits.PeriodMonth}
}

func benchStack(b *testing.B, workers int) *localapi.Stack {
	b.Helper()
	s, err := localapi.Start(context.Background(), localapi.Options{
		BinaryPath: benchBinary(b),
		Addr:       "127.0.0.1:0",
		Limits:     raised(),
		Workers:    workers,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
}

func fetch(c *http.Client, url, key string) error {
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// leanClient returns, per benchmark goroutine, a minimal HTTP/1.1 client
// of its own: one keep-alive connection, the request's bytes built once,
// each response parsed by net/http's ReadResponse and its body read to the
// end. http.Client hands every request to two more goroutines (the
// connection's write and read loops), and on two cores shared with the
// stack under test those wakeups are CPU taken from what is measured. It
// is used for the gateway and its trivial-server baseline alike, so both
// still pay one real HTTP exchange on loopback per request.
func leanClient(b *testing.B, url, key string) func() func() error {
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	// The headers http.Client sends, so the Lambda event is the same size.
	req.Header.Set("User-Agent", "Go-http-client/1.1")
	req.Header.Set("Accept-Encoding", "gzip")
	var raw strings.Builder
	if err := req.Write(&raw); err != nil {
		b.Fatal(err)
	}
	wire := []byte(raw.String())
	var mu sync.Mutex
	var conns []net.Conn
	b.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return func() func() error {
		var c net.Conn
		var br *bufio.Reader
		return func() error {
			if c == nil {
				var err error
				if c, err = net.Dial("tcp", req.URL.Host); err != nil {
					return err
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				br = bufio.NewReader(c)
			}
			if _, err := c.Write(wire); err != nil {
				return err
			}
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			if resp.Close {
				_ = c.Close()
				c = nil
			}
			return nil
		}
	}
}

// closedLoop runs b.N requests from conc goroutines and reports req/s.
func closedLoop(b *testing.B, conc int, do func() error) {
	closedLoopEach(b, conc, func() func() error { return do })
}

// closedLoopEach is closedLoop where each goroutine gets its own do from
// newDo (its own connection, say).
func closedLoopEach(b *testing.B, conc int, newDo func() func() error) {
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conc {
		wg.Add(1)
		do := newDo()
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := do(); err != nil && failed.Add(1) == 1 {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkThroughput: requests through HTTP on loopback → gateway →
// Runtime API → worker processes, with limits raised, against two
// baselines measured in the same run: the Lambda invoked directly through
// the pool (Runtime API + workers, no gateway or client HTTP), and a trivial
// loopback HTTP server (the client's own cost).
func BenchmarkThroughput(b *testing.B) {
	const conc = 32
	for _, workers := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("gateway/workers=%d", workers), func(b *testing.B) {
			s := benchStack(b, workers)
			closedLoopEach(b, conc, leanClient(b, s.URL+"/health", s.APIKey))
		})
		b.Run(fmt.Sprintf("direct-invoke/workers=%d", workers), func(b *testing.B) {
			s := benchStack(b, workers)
			ev, _ := json.Marshal(map[string]any{"path": "/health", "httpMethod": "GET"})
			closedLoop(b, conc, func() error { _, err := s.Pool.Invoke(context.Background(), ev); return err })
		})
	}
	b.Run("trivial-http-server", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"status":"ok"}`)
		}))
		defer srv.Close()
		closedLoopEach(b, conc, leanClient(b, srv.URL+"/health", ""))
	})
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}

// BenchmarkAddedLatency paces requests at 100 req/s. Each tick sends one
// request through the whole stack (HTTP → gateway → worker) and one direct
// pool invocation (the baseline), alternating which goes first, so both see
// the same machine load; it reports both p99s and the gateway's added p99.
// Run with -benchtime=1000x for 10 s of samples.
func BenchmarkAddedLatency(b *testing.B) {
	s := benchStack(b, 0)
	c := benchClient()
	ev, _ := json.Marshal(map[string]any{"path": "/health", "httpMethod": "GET"})
	url := s.URL + "/health"
	// Warm the connections and both workers.
	for range 20 {
		_ = fetch(c, url, s.APIKey)
	}
	var viaGateway, direct []time.Duration
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		gw := func() {
			t0 := time.Now()
			if err := fetch(c, url, s.APIKey); err != nil {
				b.Fatal(err)
			}
			viaGateway = append(viaGateway, time.Since(t0))
		}
		dr := func() {
			t0 := time.Now()
			if _, err := s.Pool.Invoke(context.Background(), ev); err != nil {
				b.Fatal(err)
			}
			direct = append(direct, time.Since(t0))
		}
		if i%2 == 0 {
			gw()
			dr()
		} else {
			dr()
			gw()
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(percentile(viaGateway, 0.50)), "gateway-p50-ms")
	b.ReportMetric(ms(percentile(viaGateway, 0.99)), "gateway-p99-ms")
	b.ReportMetric(ms(percentile(direct, 0.50)), "direct-p50-ms")
	b.ReportMetric(ms(percentile(direct, 0.99)), "direct-p99-ms")
	b.ReportMetric(ms(percentile(viaGateway, 0.50)-percentile(direct, 0.50)), "added-p50-ms")
	b.ReportMetric(ms(percentile(viaGateway, 0.99)-percentile(direct, 0.99)), "added-p99-ms")
	// The same tick's two requests met the same machine state: the p99 of
	// their difference is the gateway's added latency with less noise from
	// other processes than a difference of two p99s.
	paired := make([]time.Duration, len(direct))
	for i := range direct {
		paired[i] = viaGateway[i] - direct[i]
	}
	b.ReportMetric(ms(percentile(paired, 0.99)), "paired-added-p99-ms")
}
