// testfn is the Lambda the runtime, gateway and localapi tests run as real
// worker processes. The request path picks a behaviour, so one binary covers
// the good and the bad cases: echo the event, crash, answer garbage, fail,
// sleep past the timeout, spawn a child, answer binary or big bodies.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func main() {
	if os.Getenv("TESTFN_INIT_FAIL") == "1" {
		fmt.Fprintln(os.Stderr, "testfn: init failure on purpose")
		os.Exit(4)
	}
	lambda.Start(handle)
}

func jsonResponse(status int, v any) (events.APIGatewayProxyResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}, nil
}

func param(ev events.APIGatewayProxyRequest, name string) string {
	return ev.QueryStringParameters[name]
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	switch strings.TrimPrefix(ev.Path, "/") {
	case "health":
		return jsonResponse(200, map[string]string{"status": "ok"})
	case "hello":
		name := param(ev, "name")
		if name == "" {
			name = "World"
		}
		return jsonResponse(200, map[string]string{"message": "Hello, " + name + "!"})
	case "crash":
		fmt.Fprintln(os.Stderr, "testfn: crashing on purpose")
		os.Exit(3)
	case "garbage":
		// An io.Reader goes to the Runtime API as-is: not a proxy response.
		return strings.NewReader("this is not JSON"), nil
	case "nostatus":
		return map[string]string{"body": "no statusCode"}, nil
	case "error":
		return nil, errors.New("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "sleep":
		ms, _ := strconv.Atoi(param(ev, "ms"))
		start := time.Now()
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return jsonResponse(200, map[string]int64{"slept_ms": int64(ms), "pid": int64(os.Getpid()),
			"start_ns": start.UnixNano(), "end_ns": time.Now().UnixNano()})
	case "status":
		code, _ := strconv.Atoi(param(ev, "code"))
		return events.APIGatewayProxyResponse{
			StatusCode:        code,
			Headers:           map[string]string{"X-Single": "one", "Content-Type": "text/plain"},
			MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
			Body:              "status " + strconv.Itoa(code),
		}, nil
	case "binary":
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return events.APIGatewayProxyResponse{
			StatusCode:      200,
			Headers:         map[string]string{"Content-Type": "application/octet-stream"},
			Body:            base64.StdEncoding.EncodeToString(b),
			IsBase64Encoded: true,
		}, nil
	case "big":
		n, _ := strconv.Atoi(param(ev, "bytes"))
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: strings.Repeat("x", n)}, nil
	case "spawn":
		// A grandchild in the worker's process group: it must die with it.
		cmd := exec.Command("sleep", "300")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return jsonResponse(200, map[string]int{"pid": cmd.Process.Pid, "worker_pid": os.Getpid()})
	case "pid":
		return jsonResponse(200, map[string]int{"pid": os.Getpid()})
	case "env":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return jsonResponse(200, map[string]any{
			"env":                  env,
			"request_id":           lc.AwsRequestID,
			"invoked_function_arn": lc.InvokedFunctionArn,
			"deadline_ms":          deadline.UnixMilli(),
			"trace_id":             os.Getenv("_X_AMZN_TRACE_ID"),
		})
	}
	// Anything else: echo the event as the Lambda received it.
	return events.APIGatewayProxyResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(raw),
	}, nil
}
