package statebackend

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/challengectl/challengectl/internal/testtools"
)

// BenchmarkEnsureHealthy is the cost of a run on a healthy backend (reads
// only). Its baseline, BenchmarkBaselineHeadBucket, is one S3 round trip to
// the same emulator through the same configuration: the ratio is the price
// of verifying every setting, in round trips.
func BenchmarkEnsureHealthy(b *testing.B) {
	cfg := benchConfig(b)
	o := testOptions(uniqueName("bench"), uniqueName("locks"))
	o.Logger, _ = logBuffer()
	if _, err := Ensure(context.Background(), cfg, o); err != nil {
		b.Fatal(err)
	}
	var rec recorder
	rec.attach(&cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Ensure(context.Background(), cfg, o); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if w := rec.writes(); len(w) != 0 {
		b.Fatalf("healthy runs wrote %v", w)
	}
	b.ReportMetric(float64(len(rec.all()))/float64(b.N), "calls/op")
}

func BenchmarkBaselineHeadBucket(b *testing.B) {
	cfg := benchConfig(b)
	bucket := uniqueName("bench-base")
	s := s3Client(cfg)
	if _, err := s.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchConfig(b *testing.B) aws.Config {
	return endpointConfig(b, "us-east-1", testtools.Kumo(b))
}

// BenchmarkMergeTLSDeny parses a 20-statement policy and appends the deny;
// the baseline is decoding the same document into `any`.
func BenchmarkMergeTLSDeny(b *testing.B) {
	doc := benchPolicy(20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mergeTLSDeny(doc, testARN); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineDecodePolicy(b *testing.B) {
	doc := benchPolicy(20)
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPolicy(n int) string {
	var st []string
	for i := range n {
		st = append(st, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/r%d"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::tf-state/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}`, i, i, i))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
}

// BenchmarkEnsureHealthyRTT adds a 20 ms round trip to every call, as a
// laptop far from its region sees, and compares the concurrent bucket reads
// with the same run done sequentially (the baseline).
func BenchmarkEnsureHealthyRTT(b *testing.B) {
	for _, concurrent := range []bool{false, true} {
		name := "sequential-baseline"
		if concurrent {
			name = "concurrent"
		}
		b.Run(name, func(b *testing.B) {
			old := concurrentReads
			concurrentReads = concurrent
			b.Cleanup(func() { concurrentReads = old })
			cfg := benchConfig(b)
			o := testOptions(uniqueName("bench-rtt"), uniqueName("locks"))
			o.Logger, _ = logBuffer()
			if _, err := Ensure(context.Background(), cfg, o); err != nil {
				b.Fatal(err)
			}
			cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
				return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("benchRTT",
					func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
						time.Sleep(20 * time.Millisecond)
						return next.HandleFinalize(ctx, in)
					}), middleware.After)
			})
			b.ResetTimer()
			for b.Loop() {
				if _, err := Ensure(context.Background(), cfg, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
