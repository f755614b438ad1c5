package statebackend

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/challengectl/challengectl/internal/awsconfig"
	"github.com/challengectl/challengectl/internal/iostreams"
	"github.com/challengectl/challengectl/internal/testtools"
)

// kumo keeps its state in package-level storage shared by every server in
// the process, so each test uses names of its own.
var nameSeq atomic.Int64

// uniqueName returns a bucket/table name unique within this test binary.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nameSeq.Add(1))
}

// kumoConfig starts kumo for this test and loads the AWS configuration the
// CLI would, pointed at it.
func kumoConfig(t *testing.T, region string) aws.Config {
	t.Helper()
	return endpointConfig(t, region, testtools.Kumo(t))
}

func endpointConfig(t testing.TB, region, endpoint string) aws.Config {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{
		Region: region, EndpointURL: endpoint, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Runs that take the AWS path against kumo validate DynamoDB's CRC32
	// header, which kumo gets wrong: the SDK would print a warning per call.
	cfg.Logger = logging.Nop{}
	return cfg
}

// recorder records the operation name of every SDK call made with a config.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("testRecordOperation",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				r.mu.Lock()
				r.ops = append(r.ops, awsmiddleware.GetOperationName(ctx))
				r.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...)
}

// writes returns the calls that change something.
func (r *recorder) writes() []string {
	var w []string
	for _, op := range r.all() {
		for _, p := range []string{"Put", "Create", "Update", "Delete", "Tag", "Untag"} {
			if strings.HasPrefix(op, p) {
				w = append(w, op)
				break
			}
		}
	}
	return w
}

func (r *recorder) count(op string) int {
	n := 0
	for _, o := range r.all() {
		if o == op {
			n++
		}
	}
	return n
}

// captured is one request as it left the SDK.
type captured struct {
	Op     string
	Body   string
	Header http.Header
}

// interceptor captures the requests of the named operations (after
// serialisation) and optionally answers them itself: a request-level check
// of what would reach AWS for settings the emulator does not implement.
type interceptor struct {
	mu       sync.Mutex
	reqs     []captured
	capture  map[string]bool
	answer   map[string]any // operation -> output returned without sending
	rewrite  func(op string, resp *smithyhttp.Response)
	override func(op string, out any) // edits a deserialized output
}

func (ic *interceptor) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		if err := st.Finalize.Add(middleware.FinalizeMiddlewareFunc("testCapture",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				if ic.capture[op] {
					req := in.Request.(*smithyhttp.Request)
					var body []byte
					if s := req.GetStream(); s != nil {
						body, _ = io.ReadAll(s)
						if err := req.RewindStream(); err != nil {
							req, _ = req.SetStream(bytes.NewReader(body))
							in.Request = req
						}
					}
					ic.mu.Lock()
					ic.reqs = append(ic.reqs, captured{Op: op, Body: string(body), Header: req.Header.Clone()})
					ic.mu.Unlock()
				}
				if out, ok := ic.answer[op]; ok {
					return middleware.FinalizeOutput{Result: out}, middleware.Metadata{}, nil
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After); err != nil {
			return err
		}
		if ic.override != nil {
			// Initialize wraps everything: it sees the deserialized output.
			if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("testOverride",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					if err == nil {
						ic.override(awsmiddleware.GetOperationName(ctx), out.Result)
					}
					return out, md, err
				}), middleware.Before); err != nil {
				return err
			}
		}
		if ic.rewrite == nil {
			return nil
		}
		// Added last in the Deserialize step, this runs between the
		// transport and the deserializer: it edits the raw response.
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("testRewrite",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && err == nil {
					ic.rewrite(awsmiddleware.GetOperationName(ctx), resp)
				}
				return out, md, err
			}), middleware.After)
	})
}

func (ic *interceptor) requests(op string) []captured {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	var out []captured
	for _, r := range ic.reqs {
		if r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// logBuffer is a logger whose output the test can read.
func logBuffer() (*slog.Logger, *iostreams.Buffer) {
	var buf iostreams.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func ddbClient(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
}

func findChange(rep *Report, resource, setting string) (Change, bool) {
	for _, c := range rep.Changes {
		if c.Resource == resource && c.Setting == setting {
			return c, true
		}
	}
	return Change{}, false
}

func mustChange(t *testing.T, rep *Report, resource, setting, action string) Change {
	t.Helper()
	c, ok := findChange(rep, resource, setting)
	if !ok {
		t.Fatalf("no change for %s %s in %+v", resource, setting, rep.Changes)
	}
	if c.Action != action {
		t.Fatalf("%s %s: action %q, want %q (%+v)", resource, setting, c.Action, action, c)
	}
	return c
}
