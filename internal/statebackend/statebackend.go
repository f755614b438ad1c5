// Package statebackend creates, verifies and repairs the Terraform S3 state
// backend: a hardened S3 bucket and a DynamoDB lock table. It is idempotent:
// every setting is read back first and written only when it differs, so a
// second run on a healthy backend makes no write call. Foreign bucket policy
// statements and tags are kept; a table with the wrong key schema is never
// dropped or recreated. Every call on an existing bucket carries the
// caller's account as ExpectedBucketOwner, so a bucket of the same name in
// another account is refused by S3 (403), never repaired. A --kms-key-id is
// looked up in KMS before the first bucket or table call, and what S3 and
// DynamoDB report is compared with the key it names.
package statebackend

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/challengectl/challengectl/internal/awsconfig"
)

// Options select the backend to ensure.
type Options struct {
	Bucket   string
	Table    string
	Region   string // empty: the region of the aws.Config
	KMSKeyID string // empty: SSE-S3 (AES256) and the AWS-managed DynamoDB key
	App      string // tagged on both resources as app=<App>
	// Key is the state object key reported in the backend settings
	// (naming.StateKey(app, stage)); it is not created.
	Key    string
	DryRun bool // read and report only: no write call at all
	// Emulated is true when --endpoint-url is set: settings the emulator does
	// not implement may be skipped, each with a visible warning. Never
	// against AWS.
	Emulated bool
	Logger   *slog.Logger
}

// Change actions.
const (
	ActionCreated     = "created"
	ActionVerified    = "verified"
	ActionRepaired    = "repaired"
	ActionWouldCreate = "would-create"
	ActionWouldRepair = "would-repair"
	ActionSkipped     = "skipped"
)

// Change is one setting of one resource and what happened to it.
type Change struct {
	Resource string `json:"resource"` // bucket|table|kms-key
	Setting  string `json:"setting"`
	Action   string `json:"action"` // created|verified|repaired|would-create|would-repair|skipped
	Found    string `json:"found,omitempty"`
	Wanted   string `json:"wanted,omitempty"`
	Note     string `json:"note,omitempty"` // why a setting was skipped
}

// Backend is the configuration Terraform's S3 backend needs.
type Backend struct {
	Bucket        string `json:"bucket"`
	Key           string `json:"key,omitempty"`
	Region        string `json:"region"`
	DynamoDBTable string `json:"dynamodb_table"`
	Encrypt       bool   `json:"encrypt"`
	KMSKeyID      string `json:"kms_key_id,omitempty"`
}

// Report is the outcome of Ensure.
type Report struct {
	Bucket  string   `json:"bucket"`
	Table   string   `json:"table"`
	Region  string   `json:"region"`
	DryRun  bool     `json:"dry_run"`
	Created bool     `json:"created"` // the bucket or the table was created by this run
	Changed bool     `json:"changed"` // something was created or repaired
	Drift   bool     `json:"drift"`   // dry run: something would be created or repaired
	Changes []Change `json:"changes"`
	Backend Backend  `json:"backend"`
}

// Skipped returns the settings that were not checked, with the reason.
func (r *Report) Skipped() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Action == ActionSkipped {
			out = append(out, c)
		}
	}
	return out
}

// InitArgs returns the `terraform init -backend-config=…` arguments for this
// backend, in a stable order.
func (b Backend) InitArgs() []string {
	args := []string{
		"-backend-config=bucket=" + b.Bucket,
	}
	if b.Key != "" {
		args = append(args, "-backend-config=key="+b.Key)
	}
	args = append(args,
		"-backend-config=region="+b.Region,
		"-backend-config=dynamodb_table="+b.DynamoDBTable,
		"-backend-config=encrypt=true",
	)
	if b.KMSKeyID != "" {
		args = append(args, "-backend-config=kms_key_id="+b.KMSKeyID)
	}
	return args
}

// GitHubSecrets returns the repository secrets the deploy workflow reads.
func (b Backend) GitHubSecrets() map[string]string {
	return map[string]string{
		"TF_STATE_BUCKET": b.Bucket,
		"TF_STATE_KEY":    b.Key,
		"TF_STATE_TABLE":  b.DynamoDBTable,
		"AWS_REGION":      b.Region,
	}
}

// Validate checks every input; it makes no call.
func (o Options) Validate(cfg aws.Config) error {
	region := o.Region
	if region == "" {
		region = cfg.Region
	}
	if err := awsconfig.ValidateRegion(region); err != nil {
		return err
	}
	if err := ValidateBucketName(o.Bucket); err != nil {
		return err
	}
	if err := ValidateTableName(o.Table); err != nil {
		return err
	}
	return validateKMSKeyID(o.KMSKeyID, region)
}

// Ensure creates or repairs the bucket and the table. Inputs are checked
// before any call; a usage error means nothing was touched.
func Ensure(ctx context.Context, cfg aws.Config, o Options) (*Report, error) {
	if err := o.Validate(cfg); err != nil {
		return nil, err
	}
	if o.Region == "" {
		o.Region = cfg.Region
	}
	cfg = cfg.Copy()
	cfg.Region = o.Region
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if strings.Contains(o.Bucket, ".") {
		o.Logger.Warn("bucket names with dots cannot use virtual-hosted TLS endpoints; the SDK falls back to path-style requests", "bucket", o.Bucket)
	}
	endpoint := "AWS"
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		endpoint = *cfg.BaseEndpoint
	}
	rep := &Report{
		Bucket: o.Bucket, Table: o.Table, Region: o.Region, DryRun: o.DryRun,
		Backend: Backend{Bucket: o.Bucket, Key: o.Key, Region: o.Region, DynamoDBTable: o.Table, Encrypt: true, KMSKeyID: o.KMSKeyID},
	}
	// Before any bucket call: the account is the expected owner of the
	// bucket (and a missing credential or an unreachable endpoint is best
	// reported before anything is created).
	owner, err := callerAccount(ctx, cfg, o, rep, endpoint)
	if err != nil {
		return rep, err
	}
	// Before any bucket or table call too: a key S3 or DynamoDB cannot use
	// would otherwise fail PutBucketEncryption or CreateTable after the
	// bucket was created.
	key, err := resolveKMSKey(ctx, cfg, o, rep, endpoint)
	if err != nil {
		return rep, err
	}
	b := &bucketRun{
		opts: o, rep: rep, endpoint: endpoint, owner: owner, key: key, writeMu: &sync.Mutex{},
		s3: s3.NewFromConfig(cfg, func(so *s3.Options) {
			// Emulators serve every bucket on one host: path-style addressing.
			if o.Emulated {
				so.UsePathStyle = true
			}
		}),
	}
	if err := b.ensure(ctx); err != nil {
		return rep, err
	}
	t := &tableRun{opts: o, rep: rep, endpoint: endpoint, key: key, ddb: dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
		// kumo answers with an x-amz-crc32 header that does not match its
		// bodies, which makes the SDK print a warning per call.
		if o.Emulated {
			do.DisableValidateResponseChecksum = true
		}
	})}
	if err := t.ensure(ctx); err != nil {
		return rep, err
	}
	for _, c := range rep.Changes {
		switch c.Action {
		case ActionCreated, ActionRepaired:
			rep.Changed = true
		case ActionWouldCreate, ActionWouldRepair:
			rep.Drift = true
		}
	}
	return rep, nil
}

// record appends a change and logs it (unless log is nil); skipped settings
// are warnings.
func record(rep *Report, log *slog.Logger, c Change) {
	rep.Changes = append(rep.Changes, c)
	if log == nil {
		return
	}
	subject := c.Resource + " " + c.Setting
	if c.Setting == c.Resource {
		subject = c.Resource
	}
	switch c.Action {
	case ActionSkipped:
		log.Warn(fmt.Sprintf("%s not checked: %s", subject, c.Note))
	case ActionVerified:
		log.Debug(subject+" verified", "value", c.Found)
	default:
		log.Info(subject+" "+c.Action, "found", c.Found, "wanted", c.Wanted)
	}
}

// wantTags are the tags challengectl manages on both resources.
func wantTags(app string) []kv {
	tags := []kv{{"managed-by", "challengectl"}}
	if app != "" {
		tags = append(tags, kv{"app", app})
	}
	return tags
}

type kv struct{ Key, Value string }

// missingTags returns the managed tags to add to have. The app tag is only
// added when absent: a state bucket may be shared by several apps (the state
// key is per app), so an app tag set by another app is kept, not flipped.
func missingTags(have map[string]string, want []kv) (missing []kv, found string) {
	var parts []string
	for _, t := range want {
		v, ok := have[t.Key]
		switch {
		case !ok:
			missing = append(missing, t)
			parts = append(parts, t.Key+" absent")
		case t.Key == "app" || v == t.Value:
			parts = append(parts, t.Key+"="+v)
		default:
			missing = append(missing, t)
			parts = append(parts, t.Key+"="+v)
		}
	}
	return missing, strings.Join(parts, ",")
}

func tagsString(want []kv) string {
	parts := make([]string, len(want))
	for i, t := range want {
		parts[i] = t.Key + "=" + t.Value
	}
	return strings.Join(parts, ",")
}
