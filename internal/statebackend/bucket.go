package statebackend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket setting names, as reported in Change.Setting.
const (
	SettingBucket            = "bucket"
	SettingRegion            = "region"
	SettingOwnership         = "object-ownership"
	SettingPublicAccessBlock = "public-access-block"
	SettingVersioning        = "versioning"
	SettingEncryption        = "encryption"
	SettingTLSPolicy         = "tls-only-policy"
	SettingTags              = "tags"
)

// bucketSettings lists, in order, what a bucket must have; a dry run on a
// missing bucket reports each as would-create.
var bucketSettings = []string{SettingOwnership, SettingPublicAccessBlock, SettingVersioning, SettingEncryption, SettingTLSPolicy, SettingTags}

// After CreateBucket, S3 may answer NoSuchBucket for a while: bucket
// configuration is eventually consistent. S3 also answers OperationAborted
// (409, "try again") to CreateBucket while a bucket of that name is still
// being deleted or created, and to configuration writes that conflict with
// another one in progress. Those calls are retried with a bounded backoff of
// about two minutes in all (30 attempts, 100ms doubling up to 5s), the
// propagation timeout Terraform's AWS provider uses for the same errors
// (hashicorp/terraform-provider-aws, internal/service/s3:
// s3BucketPropagationTimeout = 2 * time.Minute). Variables so tests can
// shorten the bound.
var (
	createRetryAttempts = 30
	createRetryBase     = 100 * time.Millisecond
	createRetryMax      = 5 * time.Second
)

type bucketRun struct {
	opts     Options
	rep      *Report
	endpoint string
	s3       *s3.Client
	// owner is the caller's account ID, sent as ExpectedBucketOwner on
	// every call on the bucket so that S3 refuses (403) to read or change a
	// bucket of this name in another account; "" only on an emulator
	// without STS.
	owner string
	// key is --kms-key-id as looked up in KMS; nil without it.
	key     *kmsKey
	created bool
	// writeMu serialises writes: S3 answers OperationAborted (409) to
	// concurrent configuration changes on one bucket.
	writeMu *sync.Mutex
	// deferLog: the step runs concurrently; its changes are logged in order
	// once all steps are done.
	deferLog bool
}

// log is where record sends a change: nowhere while steps run concurrently.
func (b *bucketRun) log() *slog.Logger {
	if b.deferLog {
		return nil
	}
	return b.opts.Logger
}

// expectedOwner is the ExpectedBucketOwner of every call on the bucket; nil
// when the account is unknown (the SDK would send an empty header).
func (b *bucketRun) expectedOwner() *string {
	if b.owner == "" {
		return nil
	}
	return aws.String(b.owner)
}

func (b *bucketRun) ensure(ctx context.Context) error {
	err := b.run(ctx)
	return endpointError("S3", b.endpoint, err)
}

func (b *bucketRun) run(ctx context.Context) error {
	log := b.opts.Logger
	attrs := []any{"bucket", b.opts.Bucket, "region", b.opts.Region}
	if b.owner != "" {
		attrs = append(attrs, "expected_owner", b.owner)
	}
	log.Info("checking state bucket", attrs...)
	exists, err := b.probe(ctx)
	if err != nil {
		return err
	}
	if !exists {
		if b.opts.DryRun {
			record(b.rep, log, Change{Resource: "bucket", Setting: SettingBucket, Action: ActionWouldCreate, Found: "absent", Wanted: b.opts.Bucket + " in " + b.opts.Region})
			for _, s := range bucketSettings {
				record(b.rep, log, Change{Resource: "bucket", Setting: s, Action: ActionWouldCreate, Found: "absent", Wanted: b.wanted(s)})
			}
			return nil
		}
		created, err := b.create(ctx)
		if err != nil {
			return err
		}
		b.created = created
		if created {
			b.rep.Created = true
			record(b.rep, log, Change{Resource: "bucket", Setting: SettingBucket, Action: ActionCreated, Found: "absent", Wanted: b.opts.Bucket + " in " + b.opts.Region})
		}
	}
	return b.steps(ctx)
}

// concurrentReads is switched off only by the benchmark that measures what
// it saves.
var concurrentReads = true

// steps checks every setting. The reads are independent, so they run
// concurrently (a healthy run costs about three round trips instead of
// eight); writes are serialised, and the changes are reported in a fixed
// order.
func (b *bucketRun) steps(ctx context.Context) error {
	steps := []func(*bucketRun, context.Context) error{
		(*bucketRun).ownership, (*bucketRun).publicAccessBlock, (*bucketRun).versioning,
		(*bucketRun).encryption, (*bucketRun).tlsPolicy, (*bucketRun).tags,
	}
	subs := make([]*bucketRun, len(steps))
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		sub := *b
		sub.rep, sub.deferLog = &Report{}, true
		subs[i] = &sub
		if !concurrentReads {
			errs[i] = step(subs[i], ctx)
			continue
		}
		wg.Go(func() { errs[i] = step(subs[i], ctx) })
	}
	wg.Wait()
	for i, sub := range subs {
		for _, c := range sub.rep.Changes {
			record(b.rep, b.opts.Logger, c)
		}
		if errs[i] != nil {
			return errs[i]
		}
	}
	return nil
}

// wanted describes the target value of a setting.
func (b *bucketRun) wanted(setting string) string {
	switch setting {
	case SettingOwnership:
		return string(s3types.ObjectOwnershipBucketOwnerEnforced)
	case SettingPublicAccessBlock:
		return "all four blocks on"
	case SettingVersioning:
		return string(s3types.BucketVersioningStatusEnabled)
	case SettingEncryption:
		if b.key != nil {
			return "aws:kms key " + b.key.describe() + " with bucket key"
		}
		return "AES256 (SSE-S3)"
	case SettingTLSPolicy:
		return "deny s3:* when aws:SecureTransport is false"
	case SettingTags:
		return tagsString(wantTags(b.opts.App))
	}
	return ""
}

// probe reports whether the bucket exists and is usable from here.
func (b *bucketRun) probe(ctx context.Context) (bool, error) {
	out, err := b.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
	if err == nil {
		record(b.rep, b.opts.Logger, Change{Resource: "bucket", Setting: SettingBucket, Action: ActionVerified, Found: "exists", Wanted: "exists"})
		return true, b.checkRegion(ctx, aws.ToString(out.BucketRegion))
	}
	var nf *s3types.NotFound
	status := httpStatus(err)
	region := responseHeader(err, "x-amz-bucket-region")
	switch {
	case errors.As(err, &nf) || status == 404 || hasCode(err, "NoSuchBucket"):
		return false, nil
	case status == 403:
		return false, b.accessError(ctx, err)
	case region != "" && region != b.opts.Region:
		// 301 PermanentRedirect (or 400 from a wrong regional endpoint). S3
		// answers so for any existing bucket in another region, whoever owns
		// it: tell "run with --region" from "choose another name" by our own
		// bucket list.
		if listed, known := b.listedAsOurs(ctx); known && !listed {
			return false, &BucketAccessError{Bucket: b.opts.Bucket, OwnedByOther: true, Err: err}
		}
		return false, &BucketRegionError{Bucket: b.opts.Bucket, Region: region, Want: b.opts.Region}
	}
	return false, fmt.Errorf("check bucket %q: %w", b.opts.Bucket, err)
}

// checkRegion compares the bucket's region with the one asked for. HeadBucket
// reports it in x-amz-bucket-region; GetBucketLocation is the fallback.
func (b *bucketRun) checkRegion(ctx context.Context, region string) error {
	fromLocation := region == ""
	if fromLocation {
		loc, err := b.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
		if err != nil {
			return fmt.Errorf("read the region of bucket %q: %w", b.opts.Bucket, err)
		}
		region = normalizeLocation(string(loc.LocationConstraint))
	}
	c := Change{Resource: "bucket", Setting: SettingRegion, Found: region, Wanted: b.opts.Region}
	if region == b.opts.Region {
		c.Action = ActionVerified
		record(b.rep, b.opts.Logger, c)
		return nil
	}
	if b.opts.Emulated && fromLocation {
		// kumo accepts LocationConstraint but ignores it and reports
		// us-east-1 for every bucket; an emulator that sends
		// x-amz-bucket-region is trusted.
		c.Action, c.Note = ActionSkipped, "the emulator does not record bucket regions (it reports "+region+" for every bucket)"
		record(b.rep, b.opts.Logger, c)
		return nil
	}
	return &BucketRegionError{Bucket: b.opts.Bucket, Region: region, Want: b.opts.Region}
}

// normalizeLocation maps GetBucketLocation's legacy answers to region names.
func normalizeLocation(loc string) string {
	switch loc {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return loc
}

// accessError explains a 403: the bucket is someone else's, or ours with a
// role that may not read it. Our own bucket list tells which, when allowed.
func (b *bucketRun) accessError(ctx context.Context, cause error) error {
	e := &BucketAccessError{Bucket: b.opts.Bucket, ExpectedOwner: b.owner, Err: cause}
	if listed, known := b.listedAsOurs(ctx); known && !listed {
		e.OwnedByOther = true
	}
	return e
}

// listedAsOurs reports whether the bucket is in this account's bucket list
// (every region); known is false when the list could not be read (no
// s3:ListAllMyBuckets, say).
func (b *bucketRun) listedAsOurs(ctx context.Context) (listed, known bool) {
	p := s3.NewListBucketsPaginator(b.s3, &s3.ListBucketsInput{Prefix: aws.String(b.opts.Bucket)})
	for page := 0; p.HasMorePages() && page < 20; page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return false, false
		}
		for _, bk := range out.Buckets {
			if aws.ToString(bk.Name) == b.opts.Bucket {
				return true, true
			}
		}
	}
	return false, !p.HasMorePages()
}

// create makes the bucket; false when it turned out to exist already (a
// concurrent run created it). CreateBucket takes no ExpectedBucketOwner: the
// creator owns the bucket, and another account's is BucketAlreadyExists.
func (b *bucketRun) create(ctx context.Context) (bool, error) {
	in := &s3.CreateBucketInput{
		Bucket:          aws.String(b.opts.Bucket),
		ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced,
	}
	// us-east-1 is the one region that refuses an explicit LocationConstraint.
	if b.opts.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(b.opts.Region),
		}
	}
	err := b.retry(ctx, func(ctx context.Context) error {
		_, err := b.s3.CreateBucket(ctx, in)
		return err
	}, func(err error) bool { return hasCode(err, "OperationAborted") })
	var owned *s3types.BucketAlreadyOwnedByYou
	var taken *s3types.BucketAlreadyExists
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &owned):
		return false, nil
	case errors.As(err, &taken):
		return false, &BucketAccessError{Bucket: b.opts.Bucket, OwnedByOther: true, Err: err}
	case hasCode(err, "OperationAborted"):
		return false, fmt.Errorf("create bucket %q in %s: S3 still reports a conflicting operation on this name "+
			"(a bucket of this name was deleted recently, or is being created elsewhere); try again in a few minutes: %w",
			b.opts.Bucket, b.opts.Region, err)
	}
	return false, fmt.Errorf("create bucket %q in %s: %w", b.opts.Bucket, b.opts.Region, err)
}

// call runs one request on the bucket; right after creating it, NoSuchBucket
// is retried with a bounded backoff, and so, always, is OperationAborted.
func (b *bucketRun) call(ctx context.Context, fn func(context.Context) error) error {
	return b.retry(ctx, fn, func(err error) bool {
		return (b.created && hasCode(err, "NoSuchBucket")) || hasCode(err, "OperationAborted")
	})
}

// retry runs fn until it succeeds, fails with an error retryable does not
// accept, or createRetryAttempts is reached.
func (b *bucketRun) retry(ctx context.Context, fn func(context.Context) error, retryable func(error) bool) error {
	delay := createRetryBase
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || !retryable(err) || attempt >= createRetryAttempts {
			return err
		}
		b.opts.Logger.Debug("S3 answered "+errorCode(err)+", retrying", "bucket", b.opts.Bucket, "attempt", attempt)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, createRetryMax)
	}
}

// settle records a setting that was read back: verified when ok, otherwise
// written (or only reported on a dry run).
func (b *bucketRun) settle(ctx context.Context, setting, found string, ok bool, write func(context.Context) error) error {
	c := Change{Resource: "bucket", Setting: setting, Found: found, Wanted: b.wanted(setting)}
	switch {
	case ok:
		c.Action = ActionVerified
	case b.opts.DryRun:
		c.Action = ActionWouldRepair
	default:
		b.writeMu.Lock()
		err := b.call(ctx, write)
		b.writeMu.Unlock()
		if err != nil {
			return fmt.Errorf("set %s on bucket %q: %w", setting, b.opts.Bucket, err)
		}
		c.Action = ActionRepaired
		if b.created {
			c.Action = ActionCreated
		}
	}
	record(b.rep, b.log(), c)
	return nil
}

func (b *bucketRun) read(ctx context.Context, what string, fn func(context.Context) error, absent ...string) (bool, error) {
	err := b.call(ctx, fn)
	if err == nil {
		return true, nil
	}
	if hasCode(err, absent...) {
		return false, nil
	}
	return false, fmt.Errorf("read %s of bucket %q: %w", what, b.opts.Bucket, err)
}

func (b *bucketRun) ownership(ctx context.Context) error {
	var out *s3.GetBucketOwnershipControlsOutput
	found := "not set"
	have, err := b.read(ctx, SettingOwnership, func(ctx context.Context) (err error) {
		out, err = b.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
		return err
	}, "OwnershipControlsNotFoundError")
	if err != nil {
		return err
	}
	if have && out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
		found = string(out.OwnershipControls.Rules[0].ObjectOwnership)
	}
	if !have && b.opts.Emulated {
		// kumo: GET always answers OwnershipControlsNotFoundError and PUT is
		// refused. Against AWS this setting is always enforced.
		record(b.rep, b.log(), Change{Resource: "bucket", Setting: SettingOwnership, Action: ActionSkipped,
			Found: found, Wanted: b.wanted(SettingOwnership),
			Note: "the emulator does not implement bucket ownership controls; on AWS it is set to BucketOwnerEnforced"})
		return nil
	}
	ok := found == string(s3types.ObjectOwnershipBucketOwnerEnforced)
	return b.settle(ctx, SettingOwnership, found, ok, func(ctx context.Context) error {
		_, err := b.s3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
			Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner(),
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{
				{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced},
			}},
		})
		return err
	})
}

func (b *bucketRun) publicAccessBlock(ctx context.Context) error {
	var out *s3.GetPublicAccessBlockOutput
	have, err := b.read(ctx, SettingPublicAccessBlock, func(ctx context.Context) (err error) {
		out, err = b.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
		return err
	}, "NoSuchPublicAccessBlockConfiguration")
	if err != nil {
		return err
	}
	found, ok := "not set", false
	if have && out.PublicAccessBlockConfiguration != nil {
		p := out.PublicAccessBlockConfiguration
		flags := []struct {
			name string
			v    *bool
		}{{"BlockPublicAcls", p.BlockPublicAcls}, {"IgnorePublicAcls", p.IgnorePublicAcls}, {"BlockPublicPolicy", p.BlockPublicPolicy}, {"RestrictPublicBuckets", p.RestrictPublicBuckets}}
		var off []string
		for _, f := range flags {
			if !aws.ToBool(f.v) {
				off = append(off, f.name)
			}
		}
		ok = len(off) == 0
		found = "all four blocks on"
		if !ok {
			found = "off: " + strings.Join(off, ",")
		}
	}
	return b.settle(ctx, SettingPublicAccessBlock, found, ok, func(ctx context.Context) error {
		_, err := b.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
			Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner(),
			PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
				BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
			},
		})
		return err
	})
}

func (b *bucketRun) versioning(ctx context.Context) error {
	var out *s3.GetBucketVersioningOutput
	if _, err := b.read(ctx, SettingVersioning, func(ctx context.Context) (err error) {
		out, err = b.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
		return err
	}); err != nil {
		return err
	}
	found := string(out.Status)
	if found == "" {
		found = "never enabled"
	}
	ok := out.Status == s3types.BucketVersioningStatusEnabled
	return b.settle(ctx, SettingVersioning, found, ok, func(ctx context.Context) error {
		_, err := b.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(b.opts.Bucket),
			ExpectedBucketOwner:     b.expectedOwner(),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
		})
		return err
	})
}

func (b *bucketRun) encryption(ctx context.Context) error {
	var out *s3.GetBucketEncryptionOutput
	have, err := b.read(ctx, SettingEncryption, func(ctx context.Context) (err error) {
		out, err = b.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
		return err
	}, "ServerSideEncryptionConfigurationNotFoundError")
	if err != nil {
		return err
	}
	found, ok := "none", false
	if have && out.ServerSideEncryptionConfiguration != nil {
		for _, r := range out.ServerSideEncryptionConfiguration.Rules {
			d := r.ApplyServerSideEncryptionByDefault
			if d == nil {
				continue
			}
			alg, key, bk := d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID), aws.ToBool(r.BucketKeyEnabled)
			found = string(alg)
			if key != "" {
				found += " key " + key
			}
			if bk {
				found += " with bucket key"
			}
			if b.key == nil {
				// SSE-S3 is the minimum; a bucket already using SSE-KMS is not
				// downgraded.
				ok = alg == s3types.ServerSideEncryptionAes256 || alg == s3types.ServerSideEncryptionAwsKms || alg == s3types.ServerSideEncryptionAwsKmsDsse
			} else {
				// S3 reports the reference as written (key ID, key ARN,
				// alias name or alias ARN): compared with the key
				// --kms-key-id resolved to.
				ok = alg == s3types.ServerSideEncryptionAwsKms && b.key.matches(key) && bk
			}
			break
		}
	}
	return b.settle(ctx, SettingEncryption, found, ok, func(ctx context.Context) error {
		rule := s3types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
			SSEAlgorithm: s3types.ServerSideEncryptionAes256,
		}}
		if b.key != nil {
			// Sent as given: an alias stays an alias in the bucket's
			// configuration, so re-pointing it applies to new state
			// objects. S3 resolves an alias in the requester's account (S3
			// API reference, ServerSideEncryptionByDefault), and the state
			// is written by this account only: bootstrap grants no other.
			rule.ApplyServerSideEncryptionByDefault = &s3types.ServerSideEncryptionByDefault{
				SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(b.key.input),
			}
			rule.BucketKeyEnabled = aws.Bool(true)
		}
		_, err := b.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket:                            aws.String(b.opts.Bucket),
			ExpectedBucketOwner:               b.expectedOwner(),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{rule}},
		})
		return err
	})
}

func (b *bucketRun) tlsPolicy(ctx context.Context) error {
	var out *s3.GetBucketPolicyOutput
	have, err := b.read(ctx, SettingTLSPolicy, func(ctx context.Context) (err error) {
		out, err = b.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
		return err
	}, "NoSuchBucketPolicy")
	if err != nil {
		return err
	}
	existing := ""
	if have {
		existing = aws.ToString(out.Policy)
	}
	m, err := mergeTLSDeny(existing, bucketARN(b.opts.Region, b.opts.Bucket))
	if err != nil {
		return fmt.Errorf("bucket %q: %w (challengectl never overwrites a policy it cannot read)", b.opts.Bucket, err)
	}
	found := fmt.Sprintf("present as Sid %q", m.PresentSid)
	if !m.Present {
		found = "no TLS-only deny"
	}
	if m.Foreign > 0 {
		found += fmt.Sprintf(" (%d other statement(s), kept)", m.Foreign)
	}
	return b.settle(ctx, SettingTLSPolicy, found, m.Present, func(ctx context.Context) error {
		_, err := b.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner(), Policy: aws.String(m.Document)})
		return err
	})
}

// bucketARN uses the partition of the region (aws, aws-cn, aws-us-gov).
func bucketARN(region, bucket string) string {
	return "arn:" + partition(region) + ":s3:::" + bucket
}

// partition maps a region to its partition by the region patterns of the
// SDK's partition table (aws-sdk-go-v2 internal/endpoints/awsrulesfn/
// partitions.json): a policy whose Resource names another partition's ARN is
// refused as MalformedPolicy.
func partition(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"},
		{"us-gov-", "aws-us-gov"},
		{"us-iso-", "aws-iso"},
		{"us-isob-", "aws-iso-b"},
		{"eu-isoe-", "aws-iso-e"},
		{"us-isof-", "aws-iso-f"},
		{"eusc-", "aws-eusc"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

func (b *bucketRun) tags(ctx context.Context) error {
	var out *s3.GetBucketTaggingOutput
	have, err := b.read(ctx, SettingTags, func(ctx context.Context) (err error) {
		out, err = b.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner()})
		return err
	}, "NoSuchTagSet")
	if err != nil {
		return err
	}
	current := map[string]string{}
	var all []s3types.Tag
	if have {
		for _, t := range out.TagSet {
			current[aws.ToString(t.Key)] = aws.ToString(t.Value)
			all = append(all, t)
		}
	}
	missing, found := missingTags(current, wantTags(b.opts.App))
	return b.settle(ctx, SettingTags, found, len(missing) == 0, func(ctx context.Context) error {
		// PutBucketTagging replaces the whole set: send the foreign tags too.
		merged := make([]s3types.Tag, 0, len(all)+len(missing))
		for _, t := range all {
			replaced := false
			for _, m := range missing {
				if m.Key == aws.ToString(t.Key) {
					replaced = true
				}
			}
			if !replaced {
				merged = append(merged, t)
			}
		}
		for _, m := range missing {
			merged = append(merged, s3types.Tag{Key: aws.String(m.Key), Value: aws.String(m.Value)})
		}
		_, err := b.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(b.opts.Bucket), ExpectedBucketOwner: b.expectedOwner(), Tagging: &s3types.Tagging{TagSet: merged}})
		return err
	})
}
