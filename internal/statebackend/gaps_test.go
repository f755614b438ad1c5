package statebackend

// Request-level tests: for settings kumo does not implement, and for AWS
// answers kumo cannot produce (another region, 403, NoSuchBucket right after
// create), SDK middleware captures what is sent to AWS and, where needed,
// edits kumo's answer into the one AWS gives.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/challengectl/challengectl/internal/clierr"
)

// awsTable makes DescribeTable report what AWS reports for the updates that
// kumo accepts but ignores: SSE (kumo never reports it), and, once sent,
// billing mode and deletion protection.
type awsTable struct {
	mu         sync.Mutex
	sse        bool
	sseKey     string
	billing    ddbtypes.BillingMode
	protection *bool
	// keys resolves the KMSMasterKeyId of an UpdateTable (alias, key ID)
	// to the key ARN DynamoDB then reports, as DynamoDB does.
	keys map[string]string
}

func (a *awsTable) override(op string, out any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch o := out.(type) {
	case *dynamodb.DescribeTableOutput:
		if a.sse {
			o.Table.SSEDescription = &ddbtypes.SSEDescription{Status: ddbtypes.SSEStatusEnabled, SSEType: ddbtypes.SSETypeKms, KMSMasterKeyArn: aws.String(a.sseKey)}
		}
		if a.billing != "" {
			o.Table.BillingModeSummary = &ddbtypes.BillingModeSummary{BillingMode: a.billing}
		}
		if a.protection != nil {
			o.Table.DeletionProtectionEnabled = a.protection
		}
	}
}

// apply records an UpdateTable as AWS would apply it.
func (a *awsTable) apply(body string) {
	var in struct {
		BillingMode               string
		DeletionProtectionEnabled *bool
		SSESpecification          *struct {
			Enabled        bool
			KMSMasterKeyId string
		}
	}
	_ = json.Unmarshal([]byte(body), &in)
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.BillingMode != "" {
		a.billing = ddbtypes.BillingMode(in.BillingMode)
	}
	if in.DeletionProtectionEnabled != nil {
		a.protection = in.DeletionProtectionEnabled
	}
	if in.SSESpecification != nil && in.SSESpecification.Enabled {
		a.sse = true
		if arn, ok := a.keys[in.SSESpecification.KMSMasterKeyId]; ok {
			a.sseKey = arn
		}
	}
}

func TestOwnershipIsEnforcedOnAWS(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	tbl := &awsTable{sse: true}
	ic := &interceptor{
		capture: map[string]bool{"PutBucketOwnershipControls": true, "CreateBucket": true, "CreateTable": true},
		// kumo refuses this PUT; AWS answers 200 with an empty body.
		answer:   map[string]any{"PutBucketOwnershipControls": &s3.PutBucketOwnershipControlsOutput{}},
		override: tbl.override,
	}
	ic.attach(&cfg)
	o := testOptions(uniqueName("own"), uniqueName("locks"))
	o.Emulated = false
	log, logs := logBuffer()
	o.Logger = log
	rep, _, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	mustChange(t, rep, "bucket", SettingOwnership, ActionCreated)
	puts := ic.requests("PutBucketOwnershipControls")
	if len(puts) != 1 || !strings.Contains(puts[0].Body, "<ObjectOwnership>BucketOwnerEnforced</ObjectOwnership>") {
		t.Fatalf("PutBucketOwnershipControls requests = %+v", puts)
	}
	if h := ic.requests("CreateBucket")[0].Header.Get("X-Amz-Object-Ownership"); h != "BucketOwnerEnforced" {
		t.Errorf("CreateBucket x-amz-object-ownership = %q", h)
	}
	ct := ic.requests("CreateTable")[0].Body
	for _, want := range []string{`"BillingMode":"PAY_PER_REQUEST"`, `"DeletionProtectionEnabled":true`, `"SSESpecification":{"Enabled":true,"SSEType":"KMS"}`, `"AttributeName":"LockID","KeyType":"HASH"`} {
		if !strings.Contains(ct, want) {
			t.Errorf("CreateTable body lacks %s: %s", want, ct)
		}
	}
	// Against AWS nothing is ever skipped.
	if s := rep.Skipped(); len(s) != 0 {
		t.Errorf("skipped against AWS: %+v", s)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("warnings against AWS: %s", logs.String())
	}

	// With AWS reporting the setting, the next run only reads it.
	cfg2 := kumoConfig(t, "us-east-1")
	(&interceptor{answer: map[string]any{"GetBucketOwnershipControls": &s3.GetBucketOwnershipControlsOutput{
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}},
	}}, override: tbl.override}).attach(&cfg2)
	rep, rec, err := ensure(t, cfg2, o)
	if err != nil {
		t.Fatal(err)
	}
	mustChange(t, rep, "bucket", SettingOwnership, ActionVerified)
	mustChange(t, rep, "table", SettingEncryption, ActionVerified)
	if w := rec.writes(); len(w) != 0 {
		t.Errorf("second run against AWS wrote %v", w)
	}
}

func TestEmulatorGapsAreVisibleSkips(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	ic := &interceptor{capture: map[string]bool{"PutBucketOwnershipControls": true}}
	ic.attach(&cfg)
	o := testOptions(uniqueName("gap"), uniqueName("locks"))
	log, logs := logBuffer()
	o.Logger = log
	rep, _, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ic.requests("PutBucketOwnershipControls")); n != 0 {
		t.Errorf("PutBucketOwnershipControls sent %d times to an emulator that refuses it", n)
	}
	skipped := rep.Skipped()
	if len(skipped) != 2 {
		t.Fatalf("skipped = %+v, want ownership and table encryption", skipped)
	}
	for _, c := range skipped {
		if !strings.Contains(logs.String(), c.Resource+" "+c.Setting+" not checked") {
			t.Errorf("no warning logged for skipped %s %s:\n%s", c.Resource, c.Setting, logs.String())
		}
	}
}

func TestTableEncryptionRepairedOnAWS(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	o := testOptions(uniqueName("sse"), uniqueName("locks"))
	if _, _, err := ensure(t, cfg, o); err != nil {
		t.Fatal(err)
	}
	// AWS reports no SSEDescription for a table on an AWS-owned key.
	tbl := &awsTable{}
	cfg2 := kumoConfig(t, "us-east-1")
	ic := &interceptor{
		capture:  map[string]bool{"UpdateTable": true},
		override: tbl.override,
		answer: map[string]any{"GetBucketOwnershipControls": &s3.GetBucketOwnershipControlsOutput{
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}},
	}
	ic.rewrite = func(op string, _ *smithyhttp.Response) {
		if op == "UpdateTable" {
			reqs := ic.requests("UpdateTable")
			tbl.apply(reqs[len(reqs)-1].Body)
		}
	}
	ic.attach(&cfg2)
	o.Emulated = false
	rep, _, err := ensure(t, cfg2, o)
	if err != nil {
		t.Fatal(err)
	}
	c := mustChange(t, rep, "table", SettingEncryption, ActionRepaired)
	if c.Found != "not reported" {
		t.Errorf("found = %q", c.Found)
	}
	ups := ic.requests("UpdateTable")
	if len(ups) != 1 || !strings.Contains(ups[0].Body, `"SSESpecification":{"Enabled":true,"SSEType":"KMS"}`) {
		t.Fatalf("UpdateTable requests = %+v", ups)
	}
}

func TestTableDriftRepair(t *testing.T) {
	ctx := context.Background()
	for _, emulated := range []bool{true, false} {
		name := "aws"
		if emulated {
			name = "emulated"
		}
		t.Run(name, func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			o := testOptions(uniqueName("tdrift"), uniqueName("locks"))
			o.Emulated = emulated
			// A hand-made lock table: provisioned, unprotected, untagged.
			_, err := ddbClient(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:             &o.Table,
				AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
				ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
				Tags:                  []ddbtypes.Tag{{Key: aws.String("team"), Value: aws.String("infra")}},
			})
			must(t, err)
			tbl := &awsTable{sse: !emulated}
			ic := &interceptor{capture: map[string]bool{"UpdateTable": true}}
			if !emulated {
				ic.override = tbl.override
				ic.answer = map[string]any{"PutBucketOwnershipControls": &s3.PutBucketOwnershipControlsOutput{}}
				ic.rewrite = func(op string, _ *smithyhttp.Response) {
					if op == "UpdateTable" {
						reqs := ic.requests("UpdateTable")
						tbl.apply(reqs[len(reqs)-1].Body)
					}
				}
			}
			ic.attach(&cfg)
			rep, _, err := ensure(t, cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			ups := ic.requests("UpdateTable")
			if len(ups) != 2 || !strings.Contains(ups[0].Body, `"BillingMode":"PAY_PER_REQUEST"`) || !strings.Contains(ups[1].Body, `"DeletionProtectionEnabled":true`) {
				t.Fatalf("UpdateTable requests = %+v", ups)
			}
			want := ActionRepaired
			if emulated {
				// kumo applies only TableClass in UpdateTable.
				want = ActionSkipped
			}
			for _, s := range []string{SettingBilling, SettingDeletionProtection} {
				c := mustChange(t, rep, "table", s, want)
				if emulated && !strings.Contains(c.Note, "did not apply") {
					t.Errorf("%s note = %q", s, c.Note)
				}
			}
			mustChange(t, rep, "table", SettingTags, ActionRepaired)
			desc, err := ddbClient(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &o.Table})
			must(t, err)
			tags, err := ddbClient(cfg).ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: desc.Table.TableArn})
			must(t, err)
			m := map[string]string{}
			for _, tg := range tags.Tags {
				m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if m["team"] != "infra" || m["managed-by"] != "challengectl" || m["app"] != "challenge-api" {
				t.Errorf("table tags = %v", m)
			}
		})
	}
}

func TestBucketInAnotherRegion(t *testing.T) {
	for _, status := range []int{301, 200} {
		t.Run(regionCase(status), func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			o := testOptions(uniqueName("region"), uniqueName("locks"))
			if _, _, err := ensure(t, cfg, o); err != nil {
				t.Fatal(err)
			}
			cfg2 := kumoConfig(t, "us-east-1")
			(&interceptor{rewrite: func(op string, r *smithyhttp.Response) {
				if op == "HeadBucket" {
					r.StatusCode = status
					r.Header.Set("X-Amz-Bucket-Region", "eu-central-1")
				}
			}}).attach(&cfg2)
			for _, emulated := range []bool{true, false} {
				o.Emulated = emulated
				_, rec, err := ensure(t, cfg2, o)
				var re *BucketRegionError
				if !errors.As(err, &re) || re.Region != "eu-central-1" || !strings.Contains(err.Error(), "--region eu-central-1") {
					t.Fatalf("emulated=%v: err = %v, want a BucketRegionError naming eu-central-1", emulated, err)
				}
				if len(rec.writes()) != 0 {
					t.Errorf("writes on a bucket in another region: %v", rec.writes())
				}
			}
		})
	}
}

func regionCase(code int) string {
	return map[int]string{301: "redirect", 200: "header"}[code]
}

func TestBucketForbidden(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	mine := testOptions(uniqueName("mine"), uniqueName("locks"))
	if _, _, err := ensure(t, cfg, mine); err != nil {
		t.Fatal(err)
	}
	theirs := testOptions(uniqueName("theirs"), uniqueName("locks"))
	cfg2 := kumoConfig(t, "us-east-1")
	(&interceptor{rewrite: func(op string, r *smithyhttp.Response) {
		if op == "HeadBucket" {
			r.StatusCode = 403
		}
	}}).attach(&cfg2)

	_, rec, err := ensure(t, cfg2, mine)
	var ae *BucketAccessError
	if !errors.As(err, &ae) || ae.OwnedByOther {
		t.Fatalf("own bucket, 403: err = %v, want a BucketAccessError not owned by another", err)
	}
	for _, want := range []string{"access is denied (403)", "permissions", "bucket name", "account"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if clierr.ExitCode(err, false) != clierr.ExitFailure || len(rec.writes()) != 0 {
		t.Errorf("exit %d, writes %v", clierr.ExitCode(err, false), rec.writes())
	}

	_, rec, err = ensure(t, cfg2, theirs)
	if !errors.As(err, &ae) || !ae.OwnedByOther || !strings.Contains(err.Error(), "owned by another AWS account") {
		t.Fatalf("foreign bucket, 403: err = %v, want owned by another account", err)
	}
	if len(rec.writes()) != 0 {
		t.Errorf("writes: %v", rec.writes())
	}
}

func TestNoSuchBucketRightAfterCreateIsRetried(t *testing.T) {
	old := [3]any{createRetryAttempts, createRetryBase, createRetryMax}
	createRetryAttempts, createRetryBase, createRetryMax = 4, 1, 1
	t.Cleanup(func() {
		createRetryAttempts, createRetryBase, createRetryMax = old[0].(int), old[1].(time.Duration), old[2].(time.Duration)
	})
	noSuchBucket := func(failures int) (*interceptor, *int) {
		n := 0
		ic := &interceptor{}
		ic.rewrite = func(op string, r *smithyhttp.Response) {
			if op == "GetBucketVersioning" && n < failures {
				n++
				r.StatusCode = 404
				r.Body = io.NopCloser(strings.NewReader(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>`))
			}
		}
		return ic, &n
	}
	t.Run("recovers", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		ic, n := noSuchBucket(2)
		ic.attach(&cfg)
		rep, rec, err := ensure(t, cfg, testOptions(uniqueName("retry"), uniqueName("locks")))
		if err != nil {
			t.Fatal(err)
		}
		mustChange(t, rep, "bucket", SettingVersioning, ActionCreated)
		if *n != 2 || rec.count("GetBucketVersioning") != 3 {
			t.Errorf("failures %d, calls %d; want 2 and 3", *n, rec.count("GetBucketVersioning"))
		}
	})
	t.Run("bounded", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		ic, _ := noSuchBucket(1000)
		ic.attach(&cfg)
		_, rec, err := ensure(t, cfg, testOptions(uniqueName("retry"), uniqueName("locks")))
		if !hasCode(err, "NoSuchBucket") {
			t.Fatalf("err = %v, want NoSuchBucket after the bound", err)
		}
		if got := rec.count("GetBucketVersioning"); got != createRetryAttempts {
			t.Errorf("GetBucketVersioning calls = %d, want the bound %d", got, createRetryAttempts)
		}
	})
}

// SSE-S3 on an existing bucket is drift once a key is asked for.
func TestKMSEncryption(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	o := testOptions(uniqueName("kms"), uniqueName("locks"))
	if _, _, err := ensure(t, cfg, o); err != nil {
		t.Fatal(err)
	}
	o.KMSKeyID = createKey(t, cfg, "", "").arn
	o.DryRun = true
	rep, rec, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if c := mustChange(t, rep, "bucket", SettingEncryption, ActionWouldRepair); c.Found != "AES256" || c.Wanted != "aws:kms key "+o.KMSKeyID+" with bucket key" {
		t.Errorf("found = %q, wanted = %q", c.Found, c.Wanted)
	}
	if w := rec.writes(); len(w) != 0 {
		t.Errorf("dry run wrote %v", w)
	}
}

func TestSameKMSKey(t *testing.T) {
	arn := "arn:aws:kms:us-east-1:111122223333:key/1234abcd"
	for _, c := range []struct {
		a, b string
		want bool
	}{{arn, "1234abcd", true}, {"1234abcd", arn, true}, {arn, arn, true}, {"arn:aws:kms:us-east-1:1:alias/x", "alias/x", true}, {arn, "other", false}} {
		if got := sameKMSKey(c.a, c.b); got != c.want {
			t.Errorf("sameKMSKey(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
