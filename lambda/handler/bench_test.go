package handler

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// BenchmarkHandler measures one /hello event through Handle, log line
// included (JSON-encoded to io.Discard, as in production minus the write).
// Target: ≤ 10 µs/op and ≤ 40 allocs/op (go test -bench Handler -benchmem).
// BenchmarkRespondBaseline is the same event without logging, measured in
// the same run, to show what the log line costs.
func BenchmarkHandler(b *testing.B) {
	req := derive(loadEvent(b, "apigw-request.json"), "GET", "/hello", map[string][]string{"name": {"Irvi"}})
	h := New(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
	b.ReportAllocs()
	for b.Loop() {
		resp, _ := h.Handle(ctx, req)
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
}

func BenchmarkRespondBaseline(b *testing.B) {
	req := derive(loadEvent(b, "apigw-request.json"), "GET", "/hello", map[string][]string{"name": {"Irvi"}})
	b.ReportAllocs()
	for b.Loop() {
		if Respond(req).StatusCode != 200 {
			b.Fatal("status")
		}
	}
}

func BenchmarkHandlerHealth(b *testing.B) {
	req := derive(loadEvent(b, "apigw-request.json"), "GET", "/health", nil)
	h := New(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = h.Handle(context.Background(), req)
	}
}
