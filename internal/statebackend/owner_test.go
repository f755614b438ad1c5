package statebackend

// The bucket owner condition. kumo answers sts:GetCallerIdentity (account
// 000000000000) but ignores x-amz-expected-bucket-owner, so what AWS does
// with it is checked at the request level: every bucket call must carry the
// header, and a stub plays S3's 403 for a bucket owned by another account.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	kumoAccount    = "000000000000" // what kumo's STS answers
	foreignAccount = "999988887777"
)

// ownerHeaders records, for every S3 call made and every S3 request sent,
// the x-amz-expected-bucket-owner header.
type ownerHeaders struct {
	mu    sync.Mutex
	calls []string   // S3 operations as called (Initialize)
	sent  []captured // S3 requests as sent (Finalize)
}

func (h *ownerHeaders) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("testOwnerCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetServiceID(ctx) == "S3" {
					h.mu.Lock()
					h.calls = append(h.calls, awsmiddleware.GetOperationName(ctx))
					h.mu.Unlock()
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After); err != nil {
			return err
		}
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("testOwnerSent",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetServiceID(ctx) == "S3" {
					req := in.Request.(*smithyhttp.Request)
					h.mu.Lock()
					h.sent = append(h.sent, captured{Op: awsmiddleware.GetOperationName(ctx), Header: req.Header.Clone()})
					h.mu.Unlock()
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// stub answers, without sending it, every request answer returns a response
// for. It sits where the transport would, so the SDK deserializes the answer
// as it would one from AWS (errors, status codes and all).
func stub(cfg *aws.Config, answer func(ctx context.Context, req *smithyhttp.Request) *http.Response) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("testStub",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				if resp := answer(ctx, in.Request.(*smithyhttp.Request)); resp != nil {
					return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: resp}}, middleware.Metadata{}, nil
				}
				return next.HandleDeserialize(ctx, in)
			}), middleware.After)
	})
}

func response(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"X-Amz-Request-Id": {"stub"}}, Body: io.NopCloser(strings.NewReader(body))}
}

// s3AccessDenied is S3's answer to a request whose bucket owner condition
// fails; HEAD answers carry no body.
func s3AccessDenied(req *smithyhttp.Request) *http.Response {
	if req.Method == http.MethodHead {
		return response(403, "")
	}
	return response(403, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
}

// bucketOps are the calls on an existing bucket; each takes
// ExpectedBucketOwner. CreateBucket and ListBuckets do not.
var bucketOps = []string{
	"HeadBucket", "GetBucketLocation",
	"GetBucketOwnershipControls", "PutBucketOwnershipControls",
	"GetPublicAccessBlock", "PutPublicAccessBlock",
	"GetBucketVersioning", "PutBucketVersioning",
	"GetBucketEncryption", "PutBucketEncryption",
	"GetBucketPolicy", "PutBucketPolicy",
	"GetBucketTagging", "PutBucketTagging",
}

func TestExpectedBucketOwnerOnEveryBucketCall(t *testing.T) {
	const account = "111122223333"
	// The account comes from STS: the header must carry what STS answered.
	identity := &sts.GetCallerIdentityOutput{Account: aws.String(account), Arn: aws.String("arn:aws:iam::" + account + ":role/deployer")}
	ownership := &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}
	o := testOptions(uniqueName("owner"), uniqueName("locks"))
	// The AWS path: ownership controls are read and written too.
	o.Emulated = false
	tbl := &awsTable{sse: true}
	var h ownerHeaders
	// First run creates and writes every setting; the second only reads
	// (kumo sends no x-amz-bucket-region, so GetBucketLocation too).
	for run, answer := range []map[string]any{
		{"GetCallerIdentity": identity, "PutBucketOwnershipControls": &s3.PutBucketOwnershipControlsOutput{}},
		{"GetCallerIdentity": identity, "GetBucketOwnershipControls": ownership},
	} {
		// us-east-1: kumo reports that region for every bucket, and the AWS
		// path trusts it.
		cfg := kumoConfig(t, "us-east-1")
		h.attach(&cfg)
		(&interceptor{answer: answer, override: tbl.override}).attach(&cfg)
		before := len(h.calls)
		_, rec, err := ensure(t, cfg, o)
		if err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		if n := rec.count("GetCallerIdentity"); n != 1 {
			t.Errorf("run %d: GetCallerIdentity called %d times, want once", run+1, n)
		}
		if run == 1 && len(rec.writes()) != 0 {
			t.Errorf("healthy run wrote %v", rec.writes())
		}
		if len(h.calls) == before {
			t.Fatalf("run %d made no S3 call", run+1)
		}
	}

	withHeader, exempt := 0, 0
	got := map[string]bool{}
	for _, r := range h.sent {
		v := r.Header.Get("X-Amz-Expected-Bucket-Owner")
		switch r.Op {
		case "CreateBucket", "ListBuckets":
			exempt++
			if v != "" {
				t.Errorf("%s sent x-amz-expected-bucket-owner %q; it takes none", r.Op, v)
			}
			continue
		}
		got[r.Op] = true
		if v != account {
			t.Errorf("%s sent x-amz-expected-bucket-owner %q, want %s", r.Op, v, account)
			continue
		}
		withHeader++
	}
	// Counted against the calls made: none bypasses the check.
	if withHeader+exempt != len(h.calls) || len(h.sent) != len(h.calls) {
		t.Errorf("%d S3 calls made, %d requests sent, %d with the owner condition and %d CreateBucket/ListBuckets",
			len(h.calls), len(h.sent), withHeader, exempt)
	}
	for _, op := range bucketOps {
		if !got[op] {
			t.Errorf("%s was never called: the test no longer covers it (calls: %v)", op, h.calls)
		}
	}
}

// A role granted access to another account's bucket of the same name: S3
// would answer every call without the condition, so only the condition
// keeps bootstrap from "repairing" that bucket.
func TestForeignOwnedBucketIsNeverTouched(t *testing.T) {
	for _, tc := range []struct {
		name     string
		emulated bool
		list     func() *http.Response // ListBuckets: our own bucket list
		owned    bool                  // OwnedByOther expected
		want     []string
	}{
		{"list denied", false, func() *http.Response {
			return response(403, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		}, false, []string{"access is denied (403)", "bucket owner condition", "your account " + kumoAccount,
			"belongs to another AWS account", "permissions", "aws sts get-caller-identity", "--bucket"}},
		{"not in our list", false, func() *http.Response {
			return response(200, `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>`)
		}, true, []string{"owned by another AWS account", "choose another --bucket name"}},
		{"emulated", true, func() *http.Response {
			return response(200, `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>`)
		}, true, []string{"owned by another AWS account"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The other account's bucket: unhardened, and readable by us.
			base := kumoConfig(t, "us-east-1")
			o := testOptions(uniqueName("theirs"), uniqueName("locks"))
			o.Emulated = tc.emulated
			_, err := s3Client(base).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &o.Bucket})
			must(t, err)

			cfg := kumoConfig(t, "us-east-1")
			refused := 0
			stub(&cfg, func(ctx context.Context, req *smithyhttp.Request) *http.Response {
				if awsmiddleware.GetServiceID(ctx) != "S3" {
					return nil
				}
				if awsmiddleware.GetOperationName(ctx) == "ListBuckets" {
					return tc.list()
				}
				// S3 checks the condition on every call; without it the
				// call goes through, as the owner granted us access.
				if v := req.Header.Get("X-Amz-Expected-Bucket-Owner"); v != "" && v != foreignAccount {
					refused++
					return s3AccessDenied(req)
				}
				return nil
			})
			_, rec, err := ensure(t, cfg, o)
			var ae *BucketAccessError
			if !errors.As(err, &ae) || ae.OwnedByOther != tc.owned || ae.ExpectedOwner != kumoAccount {
				t.Fatalf("err = %v (%#v), want a BucketAccessError for account %s, owned by another: %v", err, ae, kumoAccount, tc.owned)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if refused != 1 {
				t.Errorf("the owner condition refused %d requests, want the HeadBucket", refused)
			}
			if w := rec.writes(); len(w) != 0 {
				t.Errorf("wrote to another account's bucket: %v", w)
			}
			for _, op := range rec.all() {
				if !slices.Contains([]string{"GetCallerIdentity", "HeadBucket", "ListBuckets"}, op) {
					t.Errorf("%s called on another account's bucket (calls %v)", op, rec.all())
				}
			}
			// Nothing changed on their bucket.
			v, err := s3Client(base).GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: &o.Bucket})
			if err != nil || v.Status != "" {
				t.Errorf("their bucket's versioning = %q, %v; want never enabled", v.Status, err)
			}
		})
	}
}

// An emulator without STS: on --endpoint-url only, the condition is skipped
// with a visible warning; against AWS it is an error before any other call.
func TestEmulatorWithoutSTS(t *testing.T) {
	answers := map[string]func() *http.Response{
		"error status": func() *http.Response {
			return response(400, `<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>The action GetCallerIdentity is not valid for this web service.</Message></Error></ErrorResponse>`)
		},
		"not STS": func() *http.Response { return response(200, `<html><body>emulator dashboard</body></html>`) },
	}
	for name, answer := range answers {
		stsLess := func(cfg *aws.Config) {
			stub(cfg, func(ctx context.Context, _ *smithyhttp.Request) *http.Response {
				if awsmiddleware.GetOperationName(ctx) == "GetCallerIdentity" {
					return answer()
				}
				return nil
			})
		}
		t.Run(name+"/emulated", func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			stsLess(&cfg)
			var h ownerHeaders
			h.attach(&cfg)
			o := testOptions(uniqueName("nosts"), uniqueName("locks"))
			log, logs := logBuffer()
			o.Logger = log
			rep, _, err := ensure(t, cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			c := mustChange(t, rep, "bucket", SettingOwner, ActionSkipped)
			if !strings.Contains(c.Note, "does not implement sts:GetCallerIdentity") || !strings.Contains(c.Note, "on AWS the bucket owner is always checked") {
				t.Errorf("note = %q", c.Note)
			}
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "bucket owner not checked") {
				t.Errorf("no warning:\n%s", logs.String())
			}
			for _, r := range h.sent {
				if _, ok := r.Header["X-Amz-Expected-Bucket-Owner"]; ok {
					t.Errorf("%s sent x-amz-expected-bucket-owner %q without a known account", r.Op, r.Header.Get("X-Amz-Expected-Bucket-Owner"))
				}
			}
			// The skip does not break idempotence.
			_, rec, err := ensure(t, cfg, o)
			if err != nil || len(rec.writes()) != 0 {
				t.Errorf("second run: %v, writes %v", err, rec.writes())
			}
		})
		t.Run(name+"/aws", func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			stsLess(&cfg)
			o := testOptions(uniqueName("nosts"), uniqueName("locks"))
			o.Emulated = false
			_, rec, err := ensure(t, cfg, o)
			if err == nil || !strings.Contains(err.Error(), "sts:GetCallerIdentity") || !strings.Contains(err.Error(), "nothing was created") {
				t.Fatalf("err = %v, want a failure naming sts:GetCallerIdentity", err)
			}
			if ops := rec.all(); len(ops) != 1 || ops[0] != "GetCallerIdentity" {
				t.Errorf("calls after the account lookup failed: %v", ops)
			}
			assertNothingCreated(t, kumoConfig(t, "us-east-1"), o.Bucket, o.Table)
		})
	}
}

// Without usable credentials, or with credentials STS refuses, the run stops
// before any bucket or table call, emulator or not.
func TestCallerIdentityFailsEarly(t *testing.T) {
	for _, emulated := range []bool{false, true} {
		name := "aws"
		if emulated {
			name = "emulated"
		}
		t.Run("no credentials/"+name, func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			cfg.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{}, errors.New("no EC2 IMDS role found")
			}))
			o := testOptions(uniqueName("nocreds"), uniqueName("locks"))
			o.Emulated = emulated
			_, rec, err := ensure(t, cfg, o)
			if err == nil || !strings.Contains(err.Error(), "cannot load AWS credentials") || !strings.Contains(err.Error(), "AWS_PROFILE") ||
				!strings.Contains(err.Error(), "no EC2 IMDS role found") {
				t.Fatalf("err = %v, want one about credentials", err)
			}
			if ops := rec.all(); len(ops) != 0 {
				t.Errorf("calls without credentials: %v", ops)
			}
			assertNothingCreated(t, kumoConfig(t, "us-east-1"), o.Bucket, o.Table)
		})
		t.Run("expired token/"+name, func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			stub(&cfg, func(ctx context.Context, _ *smithyhttp.Request) *http.Response {
				if awsmiddleware.GetOperationName(ctx) == "GetCallerIdentity" {
					return response(403, `<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error></ErrorResponse>`)
				}
				return nil
			})
			o := testOptions(uniqueName("expired"), uniqueName("locks"))
			o.Emulated = emulated
			_, rec, err := ensure(t, cfg, o)
			if err == nil || !strings.Contains(err.Error(), "sts:GetCallerIdentity") || !strings.Contains(err.Error(), "ExpiredToken") ||
				!strings.Contains(err.Error(), "not expired") {
				t.Fatalf("err = %v, want one naming the account lookup and the expired token", err)
			}
			if ops := rec.all(); len(ops) != 1 || ops[0] != "GetCallerIdentity" {
				t.Errorf("calls after STS refused the credentials: %v", ops)
			}
			assertNothingCreated(t, kumoConfig(t, "us-east-1"), o.Bucket, o.Table)
		})
	}
}
