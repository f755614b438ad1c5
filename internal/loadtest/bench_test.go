package loadtest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/challengectl/challengectl/internal/testtools"
)

// The engine benchmarks hit bench/trivialserver running as a separate
// process (as wrk and hey do in bench/compare.sh), or LOADTEST_BENCH_URL when
// set. BenchmarkVegeta is the baseline measured in the same run.
//
//	go test -run '^$' -bench 'Engine|Vegeta' -benchtime 10s ./internal/loadtest/

var (
	benchOnce sync.Once
	benchURL  string
	benchErr  error
	benchProc *exec.Cmd
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchProc != nil {
		_ = benchProc.Process.Kill()
		_ = benchProc.Wait()
	}
	os.Exit(code)
}

func trivialServer(b *testing.B) string {
	b.Helper()
	if u := os.Getenv("LOADTEST_BENCH_URL"); u != "" {
		return u
	}
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trivialserver")
		if err != nil {
			benchErr = err
			return
		}
		bin := filepath.Join(dir, "trivialserver")
		build := exec.Command("go", "build", "-o", bin, "./bench/trivialserver")
		build.Dir = filepath.Join(testtools.ModuleRoot(b), "internal", "loadtest")
		if out, err := build.CombinedOutput(); err != nil {
			benchErr = err
			b.Logf("%s", out)
			return
		}
		cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			benchErr = err
			return
		}
		benchProc = cmd
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			benchErr = err
			return
		}
		benchURL = "http://" + strings.TrimSpace(line)
	})
	if benchErr != nil {
		b.Fatalf("start trivial server: %v", benchErr)
	}
	return benchURL
}

// BenchmarkEngine runs b.N requests through the closed model at concurrency
// 50 and reports requests per second.
func BenchmarkEngine(b *testing.B) {
	url := trivialServer(b)
	// Warm the server's and client's connections outside the timer.
	if _, err := Run(context.Background(), Options{URL: url, Path: "/", Requests: 500, Concurrency: 50}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	res, err := Run(context.Background(), Options{URL: url, Path: "/", Requests: b.N, Concurrency: 50})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.StatusCounts[200] != b.N {
		b.Fatalf("status counts %v, want %d × 200", res.StatusCounts, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkVegeta is the baseline: vegeta's library as it comes, 50 workers
// at full speed with keep-alive, the same number of hits.
func BenchmarkVegeta(b *testing.B) {
	url := trivialServer(b)
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url + "/"})
	atk := vegeta.NewAttacker(vegeta.Workers(50), vegeta.MaxWorkers(50), vegeta.KeepAlive(true))
	b.ResetTimer()
	ok := 0
	n := 0
	for res := range atk.Attack(tr, vegeta.ConstantPacer{}, 0, "bench") {
		if res.Code == 200 {
			ok++
		}
		n++
		if n == b.N {
			atk.Stop()
			// Drain what is in flight; Stop closes the channel.
			go func(ch <-chan *vegeta.Result) {}(nil)
		}
	}
	b.StopTimer()
	if ok < b.N {
		b.Fatalf("%d of %d hits got 200", ok, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

var _ = time.Second
