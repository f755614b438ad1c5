package statebackend

// AWS answers kumo does not give, reproduced at the request level: table
// statuses a wait does not end, a 301 for another account's bucket in
// another region, and S3's OperationAborted. (The key ARN DynamoDB reports
// for a table encrypted through an alias: kms_test.go.)

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// shortRetries makes the S3 retry bound fast for one test.
func shortRetries(t *testing.T, attempts int) {
	t.Helper()
	old := [3]any{createRetryAttempts, createRetryBase, createRetryMax}
	createRetryAttempts, createRetryBase, createRetryMax = attempts, 1, 1
	t.Cleanup(func() {
		createRetryAttempts, createRetryBase, createRetryMax = old[0].(int), old[1].(time.Duration), old[2].(time.Duration)
	})
}

// The SDK's TableExists waiter retries on every status but ACTIVE; these
// statuses do not end by themselves (DynamoDB API reference,
// TableDescription.TableStatus), so the run must fail at once instead of
// after the three-minute bound.
func TestTableStuckStatusFailsFast(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   ddbtypes.TableStatus
		existing bool
		want     string
	}{
		{"existing table archived", ddbtypes.TableStatusArchived, true, "archived it"},
		{"existing table key inaccessible", ddbtypes.TableStatusInaccessibleEncryptionCredentials, true, "cannot use its KMS key"},
		{"created table key inaccessible", ddbtypes.TableStatusInaccessibleEncryptionCredentials, false, "cannot use its KMS key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			o := testOptions(uniqueName("stuck"), uniqueName("locks"))
			if tc.existing {
				if _, _, err := ensure(t, cfg, o); err != nil {
					t.Fatal(err)
				}
				cfg = kumoConfig(t, "us-east-1")
			}
			(&interceptor{override: func(op string, out any) {
				if d, ok := out.(*dynamodb.DescribeTableOutput); ok {
					d.Table.TableStatus = tc.status
				}
			}}).attach(&cfg)
			o.Logger, _ = logBuffer()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err := Ensure(ctx, cfg, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), string(tc.status)) {
				t.Fatalf("err = %v, want one naming %s and explaining %q", err, tc.status, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("gave up after %s", d)
			}
		})
	}
}

// S3 answers 301 with x-amz-bucket-region for any bucket in another region,
// whoever owns it (minio/warp#224; aws/aws-sdk-java-v2#1983): "run with
// --region" is wrong advice for another account's bucket.
func TestForeignBucketInAnotherRegion(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	(&interceptor{rewrite: func(op string, r *smithyhttp.Response) {
		if op == "HeadBucket" {
			r.StatusCode = 301
			r.Header.Set("X-Amz-Bucket-Region", "eu-central-1")
		}
	}}).attach(&cfg)
	// Never created here: not in this account's bucket list.
	o := testOptions(uniqueName("foreign"), uniqueName("locks"))
	_, rec, err := ensure(t, cfg, o)
	var ae *BucketAccessError
	if !errors.As(err, &ae) || !ae.OwnedByOther || !strings.Contains(err.Error(), "owned by another AWS account") {
		t.Fatalf("err = %v, want a BucketAccessError owned by another account", err)
	}
	var re *BucketRegionError
	if errors.As(err, &re) {
		t.Errorf("another account's bucket reported as ours in another region: %v", err)
	}
	if w := rec.writes(); len(w) != 0 {
		t.Errorf("writes: %v", w)
	}
}

// S3 answers OperationAborted (409) with "try again" to CreateBucket while
// the name is still being deleted or created, and to conflicting
// configuration writes (aws/aws-sdk-pandas#813; Terraform's AWS provider
// retries it: hashicorp/terraform-provider-aws#12949). The SDK's retryer
// does not.
func TestOperationAbortedIsRetried(t *testing.T) {
	shortRetries(t, 4)
	aborted := func(ops map[string]int) (*interceptor, map[string]int) {
		n := map[string]int{}
		ic := &interceptor{}
		ic.rewrite = func(op string, r *smithyhttp.Response) {
			if limit, ok := ops[op]; ok && n[op] < limit {
				n[op]++
				r.StatusCode = 409
				r.Body = io.NopCloser(strings.NewReader(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>OperationAborted</Code><Message>A conflicting conditional operation is currently in progress against this resource. Please try again.</Message></Error>`))
			}
		}
		return ic, n
	}
	t.Run("recovers", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		ic, n := aborted(map[string]int{"CreateBucket": 1, "PutBucketVersioning": 2})
		ic.attach(&cfg)
		_, rec, err := ensure(t, cfg, testOptions(uniqueName("aborted"), uniqueName("locks")))
		if err != nil {
			t.Fatal(err)
		}
		if n["CreateBucket"] != 1 || rec.count("CreateBucket") != 2 || n["PutBucketVersioning"] != 2 || rec.count("PutBucketVersioning") != 3 {
			t.Errorf("failures %v, CreateBucket calls %d, PutBucketVersioning calls %d", n, rec.count("CreateBucket"), rec.count("PutBucketVersioning"))
		}
	})
	t.Run("bounded", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		ic, _ := aborted(map[string]int{"CreateBucket": 1000})
		ic.attach(&cfg)
		_, rec, err := ensure(t, cfg, testOptions(uniqueName("aborted"), uniqueName("locks")))
		if !hasCode(err, "OperationAborted") || !strings.Contains(err.Error(), "try again in a few minutes") {
			t.Fatalf("err = %v, want OperationAborted after the bound, with advice", err)
		}
		if got := rec.count("CreateBucket"); got != createRetryAttempts {
			t.Errorf("CreateBucket calls = %d, want the bound %d", got, createRetryAttempts)
		}
	})
}

// NoSuchBucket after CreateBucket is retried for as long as Terraform's AWS
// provider waits for the same error (hashicorp/terraform-provider-aws,
// internal/service/s3: s3BucketPropagationTimeout = 2 * time.Minute;
// hashicorp/terraform-provider-aws#7803), and no longer.
func TestCreateRetryBudget(t *testing.T) {
	var total time.Duration
	delay := createRetryBase
	for attempt := 1; attempt < createRetryAttempts; attempt++ {
		total += delay
		delay = min(delay*2, createRetryMax)
	}
	if total < 2*time.Minute || total > 3*time.Minute {
		t.Errorf("retries wait %s in all, want about two minutes", total)
	}
}

// Bucket ARNs use the region's partition, by the SDK's partition table.
func TestBucketARNPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":       "arn:aws:s3:::b",
		"cn-north-1":      "arn:aws-cn:s3:::b",
		"us-gov-west-1":   "arn:aws-us-gov:s3:::b",
		"us-iso-east-1":   "arn:aws-iso:s3:::b",
		"us-isob-east-1":  "arn:aws-iso-b:s3:::b",
		"eu-isoe-west-1":  "arn:aws-iso-e:s3:::b",
		"us-isof-south-1": "arn:aws-iso-f:s3:::b",
	} {
		if got := bucketARN(region, "b"); got != want {
			t.Errorf("bucketARN(%s) = %s, want %s", region, got, want)
		}
	}
}
