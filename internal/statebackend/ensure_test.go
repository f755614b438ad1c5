package statebackend

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/challengectl/challengectl/internal/clierr"
)

func testOptions(bucket, table string) Options {
	return Options{Bucket: bucket, Table: table, App: "challenge-api", Key: "challenge-api/prod/terraform.tfstate", Emulated: true}
}

// ensure runs Ensure with a fresh recorder and returns both.
func ensure(t *testing.T, cfg aws.Config, o Options) (*Report, *recorder, error) {
	t.Helper()
	var rec recorder
	rec.attach(&cfg)
	if o.Logger == nil {
		o.Logger, _ = logBuffer()
	}
	rep, err := Ensure(context.Background(), cfg, o)
	return rep, &rec, err
}

// assertHardened reads every setting back through the SDK.
func assertHardened(t *testing.T, cfg aws.Config, bucket, table string) {
	t.Helper()
	ctx := context.Background()
	s := s3Client(cfg)
	v, err := s.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning = %v, %v; want Enabled", v, err)
	}
	pab, err := s.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &bucket})
	if err != nil {
		t.Errorf("public access block: %v", err)
	} else if c := pab.PublicAccessBlockConfiguration; !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("public access block = %+v; want all four on", c)
	}
	enc, err := s.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
	if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) == 0 ||
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		t.Errorf("encryption = %v, %v", enc, err)
	}
	pol, err := s.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
	if err != nil {
		t.Errorf("policy: %v", err)
	} else if n := countTLSDeny(t, aws.ToString(pol.Policy), bucket); n != 1 {
		t.Errorf("policy has %d TLS-only deny statements, want 1: %s", n, aws.ToString(pol.Policy))
	}
	tags, err := s.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	if err != nil {
		t.Errorf("bucket tags: %v", err)
	} else if m := s3Tags(tags.TagSet); m["managed-by"] != "challengectl" || m["app"] == "" {
		t.Errorf("bucket tags = %v", m)
	}

	d := ddbClient(cfg)
	desc, err := d.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatalf("describe table: %v", err)
	}
	tb := desc.Table
	if describeSchema(tb) != "LockID (S, HASH)" || tb.TableStatus != ddbtypes.TableStatusActive {
		t.Errorf("table schema %s status %s", describeSchema(tb), tb.TableStatus)
	}
	if tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing = %+v, want PAY_PER_REQUEST", tb.BillingModeSummary)
	}
	if !aws.ToBool(tb.DeletionProtectionEnabled) {
		t.Error("deletion protection is off")
	}
	tt, err := d.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: tb.TableArn})
	if err != nil {
		t.Fatalf("table tags: %v", err)
	}
	m := map[string]string{}
	for _, tg := range tt.Tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if m["managed-by"] != "challengectl" || m["app"] == "" {
		t.Errorf("table tags = %v", m)
	}
}

func s3Tags(ts []s3types.Tag) map[string]string {
	m := map[string]string{}
	for _, tg := range ts {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func countTLSDeny(t *testing.T, doc, bucket string) int {
	t.Helper()
	var p struct{ Statement []json.RawMessage }
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %s: %v", doc, err)
	}
	n := 0
	for _, raw := range p.Statement {
		var s statement
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		if isTLSDeny(s, "arn:aws:s3:::"+bucket) {
			n++
		}
	}
	return n
}

func TestEnsureCreatesFreshBackend(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		t.Run(region, func(t *testing.T) {
			cfg := kumoConfig(t, region)
			bucket, table := uniqueName("fresh-"+region), uniqueName("locks")
			// kumo ignores LocationConstraint: check it at the request level.
			ic := &interceptor{capture: map[string]bool{"CreateBucket": true}}
			ic.attach(&cfg)
			rep, rec, err := ensure(t, cfg, testOptions(bucket, table))
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Created || !rep.Changed || rep.Region != region {
				t.Errorf("report = %+v", rep)
			}
			mustChange(t, rep, "bucket", SettingBucket, ActionCreated)
			mustChange(t, rep, "table", SettingTable, ActionCreated)
			for _, s := range []string{SettingPublicAccessBlock, SettingVersioning, SettingEncryption, SettingTLSPolicy, SettingTags} {
				mustChange(t, rep, "bucket", s, ActionCreated)
			}
			// The emulator's gaps are visible skips, not silent passes.
			if c := mustChange(t, rep, "bucket", SettingOwnership, ActionSkipped); !strings.Contains(c.Note, "emulator") {
				t.Errorf("ownership skip note = %q", c.Note)
			}
			mustChange(t, rep, "table", SettingEncryption, ActionSkipped)
			assertHardened(t, cfg, bucket, table)

			reqs := ic.requests("CreateBucket")
			if len(reqs) != 1 {
				t.Fatalf("CreateBucket sent %d times", len(reqs))
			}
			hasLC := strings.Contains(reqs[0].Body, "<LocationConstraint>"+region+"</LocationConstraint>")
			if region == "us-east-1" && strings.Contains(reqs[0].Body, "LocationConstraint") {
				t.Errorf("us-east-1 must not send a LocationConstraint: %s", reqs[0].Body)
			}
			if region != "us-east-1" && !hasLC {
				t.Errorf("CreateBucket body lacks LocationConstraint %s: %s", region, reqs[0].Body)
			}
			if rec.count("CreateTable") != 1 {
				t.Errorf("CreateTable calls = %d", rec.count("CreateTable"))
			}
			if b := rep.Backend; b.Bucket != bucket || b.DynamoDBTable != table || b.Region != region || !b.Encrypt {
				t.Errorf("backend = %+v", b)
			}
		})
	}
}

func TestEnsureSecondRunMakesNoWrite(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		t.Run(region, func(t *testing.T) {
			cfg := kumoConfig(t, region)
			o := testOptions(uniqueName("idem"), uniqueName("locks"))
			if _, _, err := ensure(t, cfg, o); err != nil {
				t.Fatal(err)
			}
			rep, rec, err := ensure(t, cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			if w := rec.writes(); len(w) != 0 {
				t.Fatalf("second run made write calls %v (all calls %v)", w, rec.all())
			}
			if len(rec.all()) == 0 {
				t.Fatal("second run made no call at all: nothing was verified")
			}
			if rep.Changed || rep.Created || rep.Drift {
				t.Errorf("report = %+v", rep)
			}
			for _, c := range rep.Changes {
				if c.Action != ActionVerified && c.Action != ActionSkipped {
					t.Errorf("second run: %+v", c)
				}
			}
			for _, s := range []string{SettingBucket, SettingPublicAccessBlock, SettingVersioning, SettingEncryption, SettingTLSPolicy, SettingTags} {
				mustChange(t, rep, "bucket", s, ActionVerified)
			}
			for _, s := range []string{SettingTable, SettingKeySchema, SettingBilling, SettingDeletionProtection, SettingTags} {
				mustChange(t, rep, "table", s, ActionVerified)
			}
		})
	}
}

func TestEnsureRepairsBucketDrift(t *testing.T) {
	ctx := context.Background()
	foreignPolicy := func(bucket string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"AllowAuditRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/audit"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
	}
	cases := []struct {
		name    string
		setting string
		drift   func(t *testing.T, s *s3.Client, bucket string)
		check   func(t *testing.T, s *s3.Client, bucket string)
	}{
		{"versioning suspended", SettingVersioning, func(t *testing.T, s *s3.Client, bucket string) {
			_, err := s.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
			must(t, err)
		}, nil},
		{"encryption removed", SettingEncryption, func(t *testing.T, s *s3.Client, bucket string) {
			_, err := s.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: &bucket})
			must(t, err)
		}, func(t *testing.T, s *s3.Client, bucket string) {
			enc, err := s.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
			must(t, err)
			if a := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm; a != s3types.ServerSideEncryptionAes256 {
				t.Errorf("algorithm = %s", a)
			}
		}},
		{"public access block removed", SettingPublicAccessBlock, func(t *testing.T, s *s3.Client, bucket string) {
			_, err := s.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: &bucket})
			must(t, err)
		}, nil},
		{"public access block partly off", SettingPublicAccessBlock, func(t *testing.T, s *s3.Client, bucket string) {
			_, err := s.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(true)}})
			must(t, err)
		}, nil},
		{"policy replaced by a foreign one", SettingTLSPolicy, func(t *testing.T, s *s3.Client, bucket string) {
			_, err := s.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(foreignPolicy(bucket))})
			must(t, err)
		}, func(t *testing.T, s *s3.Client, bucket string) {
			pol, err := s.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
			must(t, err)
			st := statements(t, aws.ToString(pol.Policy))
			if len(st) != 2 || st[0]["Sid"] != "AllowAuditRead" {
				t.Errorf("foreign statement not kept first: %s", aws.ToString(pol.Policy))
			}
		}},
		{"foreign tags replace ours", SettingTags, func(t *testing.T, s *s3.Client, bucket string) {
			_, err := s.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &bucket, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
				{Key: aws.String("cost-center"), Value: aws.String("42")}}}})
			must(t, err)
		}, func(t *testing.T, s *s3.Client, bucket string) {
			out, err := s.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
			must(t, err)
			if m := s3Tags(out.TagSet); m["cost-center"] != "42" || m["managed-by"] != "challengectl" || m["app"] != "challenge-api" {
				t.Errorf("tags = %v; foreign tag must stay and ours be added", m)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			o := testOptions(uniqueName("drift"), uniqueName("locks"))
			if _, _, err := ensure(t, cfg, o); err != nil {
				t.Fatal(err)
			}
			s := s3Client(cfg)
			tc.drift(t, s, o.Bucket)

			// A dry run reports the drift and writes nothing.
			dry := o
			dry.DryRun = true
			rep, rec, err := ensure(t, cfg, dry)
			if err != nil {
				t.Fatal(err)
			}
			if w := rec.writes(); len(w) != 0 {
				t.Fatalf("dry run wrote: %v", w)
			}
			c := mustChange(t, rep, "bucket", tc.setting, ActionWouldRepair)
			if c.Found == "" || c.Wanted == "" || c.Found == c.Wanted || !rep.Drift || rep.Changed {
				t.Errorf("dry-run change = %+v, report drift=%v changed=%v", c, rep.Drift, rep.Changed)
			}

			rep, rec, err = ensure(t, cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			mustChange(t, rep, "bucket", tc.setting, ActionRepaired)
			if w := rec.writes(); len(w) != 1 {
				t.Errorf("repair made writes %v, want exactly one", w)
			}
			assertHardened(t, cfg, o.Bucket, o.Table)
			if tc.check != nil {
				tc.check(t, s, o.Bucket)
			}
			// Repaired means healthy: the next run writes nothing.
			if _, rec, err = ensure(t, cfg, o); err != nil || len(rec.writes()) != 0 {
				t.Errorf("run after repair: err %v, writes %v", err, rec.writes())
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnsureRecognisesEquivalentDenyUnderAnotherSid(t *testing.T) {
	ctx := context.Background()
	cfg := kumoConfig(t, "us-east-1")
	o := testOptions(uniqueName("equiv"), uniqueName("locks"))
	if _, _, err := ensure(t, cfg, o); err != nil {
		t.Fatal(err)
	}
	s := s3Client(cfg)
	doc := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"OrgTLS","Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:*"],"Resource":["arn:aws:s3:::` + o.Bucket + `","arn:aws:s3:::` + o.Bucket + `/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}},` +
		`{"Sid":"AllowCI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"s3:*","Resource":"arn:aws:s3:::` + o.Bucket + `/*"}]}`
	_, err := s.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &o.Bucket, Policy: &doc})
	must(t, err)
	rep, rec, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	c := mustChange(t, rep, "bucket", SettingTLSPolicy, ActionVerified)
	if !strings.Contains(c.Found, `"OrgTLS"`) {
		t.Errorf("found = %q, want it to name the existing Sid", c.Found)
	}
	if rec.count("PutBucketPolicy") != 0 {
		t.Errorf("policy rewritten although an equivalent deny exists")
	}
	pol, err := s.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &o.Bucket})
	must(t, err)
	if aws.ToString(pol.Policy) != doc {
		t.Errorf("policy changed:\n%s\nwant\n%s", aws.ToString(pol.Policy), doc)
	}
}

func TestEnsureDryRunOnNothingCreatesNothing(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	o := testOptions(uniqueName("dry"), uniqueName("locks"))
	o.DryRun = true
	rep, rec, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if w := rec.writes(); len(w) != 0 {
		t.Fatalf("dry run wrote %v", w)
	}
	mustChange(t, rep, "bucket", SettingBucket, ActionWouldCreate)
	mustChange(t, rep, "table", SettingTable, ActionWouldCreate)
	if !rep.Drift || rep.Created || rep.Changed {
		t.Errorf("report = %+v", rep)
	}
	assertNothingCreated(t, cfg, o.Bucket, o.Table)
}

// assertNothingCreated lists buckets and tables: neither name may exist.
func assertNothingCreated(t *testing.T, cfg aws.Config, bucket, table string) {
	t.Helper()
	ctx := context.Background()
	bl, err := s3Client(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
	must(t, err)
	for _, b := range bl.Buckets {
		if aws.ToString(b.Name) == bucket {
			t.Errorf("bucket %q was created", bucket)
		}
	}
	tl, err := ddbClient(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	must(t, err)
	for _, n := range tl.TableNames {
		if n == table {
			t.Errorf("table %q was created", table)
		}
	}
}

func TestEnsureRefusesWrongTableSchema(t *testing.T) {
	ctx := context.Background()
	cfg := kumoConfig(t, "us-east-1")
	o := testOptions(uniqueName("schema"), uniqueName("locks"))
	d := ddbClient(cfg)
	_, err := d.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &o.Table,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	must(t, err)
	_, err = d.PutItem(ctx, &dynamodb.PutItemInput{TableName: &o.Table, Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberN{Value: "7"}}})
	must(t, err)

	_, rec, err := ensure(t, cfg, o)
	var se *TableSchemaError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a TableSchemaError", err)
	}
	if clierr.ExitCode(err, false) != clierr.ExitFailure {
		t.Errorf("exit code %d, want 1", clierr.ExitCode(err, false))
	}
	if !strings.Contains(err.Error(), "id (N, HASH)") || !strings.Contains(err.Error(), "LockID") || !strings.Contains(err.Error(), "never drops") {
		t.Errorf("error does not explain: %v", err)
	}
	for _, op := range rec.writes() {
		if strings.HasSuffix(op, "Table") || strings.HasPrefix(op, "Tag") {
			t.Errorf("table touched by %s", op)
		}
	}
	desc, err := d.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &o.Table})
	must(t, err)
	if describeSchema(desc.Table) != "id (N, HASH)" {
		t.Errorf("table changed: %s", describeSchema(desc.Table))
	}
	got, err := d.GetItem(ctx, &dynamodb.GetItemInput{TableName: &o.Table, Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberN{Value: "7"}}})
	if err != nil || got.Item == nil {
		t.Errorf("the table's item is gone: %v", err)
	}
}

func TestEnsureInvalidInputCallsNothing(t *testing.T) {
	cases := map[string]struct {
		region string
		o      Options
		field  string
	}{
		"bucket IP-shaped": {"us-east-1", Options{Bucket: "10.0.0.1", Table: "tf-locks"}, "--bucket"},
		"bucket reserved":  {"us-east-1", Options{Bucket: "xn--state", Table: "tf-locks"}, "--bucket"},
		"table chars":      {"us-east-1", Options{Bucket: uniqueName("valid"), Table: "tf locks"}, "--table"},
		"region empty":     {"us-east-1", Options{Bucket: uniqueName("valid"), Table: uniqueName("locks"), Region: ""}, ""},
		"region malformed": {"us-east-1", Options{Bucket: uniqueName("valid"), Table: uniqueName("locks"), Region: "us-east"}, "--region"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := kumoConfig(t, tc.region)
			if name == "region empty" {
				cfg.Region = ""
				tc.field = "--region"
			}
			rep, rec, err := ensure(t, cfg, tc.o)
			var u *clierr.UsageError
			if !errors.As(err, &u) || u.Field != tc.field {
				t.Fatalf("err = %v, want a usage error on %s", err, tc.field)
			}
			if rep != nil || len(rec.all()) != 0 {
				t.Errorf("calls made before validation: %v", rec.all())
			}
			cfg.Region = "us-east-1"
			assertNothingCreated(t, cfg, tc.o.Bucket, tc.o.Table)
		})
	}
}

func TestEnsureUnreachableEndpoint(t *testing.T) {
	// A loopback port that was just closed: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	cfg := endpointConfig(t, "us-east-1", "http://"+addr)
	// Safety net only: the bounded retries must end the call long before.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := testOptions(uniqueName("unreach"), uniqueName("locks"))
	o.Logger, _ = logBuffer()
	var rec recorder
	rec.attach(&cfg)
	_, err = Ensure(ctx, cfg, o)
	var ee *EndpointError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want an EndpointError", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("gave up only at the test's safety deadline: %v", err)
	}
	msg := err.Error()
	// The account lookup is the first call: it fails before any other.
	if !strings.Contains(msg, "cannot reach STS at http://"+addr) || !strings.Contains(msg, "--endpoint-url") || !strings.Contains(msg, "refused") {
		t.Errorf("unclear error: %v", msg)
	}
	if ops := rec.all(); len(ops) != 1 || ops[0] != "GetCallerIdentity" {
		t.Errorf("calls after the endpoint was found unreachable: %v", ops)
	}
}

func TestEnsureStopsOnCancel(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel as the first write is about to be sent, as Ctrl-C would.
	(&interceptor{}).attach(&cfg)
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("testCancel",
			func(c context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetOperationName(c) == "CreateBucket" {
					cancel()
				}
				return next.HandleInitialize(c, in)
			}), middleware.Before)
	})
	o := testOptions(uniqueName("cancel"), uniqueName("locks"))
	o.Logger, _ = logBuffer()
	_, err := Ensure(ctx, cfg, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var ee *EndpointError
	if errors.As(err, &ee) {
		t.Errorf("a cancel reported as an unreachable endpoint: %v", err)
	}
	if clierr.ExitCode(err, true) != clierr.ExitInterrupted {
		t.Errorf("exit code %d", clierr.ExitCode(err, true))
	}
	cfg.Region = "us-east-1"
	assertNothingCreated(t, kumoConfig(t, "us-east-1"), o.Bucket, o.Table)
}
