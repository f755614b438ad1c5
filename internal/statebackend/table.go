package statebackend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table setting names, as reported in Change.Setting.
const (
	SettingTable              = "table"
	SettingKeySchema          = "key-schema"
	SettingBilling            = "billing-mode"
	SettingDeletionProtection = "deletion-protection"
)

// lockKey is the hash key Terraform's S3 backend writes its locks under.
const lockKey = "LockID"

// tableWait bounds the wait for a table to become ACTIVE.
const tableWait = 3 * time.Minute

var tableSettings = []string{SettingKeySchema, SettingBilling, SettingEncryption, SettingDeletionProtection, SettingTags}

type tableRun struct {
	opts     Options
	rep      *Report
	endpoint string
	ddb      *dynamodb.Client
	// key is --kms-key-id as looked up in KMS; nil without it.
	key     *kmsKey
	created bool
}

func (t *tableRun) ensure(ctx context.Context) error {
	return endpointError("DynamoDB", t.endpoint, t.run(ctx))
}

func (t *tableRun) run(ctx context.Context) error {
	log := t.opts.Logger
	log.Info("checking lock table", "table", t.opts.Table, "region", t.opts.Region)
	desc, err := t.describe(ctx)
	if err != nil {
		return err
	}
	if desc == nil {
		if t.opts.DryRun {
			record(t.rep, log, Change{Resource: "table", Setting: SettingTable, Action: ActionWouldCreate, Found: "absent", Wanted: t.opts.Table + " in " + t.opts.Region})
			for _, s := range tableSettings {
				record(t.rep, log, Change{Resource: "table", Setting: s, Action: ActionWouldCreate, Found: "absent", Wanted: t.wanted(s)})
			}
			return nil
		}
		if desc, err = t.create(ctx); err != nil {
			return err
		}
	} else {
		record(t.rep, log, Change{Resource: "table", Setting: SettingTable, Action: ActionVerified, Found: "exists", Wanted: "exists"})
		if err := t.stuckStatus(desc); err != nil {
			return err
		}
		if desc.TableStatus != ddbtypes.TableStatusActive && !t.opts.DryRun {
			if desc, err = t.waitActive(ctx); err != nil {
				return err
			}
		}
	}
	// The key schema cannot be changed: a wrong one is an error, never a
	// reason to drop the table.
	schema := describeSchema(desc)
	if schema != lockKey+" (S, HASH)" {
		return &TableSchemaError{Table: t.opts.Table, Found: schema}
	}
	t.settle(Change{Setting: SettingKeySchema, Found: schema, Action: ActionVerified})
	for _, step := range []func(context.Context, *ddbtypes.TableDescription) error{t.billing, t.encryption, t.deletionProtection, t.tags} {
		if err := step(ctx, desc); err != nil {
			return err
		}
	}
	return nil
}

func (t *tableRun) wanted(setting string) string {
	switch setting {
	case SettingKeySchema:
		return lockKey + " (S, HASH)"
	case SettingBilling:
		return string(ddbtypes.BillingModePayPerRequest)
	case SettingEncryption:
		if t.key != nil {
			return "KMS key " + t.key.describe()
		}
		return "KMS (AWS managed key)"
	case SettingDeletionProtection:
		return "enabled"
	case SettingTags:
		return tagsString(wantTags(t.opts.App))
	}
	return ""
}

func (t *tableRun) settle(c Change) {
	c.Resource = "table"
	if c.Wanted == "" {
		c.Wanted = t.wanted(c.Setting)
	}
	record(t.rep, t.opts.Logger, c)
}

func (t *tableRun) describe(ctx context.Context) (*ddbtypes.TableDescription, error) {
	out, err := t.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.opts.Table)})
	var nf *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe table %q: %w", t.opts.Table, err)
	}
	return out.Table, nil
}

func (t *tableRun) sseSpec() *ddbtypes.SSESpecification {
	s := &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms}
	if t.key != nil {
		// As given: DynamoDB accepts a key ID, key ARN, alias name or
		// alias ARN and resolves it itself.
		s.KMSMasterKeyId = aws.String(t.key.input)
	}
	return s
}

func (t *tableRun) tagList() []ddbtypes.Tag {
	var tags []ddbtypes.Tag
	for _, kv := range wantTags(t.opts.App) {
		tags = append(tags, ddbtypes.Tag{Key: aws.String(kv.Key), Value: aws.String(kv.Value)})
	}
	return tags
}

func (t *tableRun) create(ctx context.Context) (*ddbtypes.TableDescription, error) {
	_, err := t.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:                 aws.String(t.opts.Table),
		AttributeDefinitions:      []ddbtypes.AttributeDefinition{{AttributeName: aws.String(lockKey), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:                 []ddbtypes.KeySchemaElement{{AttributeName: aws.String(lockKey), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:               ddbtypes.BillingModePayPerRequest,
		SSESpecification:          t.sseSpec(),
		DeletionProtectionEnabled: aws.Bool(true),
		Tags:                      t.tagList(),
	})
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		// Created concurrently: verify it like any existing table.
		t.opts.Logger.Info("lock table appeared while creating it; verifying it", "table", t.opts.Table)
	case err != nil:
		return nil, fmt.Errorf("create table %q: %w", t.opts.Table, err)
	default:
		t.created = true
		t.rep.Created = true
		t.settle(Change{Setting: SettingTable, Action: ActionCreated, Found: "absent", Wanted: t.opts.Table + " in " + t.opts.Region})
	}
	return t.waitActive(ctx)
}

// waitActive waits, with a bound, until the table is ACTIVE. The SDK's
// TableExists waiter retries on every status but ACTIVE; the statuses a
// table does not leave by itself end the wait at once.
func (t *tableRun) waitActive(ctx context.Context) (*ddbtypes.TableDescription, error) {
	w := dynamodb.NewTableExistsWaiter(t.ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 500 * time.Millisecond
		o.MaxDelay = 5 * time.Second
		retryable := o.Retryable
		o.Retryable = func(ctx context.Context, in *dynamodb.DescribeTableInput, out *dynamodb.DescribeTableOutput, err error) (bool, error) {
			if err == nil && out != nil && out.Table != nil {
				if e := t.stuckStatus(out.Table); e != nil {
					return false, e
				}
			}
			return retryable(ctx, in, out, err)
		}
	})
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.opts.Table)}, tableWait)
	if err != nil {
		return nil, fmt.Errorf("wait for table %q to become ACTIVE (up to %s): %w", t.opts.Table, tableWait, err)
	}
	return out.Table, nil
}

// stuckStatus explains a table status that waiting does not end
// (DynamoDB API reference, TableDescription.TableStatus): the table is being
// deleted, or its KMS key is inaccessible (after seven days DynamoDB
// archives the table).
func (t *tableRun) stuckStatus(d *ddbtypes.TableDescription) error {
	switch d.TableStatus {
	case ddbtypes.TableStatusDeleting:
		return fmt.Errorf("table %q is being deleted; wait for the deletion to finish and run bootstrap again", t.opts.Table)
	case ddbtypes.TableStatusInaccessibleEncryptionCredentials:
		return fmt.Errorf("table %q is %s: DynamoDB cannot use its KMS key (disabled, scheduled for deletion, or its key policy or grants "+
			"no longer allow DynamoDB); re-enable the key or restore its permissions, then run bootstrap again", t.opts.Table, d.TableStatus)
	case ddbtypes.TableStatusArchiving, ddbtypes.TableStatusArchived:
		return fmt.Errorf("table %q is %s: DynamoDB archived it because its KMS key stayed inaccessible; restore it from its archival "+
			"backup or choose another --table name", t.opts.Table, d.TableStatus)
	}
	return nil
}

func describeSchema(d *ddbtypes.TableDescription) string {
	types := map[string]string{}
	for _, a := range d.AttributeDefinitions {
		types[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	var parts []string
	for _, k := range d.KeySchema {
		name := aws.ToString(k.AttributeName)
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", name, types[name], k.KeyType))
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, " + ")
}

// update sends one UpdateTable, waits for ACTIVE and reads the table back.
// When the setting did not change, an emulator is assumed to have ignored
// it (kumo applies only TableClass): a visible skip. Against AWS it is an
// error.
func (t *tableRun) update(ctx context.Context, setting, found string, in *dynamodb.UpdateTableInput, applied func(*ddbtypes.TableDescription) bool) error {
	c := Change{Setting: setting, Found: found}
	if t.opts.DryRun {
		c.Action = ActionWouldRepair
		t.settle(c)
		return nil
	}
	in.TableName = aws.String(t.opts.Table)
	if _, err := t.ddb.UpdateTable(ctx, in); err != nil {
		return fmt.Errorf("set %s on table %q: %w", setting, t.opts.Table, err)
	}
	after, err := t.waitActive(ctx)
	if err != nil {
		return err
	}
	if !applied(after) {
		if t.opts.Emulated {
			c.Action, c.Note = ActionSkipped, "the emulator accepted UpdateTable but did not apply "+setting
			t.settle(c)
			return nil
		}
		return fmt.Errorf("table %q: UpdateTable for %s succeeded but the table still reports %s", t.opts.Table, setting, found)
	}
	c.Action = ActionRepaired
	t.settle(c)
	return nil
}

func billingMode(d *ddbtypes.TableDescription) string {
	if d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode != "" {
		return string(d.BillingModeSummary.BillingMode)
	}
	// Tables created before on-demand existed report no summary.
	return string(ddbtypes.BillingModeProvisioned)
}

func (t *tableRun) billing(ctx context.Context, d *ddbtypes.TableDescription) error {
	found := billingMode(d)
	if found == string(ddbtypes.BillingModePayPerRequest) {
		t.settle(Change{Setting: SettingBilling, Found: found, Action: ActionVerified})
		return nil
	}
	return t.update(ctx, SettingBilling, found, &dynamodb.UpdateTableInput{BillingMode: ddbtypes.BillingModePayPerRequest},
		func(d *ddbtypes.TableDescription) bool {
			return billingMode(d) == string(ddbtypes.BillingModePayPerRequest)
		})
}

func sseState(d *ddbtypes.TableDescription) (found, key string, enabled bool) {
	s := d.SSEDescription
	if s == nil || s.Status == "" {
		return "not reported", "", false
	}
	found = string(s.Status)
	if s.SSEType != "" {
		found += " " + string(s.SSEType)
	}
	key = aws.ToString(s.KMSMasterKeyArn)
	if key != "" {
		found += " key " + key
	}
	return found, key, s.Status == ddbtypes.SSEStatusEnabled || s.Status == ddbtypes.SSEStatusEnabling || s.Status == ddbtypes.SSEStatusUpdating
}

// tableKeyOK reports whether the table's encryption satisfies --kms-key-id.
// DynamoDB reports only the key ARN (SSEDescription.KMSMasterKeyArn), never
// the alias a table was created or updated with: it is compared with the ARN
// the alias resolved to, so a table on another key is repaired and one on
// the alias's key is left alone (DynamoDB allows only a few encryption
// changes a day).
func (t *tableRun) tableKeyOK(d *ddbtypes.TableDescription) bool {
	_, key, enabled := sseState(d)
	switch {
	case !enabled:
		return false
	case t.key == nil:
		return true
	}
	return t.key.matches(key)
}

func (t *tableRun) encryption(ctx context.Context, d *ddbtypes.TableDescription) error {
	found, _, _ := sseState(d)
	if t.tableKeyOK(d) {
		t.settle(Change{Setting: SettingEncryption, Found: found, Action: ActionVerified})
		return nil
	}
	if d.SSEDescription == nil && t.opts.Emulated {
		// kumo accepts SSESpecification but never reports SSEDescription.
		t.settle(Change{Setting: SettingEncryption, Found: found, Action: ActionSkipped,
			Note: "the emulator does not report table encryption; on AWS it is verified and repaired"})
		return nil
	}
	// Without SSEDescription AWS encrypts with an AWS-owned key; challengectl
	// wants a KMS key whose use shows in CloudTrail.
	return t.update(ctx, SettingEncryption, found, &dynamodb.UpdateTableInput{SSESpecification: t.sseSpec()}, t.tableKeyOK)
}

func (t *tableRun) deletionProtection(ctx context.Context, d *ddbtypes.TableDescription) error {
	if aws.ToBool(d.DeletionProtectionEnabled) {
		t.settle(Change{Setting: SettingDeletionProtection, Found: "enabled", Action: ActionVerified})
		return nil
	}
	return t.update(ctx, SettingDeletionProtection, "disabled", &dynamodb.UpdateTableInput{DeletionProtectionEnabled: aws.Bool(true)},
		func(d *ddbtypes.TableDescription) bool { return aws.ToBool(d.DeletionProtectionEnabled) })
}

func (t *tableRun) tags(ctx context.Context, d *ddbtypes.TableDescription) error {
	arn := d.TableArn
	current := map[string]string{}
	var next *string
	for page := 0; page < 50; page++ { // bounded: 50 pages of tags is far beyond the 50-tag limit
		out, err := t.ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn, NextToken: next})
		if err != nil {
			return fmt.Errorf("read tags of table %q: %w", t.opts.Table, err)
		}
		for _, tg := range out.Tags {
			current[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	missing, found := missingTags(current, wantTags(t.opts.App))
	c := Change{Setting: SettingTags, Found: found}
	switch {
	case len(missing) == 0:
		c.Action = ActionVerified
	case t.opts.DryRun:
		c.Action = ActionWouldRepair
	default:
		// TagResource adds or overwrites only the keys it is given.
		var tags []ddbtypes.Tag
		for _, m := range missing {
			tags = append(tags, ddbtypes.Tag{Key: aws.String(m.Key), Value: aws.String(m.Value)})
		}
		if _, err := t.ddb.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: tags}); err != nil {
			return fmt.Errorf("tag table %q: %w", t.opts.Table, err)
		}
		c.Action = ActionRepaired
	}
	t.settle(c)
	return nil
}
