package smoke_test

import (
	"context"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/loadtest"
	"github.com/challengectl/challengectl/internal/localapi"
	"github.com/challengectl/challengectl/internal/smoke"
	"github.com/challengectl/challengectl/internal/testtools"
)

// TestAgainstLocalStack runs smoke and a throttling load test against the
// real local stack: the Lambda built from lambda/, its Runtime API workers
// and the API Gateway emulation with the default limits.
func TestAgainstLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the Lambda")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := localapi.Start(ctx, localapi.Options{ProjectDir: testtools.ModuleRoot(t), Addr: "127.0.0.1:0", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Shutdown(context.Background()) }()

	rep, err := smoke.Run(ctx, smoke.Options{URL: st.URL, APIKey: st.APIKey, Name: "Zoë & co", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Fatalf("smoke against the local stack failed: %+v", rep.Checks)
	}
	// A wrong key must fail the checks that use it.
	rep, err = smoke.Run(ctx, smoke.Options{URL: st.URL, APIKey: "wrong-key-000000000", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || rep.Checks[0].Status != 403 {
		t.Errorf("smoke with a wrong key: %+v", rep.Checks)
	}

	// 300 requests at concurrency 50 into the 100 req/s, burst 50 buckets:
	// throttled, and at most burst + rate·elapsed pass.
	start := time.Now()
	res, err := loadtest.Run(ctx, loadtest.Options{URL: st.URL, APIKey: st.APIKey, Requests: 300, Concurrency: 50, Limits: st.Limits})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	rate, burst := loadtest.Effective(st.Limits)
	maxOK := burst + int(rate*elapsed.Seconds()) + 1
	if ok := res.StatusCounts[200]; ok < 1 || ok > maxOK || res.StatusCounts[429] == 0 {
		t.Errorf("status %v in %v: want 429s and at most %d × 200", res.StatusCounts, elapsed, maxOK)
	}
	if res.Throttle.Predicted == 0 || res.Throttle.Observed == 0 {
		t.Errorf("throttle %+v", res.Throttle)
	}
}
