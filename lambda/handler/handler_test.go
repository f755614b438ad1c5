package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// loadEvent decodes one of the AWS sample events kept in testdata (copied
// from aws-lambda-go's events/testdata, see testdata/README.md).
func loadEvent(t testing.TB, name string) events.APIGatewayProxyRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return req
}

// derive returns the sample event turned into another request, the way API
// Gateway would send it for "ANY /{proxy+}": path, method, proxy path
// parameter and both query maps set consistently.
func derive(base events.APIGatewayProxyRequest, method, path string, query map[string][]string) events.APIGatewayProxyRequest {
	req := base
	req.HTTPMethod = method
	req.Path = path
	req.RequestContext.HTTPMethod = method
	req.RequestContext.Path = "/" + req.RequestContext.Stage + path
	req.PathParameters = map[string]string{"proxy": strings.TrimPrefix(path, "/")}
	req.QueryStringParameters = nil
	req.MultiValueQueryStringParameters = nil
	if query != nil {
		req.QueryStringParameters = map[string]string{}
		req.MultiValueQueryStringParameters = query
		for k, vs := range query {
			req.QueryStringParameters[k] = vs[len(vs)-1]
		}
	}
	if method == "GET" {
		req.Body = ""
	}
	return req
}

func TestRespondSampleEvents(t *testing.T) {
	rest := loadEvent(t, "apigw-request.json")
	openapi := loadEvent(t, "apigw-restapi-openapi-request.json")
	long := strings.Repeat("a", MaxNameLength+1)
	longUnicode := strings.Repeat("é", MaxNameLength) // 100 characters, 200 bytes: allowed
	q := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}

	cases := []struct {
		name      string
		req       events.APIGatewayProxyRequest
		status    int
		body      map[string]any // decoded and compared, never string-matched
		allow     string
		msgSubstr string // for 400s: the reason must be said
	}{
		{name: "sample as shipped: POST /hello/world is unknown", req: rest, status: 404, body: map[string]any{"message": "Not Found"}},
		{name: "openapi sample as shipped", req: openapi, status: 404, body: map[string]any{"message": "Not Found"}},
		{name: "health", req: derive(rest, "GET", "/health", nil), status: 200, body: map[string]any{"status": "ok"}},
		{name: "health trailing slash", req: derive(rest, "GET", "/health/", nil), status: 200, body: map[string]any{"status": "ok"}},
		{name: "health ignores query", req: derive(rest, "GET", "/health", q("name", "x")), status: 200, body: map[string]any{"status": "ok"}},
		{name: "hello with name", req: derive(rest, "GET", "/hello", q("name", "Irvi")), status: 200, body: map[string]any{"message": "Hello, Irvi!"}},
		{name: "hello sample name", req: derive(openapi, "GET", "/hello", q("name", "me")), status: 200, body: map[string]any{"message": "Hello, me!"}},
		{name: "hello default name", req: derive(rest, "GET", "/hello", nil), status: 200, body: map[string]any{"message": "Hello, World!"}},
		{name: "hello empty name", req: derive(rest, "GET", "/hello", q("name", "")), status: 200, body: map[string]any{"message": "Hello, World!"}},
		{name: "hello blank name", req: derive(rest, "GET", "/hello", q("name", "  \t")), status: 200, body: map[string]any{"message": "Hello, World!"}},
		{name: "hello trims surrounding spaces", req: derive(rest, "GET", "/hello", q("name", " Ana ")), status: 200, body: map[string]any{"message": "Hello, Ana!"}},
		{name: "hello unicode", req: derive(rest, "GET", "/hello", q("name", "João 🚀 日本")), status: 200, body: map[string]any{"message": "Hello, João 🚀 日本!"}},
		{name: "hello quotes are encoded, not pasted", req: derive(rest, "GET", "/hello", q("name", `"},"x":"y`)), status: 200, body: map[string]any{"message": `Hello, "},"x":"y!`}},
		{name: "hello backslash and control chars", req: derive(rest, "GET", "/hello", q("name", "a\\b\x01\nc")), status: 200, body: map[string]any{"message": "Hello, a\\b\x01\nc!"}},
		{name: "hello html stays text", req: derive(rest, "GET", "/hello", q("name", "<script>&")), status: 200, body: map[string]any{"message": "Hello, <script>&!"}},
		{name: "hello repeated name: last wins as on API Gateway", req: derive(rest, "GET", "/hello", q("name", "first", "name", "last")), status: 200, body: map[string]any{"message": "Hello, last!"}},
		{name: "hello 100 unicode characters allowed", req: derive(rest, "GET", "/hello", q("name", longUnicode)), status: 200, body: map[string]any{"message": "Hello, " + longUnicode + "!"}},
		{name: "hello name too long", req: derive(rest, "GET", "/hello", q("name", long)), status: 400, msgSubstr: "too long: 101 characters, at most 100"},
		{name: "hello invalid utf-8", req: derive(rest, "GET", "/hello", q("name", "a\xffb")), status: 400, msgSubstr: "UTF-8"},
		{name: "unknown path", req: derive(rest, "GET", "/nope", nil), status: 404, body: map[string]any{"message": "Not Found"}},
		{name: "root", req: derive(rest, "GET", "/", nil), status: 404, body: map[string]any{"message": "Not Found"}},
		{name: "prefix is not a route", req: derive(rest, "GET", "/healthz", nil), status: 404, body: map[string]any{"message": "Not Found"}},
		{name: "POST health", req: derive(rest, "POST", "/health", nil), status: 405, allow: "GET", body: map[string]any{"message": "Method Not Allowed"}},
		{name: "DELETE hello", req: derive(openapi, "DELETE", "/hello", q("name", "x")), status: 405, allow: "GET", body: map[string]any{"message": "Method Not Allowed"}},
		{name: "unknown path wins over method", req: derive(rest, "POST", "/nope", nil), status: 404, body: map[string]any{"message": "Not Found"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := Respond(tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := resp.Headers["Allow"]; got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", resp.Body, err)
			}
			if tc.msgSubstr != "" {
				msg, _ := body["message"].(string)
				if !strings.Contains(msg, tc.msgSubstr) || len(body) != 1 {
					t.Fatalf("body = %s, want a message containing %q", resp.Body, tc.msgSubstr)
				}
				return
			}
			if !equalJSON(body, tc.body) {
				t.Fatalf("body = %s, want %v", resp.Body, tc.body)
			}
		})
	}
}

// TestV2EventGetsJSON feeds an HTTP API (payload 2.0) sample to the v1
// handler, as a misconfigured integration would: the answer is still JSON.
func TestV2EventGetsJSON(t *testing.T) {
	resp := Respond(loadEvent(t, "apigw-v2-request-no-authorizer.json"))
	if resp.StatusCode != 404 || !json.Valid([]byte(resp.Body)) {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Body)
	}
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"\`, "\x00\x1f\x7f", "\u2028\u2029", "a\xffb\xc0", "日本語 🚀", "<>&"} {
		var b strings.Builder
		writeJSONStringContent(&b, s)
		var got string
		if err := json.Unmarshal([]byte(`"`+b.String()+`"`), &got); err != nil {
			t.Fatalf("%q → %q is not a JSON string: %v", s, b.String(), err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got != want {
			t.Fatalf("%q round-trips to %q, want %q", s, got, want)
		}
	}
}

func TestHandleLogsOneLine(t *testing.T) {
	var buf bytes.Buffer
	h := New(slog.New(slog.NewJSONHandler(&buf, nil)))
	req := derive(loadEvent(t, "apigw-request.json"), "GET", "/hello", map[string][]string{"name": {"Zoë"}})
	req.Headers["x-api-key"] = "SECRETKEYVALUE1234567890"
	req.MultiValueHeaders["x-api-key"] = []string{"SECRETKEYVALUE1234567890"}
	req.RequestContext.Identity.APIKey = "SECRETKEYVALUE1234567890"
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})

	resp, err := h.Handle(ctx, req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one log line, got %d: %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	want := map[string]any{
		"request_id":     "deef4878-7910-11e6-8f14-25afc3e9ae33",
		"aws_request_id": "aws-req-1",
		"method":         "GET",
		"path":           "/hello",
		"status":         float64(200),
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("log %s = %v, want %v", k, rec[k], v)
		}
	}
	if d, ok := rec["duration_ns"].(float64); !ok || d < 0 || d != float64(int64(d)) {
		t.Errorf("duration_ns = %v, want a non-negative integer", rec["duration_ns"])
	}
	// Neither headers, the query (the name), nor the key reach the log.
	for _, leak := range []string{"SECRETKEY", "x-api-key", "Zoë", "PostmanRuntime", "headerValue"} {
		if strings.Contains(buf.String(), leak) {
			t.Errorf("log line leaks %q: %s", leak, buf.String())
		}
	}
}

func TestLoggedPathIsBounded(t *testing.T) {
	var buf bytes.Buffer
	h := New(slog.New(slog.NewJSONHandler(&buf, nil)))
	_, _ = h.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/" + strings.Repeat("é", 10000)})
	if buf.Len() > 1024 {
		t.Fatalf("log line is %d bytes for a long path", buf.Len())
	}
	if !json.Valid(bytes.TrimSpace(buf.Bytes())) {
		t.Fatalf("log line is not JSON: %s", buf.String())
	}
}

func equalJSON(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
