package handler

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzHandler: any event decodes into some request, and every request gets a
// JSON body, Content-Type application/json, a status from the API's set and
// never a panic. Seeds are the AWS sample events in testdata plus requests
// for each route; the fuzzer mutates the raw event and the three fields that
// drive routing.
func FuzzHandler(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, "", "", "")
	}
	for _, s := range [][3]string{
		{"GET", "/health", ""}, {"GET", "/hello", "Ana"}, {"GET", "/hello", ""},
		{"GET", "/hello", strings.Repeat("x", 101)}, {"POST", "/hello", "x"}, {"GET", "/nope", ""},
		{"GET", "/hello", "\"\\\x00\u2028\xff"}, {"get", "/HEALTH/", "é"},
	} {
		f.Add([]byte("{}"), s[0], s[1], s[2])
	}
	h := New(nil)
	f.Fuzz(func(t *testing.T, raw []byte, method, path, name string) {
		var req events.APIGatewayProxyRequest
		// A body that is not a valid event is what the Runtime API client
		// rejects before the handler runs; the fields below still drive one.
		_ = json.Unmarshal(raw, &req)
		if method != "" || path != "" {
			req.HTTPMethod, req.Path = method, path
		}
		if name != "" {
			req.QueryStringParameters = map[string]string{"name": name}
		}
		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		switch resp.StatusCode {
		case 200, 400, 404, 405:
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp.Headers["Content-Type"] != "application/json" {
			t.Fatalf("Content-Type = %q", resp.Headers["Content-Type"])
		}
		if !utf8.ValidString(resp.Body) || !json.Valid([]byte(resp.Body)) {
			t.Fatalf("body is not valid JSON: %q", resp.Body)
		}
		var body map[string]string
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || len(body) != 1 {
			t.Fatalf("body %q is not a one-field JSON object", resp.Body)
		}
		// A successful hello says exactly the trimmed name back.
		if resp.StatusCode == 200 && strings.TrimSuffix(req.Path, "/") == "/hello" {
			want := strings.TrimSpace(queryParam(req, "name"))
			if want == "" {
				want = "World"
			}
			if body["message"] != "Hello, "+want+"!" {
				t.Fatalf("message %q for name %q", body["message"], want)
			}
		}
		if resp.StatusCode == 405 && resp.Headers["Allow"] != Allowed {
			t.Fatalf("405 without Allow header")
		}
	})
}
