//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/challengectl/challengectl/internal/iostreams"
	"github.com/challengectl/challengectl/internal/lambdabuild"
	"github.com/challengectl/challengectl/internal/testtools"
)

const secretKey = "E2ESECRETAPIKEY0123456789abcdef"

// TestUnderRIE (Linux only, like aws-lambda-rie) builds bootstrap for the host and runs it under
// aws-lambda-rie, invoking it with API Gateway events as Lambda would.
func TestUnderRIE(t *testing.T) {
	rie := testtools.Path(t, "aws-lambda-rie")
	bin := buildHost(t, t.TempDir(), lambdabuild.Package)

	addr, apiAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		// rie's own Runtime API defaults to 127.0.0.1:9001; a free port keeps
		// parallel test runs on one machine apart.
		"--runtime-api-address", apiAddr,
		bin)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_FUNCTION_NAME=challenge-api", "LOG_LEVEL=warn")
	var logs iostreams.Buffer // the child's output, read while it writes
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Its own process group, so the cleanup stops rie and the bootstrap it
	// started, and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})

	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	invoke := func(req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
		t.Helper()
		body, _ := json.Marshal(req)
		var resp *http.Response
		var err error
		// rie needs a moment to listen; bounded retries on connection errors only.
		for i := 0; i < 100; i++ {
			resp, err = http.Post(url, "application/json", strings.NewReader(string(body)))
			if err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("invoke: %v\nrie output:\n%s", err, logs.String())
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out events.APIGatewayProxyResponse
		if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("rie answered %d %q: %v\nrie output:\n%s", resp.StatusCode, raw, err, logs.String())
		}
		return out
	}

	cases := []struct {
		name, method, path string
		query              map[string]string
		status             int
		body               map[string]string
		allow              string
	}{
		{"health", "GET", "/health", nil, 200, map[string]string{"status": "ok"}, ""},
		{"hello", "GET", "/hello", map[string]string{"name": "Irvi"}, 200, map[string]string{"message": "Hello, Irvi!"}, ""},
		{"default name", "GET", "/hello", nil, 200, map[string]string{"message": "Hello, World!"}, ""},
		{"unicode", "GET", "/hello", map[string]string{"name": "Zoë 🚀 東京"}, 200, map[string]string{"message": "Hello, Zoë 🚀 東京!"}, ""},
		{"quote injection", "GET", "/hello", map[string]string{"name": `a","b":"c`}, 200, map[string]string{"message": `Hello, a","b":"c!`}, ""},
		{"too long", "GET", "/hello", map[string]string{"name": strings.Repeat("n", 101)}, 400, nil, ""},
		{"404", "GET", "/missing", nil, 404, map[string]string{"message": "Not Found"}, ""},
		{"405", "POST", "/hello", nil, 405, map[string]string{"message": "Method Not Allowed"}, "GET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := sampleEvent(t, tc.method, tc.path, tc.query)
			req.Headers["x-api-key"] = secretKey
			req.RequestContext.Identity.APIKey = secretKey
			req.RequestContext.RequestID = "req-" + strings.ReplaceAll(tc.name, " ", "-")
			resp := invoke(req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if resp.Headers["Content-Type"] != "application/json" || resp.Headers["Allow"] != tc.allow {
				t.Fatalf("headers %v", resp.Headers)
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			if tc.body == nil {
				if !strings.Contains(body["message"], "too long") {
					t.Fatalf("400 without a reason: %q", resp.Body)
				}
				return
			}
			if fmt.Sprint(body) != fmt.Sprint(tc.body) {
				t.Fatalf("body %v, want %v", body, tc.body)
			}
		})
	}

	// Each invocation left exactly one JSON log line with its request id, and
	// the API key appears nowhere in the function's output. RIE relays the
	// function's output asynchronously, so the last lines may arrive after
	// the last answer: wait (bounded) until every id has shown up.
	ids := make([]string, len(cases))
	for i, tc := range cases {
		ids[i] = `"request_id":"req-` + strings.ReplaceAll(tc.name, " ", "-") + `"`
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out := logs.String()
		if !slices.ContainsFunc(ids, func(id string) bool { return !strings.Contains(out, id) }) {
			break
		}
	}
	out := logs.String()
	if strings.Contains(out, secretKey) {
		t.Fatalf("the API key reached the logs:\n%s", out)
	}
	for _, id := range ids {
		if n := strings.Count(out, id); n != 1 {
			t.Errorf("%d log lines for %s, want 1:\n%s", n, id, out)
		}
	}
}
