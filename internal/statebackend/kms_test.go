package statebackend

// --kms-key-id is looked up with kms:DescribeKey before any bucket or table
// call. Keys and aliases are made in kumo; what kumo cannot produce (an
// AccessDenied, an AWS managed key, an emulator without KMS) is stubbed with
// SDK middleware.

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/challengectl/challengectl/internal/clierr"
)

func kmsClient(cfg aws.Config) *kms.Client { return kms.NewFromConfig(cfg) }

// testKey is a key made in kumo.
type testKey struct{ id, arn string }

// createKey makes a key in kumo; spec and usage empty give kumo's (and
// AWS's) defaults, SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT.
func createKey(t *testing.T, cfg aws.Config, spec kmstypes.KeySpec, usage kmstypes.KeyUsageType) testKey {
	t.Helper()
	out, err := kmsClient(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, Description: aws.String(t.Name())})
	must(t, err)
	return testKey{id: aws.ToString(out.KeyMetadata.KeyId), arn: aws.ToString(out.KeyMetadata.Arn)}
}

// createAlias points a new alias, unique in this test binary (kumo's storage
// is shared by every in-process server), at k.
func createAlias(t *testing.T, cfg aws.Config, k testKey) string {
	t.Helper()
	name := "alias/" + uniqueName("tf-state")
	_, err := kmsClient(cfg).CreateAlias(context.Background(), &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &k.id})
	must(t, err)
	return name
}

// serviceCalls counts the calls per AWS service, by the SDK's service ID.
func serviceCalls(rec *opRecorder) map[string]int {
	n := map[string]int{}
	for _, op := range rec.names() {
		n[op[:strings.Index(op, ".")]]++
	}
	return n
}

// keyedAWSTable is an awsTable whose UpdateTable applies the key asked for,
// resolved as DynamoDB would, through keys (reference -> key ARN).
func keyedAWSTable(sseKey string, keys map[string]string) *awsTable {
	return &awsTable{sse: sseKey != "", sseKey: sseKey, keys: keys}
}

func TestKMSAliasResolvedAndHealthyRunWritesNothing(t *testing.T) {
	ctx := context.Background()
	cfg := kumoConfig(t, "us-east-1")
	key := createKey(t, cfg, "", "")
	alias := createAlias(t, cfg, key)
	ic := &interceptor{capture: map[string]bool{"CreateTable": true, "PutBucketEncryption": true}}
	ic.attach(&cfg)
	o := testOptions(uniqueName("kms"), uniqueName("locks"))
	o.KMSKeyID = alias
	rep, _, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	c := mustChange(t, rep, SettingKMSKey, SettingKMSKey, ActionVerified)
	if !strings.Contains(c.Found, alias+" ("+key.arn+")") || !strings.Contains(c.Found, "Enabled") {
		t.Errorf("kms-key found = %q, want the alias and the key ARN it resolved to", c.Found)
	}
	// The bucket and the table get the alias, as given.
	mustChange(t, rep, "bucket", SettingEncryption, ActionCreated)
	enc, err := s3Client(cfg).GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &o.Bucket})
	must(t, err)
	r := enc.ServerSideEncryptionConfiguration.Rules[0]
	if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != alias || !aws.ToBool(r.BucketKeyEnabled) {
		t.Errorf("bucket encryption = %+v / %+v", r, r.ApplyServerSideEncryptionByDefault)
	}
	if body := ic.requests("CreateTable")[0].Body; !strings.Contains(body, `"KMSMasterKeyId":"`+alias+`"`) {
		t.Errorf("CreateTable without the alias: %s", body)
	}
	if args := rep.Backend.InitArgs(); args[len(args)-1] != "-backend-config=kms_key_id="+alias {
		t.Errorf("init args = %v", args)
	}

	// Second run: verified, no write at all.
	rep, rec, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if w := rec.writes(); len(w) != 0 || rep.Changed {
		t.Errorf("healthy run wrote %v (changed %v)", w, rep.Changed)
	}
	mustChange(t, rep, "bucket", SettingEncryption, ActionVerified)
	if n := rec.count("DescribeKey"); n != 1 {
		t.Errorf("DescribeKey calls = %d, want 1", n)
	}

	// As on AWS, where DynamoDB reports the key ARN for a table made with
	// the alias: verified exactly, no write.
	cfg2 := kumoConfig(t, "us-east-1")
	awsLike(&cfg2, keyedAWSTable(key.arn, nil), true)
	o.Emulated = false
	log, logs := logBuffer()
	o.Logger = log
	rep, rec, err = ensure(t, cfg2, o)
	if err != nil {
		t.Fatal(err)
	}
	if w := rec.writes(); len(w) != 0 || rep.Changed {
		t.Errorf("healthy run as on AWS wrote %v: %+v", w, rep.Changes)
	}
	if c := mustChange(t, rep, "table", SettingEncryption, ActionVerified); !strings.Contains(c.Found, key.arn) {
		t.Errorf("table encryption found = %q", c.Found)
	}
	if strings.Contains(logs.String(), "level=WARN") || strings.Contains(logs.String(), "not resolved") {
		t.Errorf("warnings against AWS: %s", logs.String())
	}
}

// Before the change, an alias made any KMS key count for the table (with a
// warning): a table on another key than the alias's was "verified".
func TestTableOnAnotherKeyThanTheAliasIsRepaired(t *testing.T) {
	for _, tc := range []struct {
		name    string
		onKey   func(target, other testKey) string // the table's key ARN, "" for the AWS owned key
		action  string
		updates int
	}{
		{"table on another key", func(_, other testKey) string { return other.arn }, ActionRepaired, 1},
		{"table on the AWS owned key", func(testKey, testKey) string { return "" }, ActionRepaired, 1},
		{"table on the alias's key", func(target, _ testKey) string { return target.arn }, ActionVerified, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kumoConfig(t, "us-east-1")
			target, other := createKey(t, cfg, "", ""), createKey(t, cfg, "", "")
			alias := createAlias(t, cfg, target)
			o := testOptions(uniqueName("alias"), uniqueName("locks"))
			o.KMSKeyID = alias
			if _, _, err := ensure(t, cfg, o); err != nil {
				t.Fatal(err)
			}
			tbl := keyedAWSTable(tc.onKey(target, other), map[string]string{alias: target.arn})
			cfg2 := kumoConfig(t, "us-east-1")
			awsLike(&cfg2, tbl, true)
			ic := &interceptor{capture: map[string]bool{"UpdateTable": true}}
			ic.attach(&cfg2)
			o.Emulated = false
			for run := 1; run <= 2; run++ {
				rep, _, err := ensure(t, cfg2, o)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				want := tc.action
				if run == 2 {
					want = ActionVerified
				}
				c := mustChange(t, rep, "table", SettingEncryption, want)
				if want == ActionVerified && !strings.Contains(c.Found, target.arn) {
					t.Errorf("run %d: found = %q, want the alias's key", run, c.Found)
				}
				if want == ActionRepaired && !strings.Contains(c.Wanted, alias+" ("+target.arn+")") {
					t.Errorf("run %d: wanted = %q", run, c.Wanted)
				}
			}
			ups := ic.requests("UpdateTable")
			if len(ups) != tc.updates {
				t.Fatalf("UpdateTable sent %d times, want %d: %+v", len(ups), tc.updates, ups)
			}
			if tc.updates == 1 && !strings.Contains(ups[0].Body, `"KMSMasterKeyId":"`+alias+`"`) {
				t.Errorf("UpdateTable body = %s, want the alias as given", ups[0].Body)
			}
		})
	}
}

// S3 keeps the key reference as written; each form naming the key is
// verified, any other key is repaired with --kms-key-id as given.
func TestBucketKMSReferenceComparedWithResolvedKey(t *testing.T) {
	ctx := context.Background()
	cfg := kumoConfig(t, "us-east-1")
	target, otherKey := createKey(t, cfg, "", ""), createKey(t, cfg, "", "")
	alias := createAlias(t, cfg, target)
	otherAlias := createAlias(t, cfg, target) // same key, but not the alias asked for
	aliasARN := target.arn[:strings.LastIndex(target.arn, ":")] + ":" + alias
	for _, tc := range []struct {
		stored string
		ok     bool
	}{
		{target.arn, true},
		{target.id, true},
		{alias, true},
		{aliasARN, true},
		{otherKey.arn, false},
		{otherKey.id, false},
		{otherAlias, false},
	} {
		o := testOptions(uniqueName("ref"), uniqueName("locks"))
		o.KMSKeyID = alias
		if _, _, err := ensure(t, cfg, o); err != nil {
			t.Fatal(err)
		}
		_, err := s3Client(cfg).PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &o.Bucket,
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(tc.stored)},
				BucketKeyEnabled:                   aws.Bool(true)}}}})
		must(t, err)
		rep, rec, err := ensure(t, cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		want, puts := ActionVerified, 0
		if !tc.ok {
			want, puts = ActionRepaired, 1
		}
		mustChange(t, rep, "bucket", SettingEncryption, want)
		if got := rec.count("PutBucketEncryption"); got != puts {
			t.Errorf("stored %s: PutBucketEncryption calls = %d, want %d", tc.stored, got, puts)
		}
		enc, err := s3Client(cfg).GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &o.Bucket})
		must(t, err)
		wantStored := tc.stored
		if !tc.ok {
			wantStored = alias
		}
		if got := aws.ToString(enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID); got != wantStored {
			t.Errorf("stored %s: bucket key after the run = %s, want %s", tc.stored, got, wantStored)
		}
	}
}

func TestKMSKeyMatches(t *testing.T) {
	const arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		input, ref string
		want       bool
	}{
		{"alias/tf", arn, true},
		{"alias/tf", "1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{"alias/tf", "alias/tf", true},
		{"alias/tf", "arn:aws:kms:eu-west-1:111122223333:alias/tf", true},
		{"alias/tf", "alias/other", false},
		{"alias/tf", "arn:aws:kms:eu-west-1:111122223333:alias/other", false},
		{"alias/tf", "arn:aws:kms:eu-west-1:444455556666:alias/tf", false},
		{"alias/tf", "arn:aws:kms:eu-west-1:111122223333:key/ffffffff-12ab-34cd-56ef-1234567890ab", false},
		{"alias/tf", "", false},
		{"1234abcd-12ab-34cd-56ef-1234567890ab", arn, true},
		{arn, "1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{arn, "alias/tf", false}, // another alias is not looked up
		{"arn:aws:kms:eu-west-1:111122223333:alias/tf", "alias/tf", true},
	} {
		k := &kmsKey{input: tc.input, arn: arn}
		if got := k.matches(tc.ref); got != tc.want {
			t.Errorf("key %s: matches(%q) = %v, want %v", tc.input, tc.ref, got, tc.want)
		}
	}
	// Unresolved (an emulator without KMS): only the static equivalences.
	k := &kmsKey{input: "alias/tf"}
	if !k.matches("alias/tf") || !k.matches("arn:aws:kms:eu-west-1:1:alias/tf") || k.matches(arn) {
		t.Error("unresolved key: want alias forms only")
	}
}

// Every bad key is a usage error naming --kms-key-id, made before any S3 or
// DynamoDB call: nothing is created.
func TestBadKMSKeyRefusedBeforeAnyBucketOrTableCall(t *testing.T) {
	cfg0 := kumoConfig(t, "us-east-1")
	disabled := createKey(t, cfg0, "", "")
	_, err := kmsClient(cfg0).DisableKey(context.Background(), &kms.DisableKeyInput{KeyId: &disabled.id})
	must(t, err)
	deleting := createKey(t, cfg0, "", "")
	_, err = kmsClient(cfg0).ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: &deleting.id, PendingWindowInDays: aws.Int32(7)})
	must(t, err)
	rsaEncrypt := createKey(t, cfg0, kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeEncryptDecrypt)
	rsaSign := createKey(t, cfg0, kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeSignVerify)
	hmac := createKey(t, cfg0, kmstypes.KeySpecHmac256, kmstypes.KeyUsageTypeGenerateVerifyMac)
	good := createKey(t, cfg0, "", "")
	goodAlias := createAlias(t, cfg0, good)
	accessDenied := `{"__type":"AccessDeniedException","message":"User: arn:aws:sts::000000000000:assumed-role/deploy/ci is not authorized to perform: kms:DescribeKey on resource: ` + good.arn + ` because no identity-based policy allows the kms:DescribeKey action"}`

	for _, tc := range []struct {
		name     string
		key      string
		region   string
		emulated bool
		stub     func(op string, r *smithyhttp.Response)
		override func(op string, out any)
		want     []string
		noCall   bool // refused before any call at all, STS and KMS included
	}{
		{name: "nonexistent alias", key: "alias/" + uniqueName("missing"), emulated: true,
			want: []string{"no KMS key or alias", "alias/missing", "aws kms list-aliases --region us-east-1", "NotFoundException"}},
		{name: "nonexistent key ID", key: "ffffffff-12ab-34cd-56ef-1234567890ab", emulated: true,
			want: []string{"no KMS key or alias", "alias/ prefix"}},
		{name: "disabled key", key: disabled.id, emulated: true,
			want: []string{"is Disabled (KeyState)", "aws kms enable-key --key-id " + disabled.arn + ", or pass another key"}},
		{name: "key pending deletion", key: deleting.arn, emulated: true,
			want: []string{"is PendingDeletion (KeyState)", "aws kms cancel-key-deletion --key-id " + deleting.arn}},
		{name: "asymmetric encryption key", key: rsaEncrypt.arn, emulated: true,
			want: []string{"not a symmetric encryption key (KeySpec RSA_2048, KeyUsage ENCRYPT_DECRYPT)", "SYMMETRIC_DEFAULT"}},
		{name: "asymmetric signing key", key: rsaSign.id, emulated: true,
			want: []string{"not a symmetric encryption key (KeySpec RSA_2048, KeyUsage SIGN_VERIFY)"}},
		{name: "HMAC key", key: hmac.id, emulated: true,
			want: []string{"not a symmetric encryption key (KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC)"}},
		{name: "key ARN of another region", key: strings.Replace(good.arn, ":us-east-1:", ":eu-central-1:", 1), emulated: true, noCall: true,
			want: []string{"is in region eu-central-1, not in us-east-1", "--region eu-central-1", "multi-Region replica"}},
		{name: "alias ARN of another region", key: "arn:aws:kms:us-west-2:000000000000:" + goodAlias, emulated: true, noCall: true,
			want: []string{"is in region us-west-2, not in us-east-1"}},
		{name: "ARN of another service", key: "arn:aws:s3:::some-bucket", emulated: true, noCall: true,
			want: []string{"is not a KMS key ARN or alias ARN"}},
		// kumo makes every key in us-east-1: against AWS the resolved ARN of
		// an alias in another region than --region is refused.
		{name: "alias resolving to a key of another region", key: goodAlias, region: "eu-west-1",
			want: []string{"is in region us-east-1, not in eu-west-1", goodAlias + " (" + good.arn + ")"}},
		{name: "access denied", key: goodAlias, emulated: true,
			stub: func(op string, r *smithyhttp.Response) {
				if op == "DescribeKey" {
					r.StatusCode = 400
					r.Body = io.NopCloser(strings.NewReader(accessDenied))
				}
			},
			want: []string{"lacks kms:DescribeKey", "key policy", "AccessDeniedException"}},
		{name: "AWS managed key", key: "alias/aws/s3", emulated: true,
			stub: func(op string, r *smithyhttp.Response) {
				if op == "DescribeKey" {
					r.StatusCode = 200
					r.Body = io.NopCloser(strings.NewReader(`{"KeyMetadata":{"KeyId":"` + good.id + `","Arn":"` + good.arn + `","KeyState":"Enabled","Enabled":true,` +
						`"KeyUsage":"ENCRYPT_DECRYPT","KeySpec":"SYMMETRIC_DEFAULT","KeyManager":"AWS"}}`))
				}
			},
			want: []string{"is an AWS managed key", "customer managed key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			region := tc.region
			if region == "" {
				region = "us-east-1"
			}
			cfg := kumoConfig(t, region)
			if tc.stub != nil {
				(&interceptor{rewrite: tc.stub}).attach(&cfg)
			}
			rec := &opRecorder{}
			rec.attach(&cfg)
			o := testOptions(uniqueName("badkey"), uniqueName("locks"))
			o.KMSKeyID, o.Emulated = tc.key, tc.emulated
			o.Logger, _ = logBuffer()
			_, err := Ensure(context.Background(), cfg, o)
			var u *clierr.UsageError
			if !errors.As(err, &u) || u.Field != "--kms-key-id" || clierr.ExitCode(err, false) != clierr.ExitUsage {
				t.Fatalf("err = %v, want a usage error naming --kms-key-id (exit 2)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), strings.Replace(w, "alias/missing", tc.key, 1)) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if !tc.noCall && !strings.Contains(err.Error(), "nothing was created") {
				t.Errorf("error does not say nothing was created: %v", err)
			}
			calls := serviceCalls(rec)
			if calls["S3"] != 0 || calls["DynamoDB"] != 0 {
				t.Errorf("S3 or DynamoDB called before the key was refused: %v", rec.names())
			}
			if tc.noCall && len(calls) != 0 {
				t.Errorf("calls made for a key refused by its ARN alone: %v", rec.names())
			}
			if !tc.noCall && calls["KMS"] == 0 {
				t.Errorf("the key was not looked up: %v", rec.names())
			}
			// Nothing half-created.
			assertNothingCreated(t, kumoConfig(t, region), o.Bucket, o.Table)
		})
	}
}

// kumo makes keys in one region: with --endpoint-url, a resolved key ARN of
// another region is a visible skip, never an error; a key ARN given by the
// user is still checked.
func TestEmulatorKeyRegionIsAVisibleSkip(t *testing.T) {
	cfg := kumoConfig(t, "eu-west-1")
	key := createKey(t, cfg, "", "")
	alias := createAlias(t, cfg, key)
	o := testOptions(uniqueName("kmsregion"), uniqueName("locks"))
	o.KMSKeyID = alias
	log, logs := logBuffer()
	o.Logger = log
	rep, _, err := ensure(t, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	c := mustChange(t, rep, SettingKMSKey, SettingRegion, ActionSkipped)
	if !strings.Contains(c.Note, "on AWS a key in another region than --region is refused") {
		t.Errorf("note = %q", c.Note)
	}
	if !strings.Contains(logs.String(), "kms-key region not checked") {
		t.Errorf("no warning: %s", logs.String())
	}
	mustChange(t, rep, "bucket", SettingEncryption, ActionCreated)
}

// An emulator without KMS: with --endpoint-url the lookup is skipped with a
// warning and the key is sent as given; against AWS the same answer is an
// error before anything is created.
func TestEmulatorWithoutKMS(t *testing.T) {
	unknown := func(op string, r *smithyhttp.Response) {
		if op == "DescribeKey" {
			r.StatusCode = 400
			r.Body = io.NopCloser(strings.NewReader(`{"__type":"UnknownOperationException","message":"unknown operation TrentService.DescribeKey"}`))
		}
	}
	t.Run("emulated", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		(&interceptor{rewrite: unknown}).attach(&cfg)
		o := testOptions(uniqueName("nokms"), uniqueName("locks"))
		o.KMSKeyID = "alias/" + uniqueName("unresolved")
		log, logs := logBuffer()
		o.Logger = log
		rep, _, err := ensure(t, cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		c := mustChange(t, rep, SettingKMSKey, SettingKMSKey, ActionSkipped)
		if !strings.Contains(c.Note, "does not implement kms:DescribeKey") || !strings.Contains(c.Note, "UnknownOperationException") {
			t.Errorf("note = %q", c.Note)
		}
		if !strings.Contains(logs.String(), "kms-key not checked") {
			t.Errorf("no warning: %s", logs.String())
		}
		mustChange(t, rep, "bucket", SettingEncryption, ActionCreated)
		rep, rec, err := ensure(t, cfg, o)
		if err != nil || len(rec.writes()) != 0 {
			t.Fatalf("second run: %v, writes %v", err, rec.writes())
		}
		mustChange(t, rep, "bucket", SettingEncryption, ActionVerified)
	})
	t.Run("aws", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		(&interceptor{rewrite: unknown}).attach(&cfg)
		rec := &opRecorder{}
		rec.attach(&cfg)
		o := testOptions(uniqueName("nokms"), uniqueName("locks"))
		o.KMSKeyID, o.Emulated = "alias/"+uniqueName("unresolved"), false
		o.Logger, _ = logBuffer()
		_, err := Ensure(context.Background(), cfg, o)
		if err == nil || !strings.Contains(err.Error(), "kms:DescribeKey") || !strings.Contains(err.Error(), "nothing was created") {
			t.Fatalf("err = %v", err)
		}
		if calls := serviceCalls(rec); calls["S3"] != 0 || calls["DynamoDB"] != 0 {
			t.Errorf("calls: %v", rec.names())
		}
	})
}

// An unreachable KMS endpoint is reported as such, before any bucket call.
func TestKMSEndpointUnreachable(t *testing.T) {
	cfg := kumoConfig(t, "us-east-1")
	// DescribeKey fails as a refused connection does, before the retryer.
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("testKMSDown",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetOperationName(ctx) == "DescribeKey" {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &smithyhttp.RequestSendError{Err: errors.New("dial tcp: connection refused")}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
	o := testOptions(uniqueName("kmsdown"), uniqueName("locks"))
	o.KMSKeyID = "alias/tf"
	_, rec, err := ensure(t, cfg, o)
	var ee *EndpointError
	if !errors.As(err, &ee) || ee.Service != "KMS" {
		t.Fatalf("err = %v, want an EndpointError for KMS", err)
	}
	if !strings.Contains(err.Error(), "cannot reach KMS") {
		t.Errorf("err = %v", err)
	}
	// The recorder sits after the failing middleware: only the account
	// lookup shows, no bucket or table call.
	if ops := rec.all(); len(ops) != 1 || ops[0] != "GetCallerIdentity" {
		t.Errorf("calls: %v", ops)
	}
}
