package statebackend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/challengectl/challengectl/internal/clierr"
)

// SettingKMSKey is the KMS key of --kms-key-id (Change.Resource and
// Change.Setting): looked up with kms:DescribeKey before anything is created.
const SettingKMSKey = "kms-key"

const kmsKeyFlag = "--kms-key-id"

// kmsKey is --kms-key-id and the key it names. The input is what is sent to
// S3 and DynamoDB: S3 keeps the reference as written (an alias stays an
// alias, so re-pointing the alias is honoured for new objects), and DynamoDB
// resolves it itself. arn is what every reported setting is compared with:
// DynamoDB reports only the key ARN, S3 whatever was written.
type kmsKey struct {
	input string // key ID, key ARN, alias name or alias ARN, as given
	// arn is the key's ARN from DescribeKey; "" only on an emulator
	// without KMS, which leaves the static comparison of sameKMSKey.
	arn string
}

// matches reports whether ref, a key reference as S3 stores it (key ID, key
// ARN, alias name or alias ARN, as written by whoever set it) or as DynamoDB
// reports it (the key ARN), names the key of --kms-key-id.
func (k *kmsKey) matches(ref string) bool {
	switch {
	case ref == "":
		return false
	case ref == k.input || ref == k.arn:
		// The same alias as --kms-key-id resolves, in this account and
		// region, to the key DescribeKey has just returned.
		return true
	case k.arn == "":
		return sameKMSKey(ref, k.input)
	}
	canon := k.canonical(ref)
	// Another alias is not looked up: whatever it points to today, it is
	// not what was asked for, and it may be re-pointed.
	return canon == k.arn || (isKMSAlias(k.input) && canon == k.canonical(k.input))
}

// canonical turns a key ID or alias name into the ARN it has in the key's
// account and region (aliases point only to keys of their own account and
// region); ARNs are returned as they are.
func (k *kmsKey) canonical(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	prefix := k.arn[:strings.LastIndex(k.arn, ":")] // arn:PARTITION:kms:REGION:ACCOUNT
	if strings.HasPrefix(ref, "alias/") {
		return prefix + ":" + ref
	}
	return prefix + ":key/" + ref
}

// describe names the key in messages: the input, and the key it resolved to
// when that differs.
func (k *kmsKey) describe() string {
	if k.arn == "" || k.arn == k.input {
		return k.input
	}
	return k.input + " (" + k.arn + ")"
}

// isKMSAlias reports whether a key reference is an alias name or alias ARN.
func isKMSAlias(k string) bool {
	return strings.HasPrefix(k, "alias/") || strings.Contains(k, ":alias/")
}

// sameKMSKey compares two key references without KMS: a key ID with a key
// ARN, an alias name with an alias ARN. It cannot relate an alias to a key,
// so it is used only when the key could not be looked up (an emulator
// without KMS).
func sameKMSKey(stored, want string) bool {
	if stored == want {
		return true
	}
	return strings.HasSuffix(stored, ":key/"+want) || strings.HasSuffix(stored, ":"+want) ||
		strings.HasSuffix(want, ":key/"+stored) || strings.HasSuffix(want, ":"+stored)
}

// validateKMSKeyID checks --kms-key-id without a call: an ARN must be a KMS
// key or alias ARN in region. A key ID or alias name is looked up later.
func validateKMSKeyID(id, region string) error {
	if id == "" {
		return nil
	}
	if strings.ContainsAny(id, " \t\n") {
		return clierr.Usage(kmsKeyFlag, fmt.Sprintf("%q is not a KMS key ID, ARN or alias", id),
			"pass a key ID, a key ARN or alias/NAME")
	}
	if !strings.HasPrefix(id, "arn:") {
		return nil
	}
	a, err := awsarn.Parse(id)
	if err != nil || a.Service != "kms" || !(strings.HasPrefix(a.Resource, "key/") || strings.HasPrefix(a.Resource, "alias/")) {
		return clierr.Usage(kmsKeyFlag, fmt.Sprintf("%q is not a KMS key ARN or alias ARN", id),
			"pass a key ID, a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), alias/NAME or an alias ARN")
	}
	return keyRegionError(id, a.Region, region)
}

// keyRegionError refuses a key of another region: KMS keys are regional, and
// S3 and DynamoDB use a key of their own region only.
func keyRegionError(key, keyRegion, region string) error {
	if keyRegion == region {
		return nil
	}
	return clierr.Usage(kmsKeyFlag, fmt.Sprintf("KMS key %s is in region %s, not in %s, where the bucket and the table are", key, keyRegion, region),
		fmt.Sprintf("S3 and DynamoDB only use a KMS key of their own region: pass a key in %s, where a multi-Region replica of this key will do, "+
			"or run with --region %s; nothing was created", region, keyRegion))
}

// resolveKMSKey looks --kms-key-id up with DescribeKey, after the account
// and before the first bucket or table call: a key that is missing, not
// usable by S3 and DynamoDB, in another region or not readable is a usage
// error with nothing created, rather than a PutBucketEncryption or
// CreateTable failure after the bucket was made. It returns nil without
// --kms-key-id.
func resolveKMSKey(ctx context.Context, cfg aws.Config, o Options, rep *Report, endpoint string) (*kmsKey, error) {
	if o.KMSKeyID == "" {
		return nil, nil
	}
	k := &kmsKey{input: o.KMSKeyID}
	out, err := kms.NewFromConfig(cfg).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(o.KMSKeyID)})
	if err != nil {
		if o.Emulated && emulatorAnswered(err) && !kmsAnswered(err) {
			k.skip(o, rep, fmt.Sprintf("it answered HTTP %d %s", httpStatus(err), errorCode(err)))
			return k, nil
		}
		return nil, k.lookupError(o, endpoint, err)
	}
	var md kmstypes.KeyMetadata
	if out.KeyMetadata != nil {
		md = *out.KeyMetadata
	}
	k.arn = aws.ToString(md.Arn)
	a, perr := awsarn.Parse(k.arn)
	if perr != nil || a.Service != "kms" || !strings.HasPrefix(a.Resource, "key/") {
		if o.Emulated {
			k.arn = ""
			k.skip(o, rep, "it answered without a key ARN")
			return k, nil
		}
		return nil, fmt.Errorf("look up KMS key %q (kms:DescribeKey): the answer has no key ARN (%q); nothing was created", o.KMSKeyID, k.arn)
	}
	if err := k.usable(md); err != nil {
		return nil, err
	}
	c := Change{Resource: SettingKMSKey, Setting: SettingKMSKey, Action: ActionVerified,
		Found:  k.describe() + ", " + string(keyState(md)) + ", " + string(md.KeySpec) + ", customer managed",
		Wanted: "an enabled symmetric encryption customer managed key in " + o.Region}
	if a.Region != o.Region {
		if !o.Emulated {
			return nil, keyRegionError(k.describe(), a.Region, o.Region)
		}
		// An ARN given by the user was checked against --region already;
		// this one is the emulator's. kumo makes every key in one region
		// (its AWS_DEFAULT_REGION) whatever the request's region.
		record(rep, o.Logger, c)
		record(rep, o.Logger, Change{Resource: SettingKMSKey, Setting: SettingRegion, Action: ActionSkipped, Found: a.Region, Wanted: o.Region,
			Note: "the emulator reports key " + k.arn + " in " + a.Region + " for a request in " + o.Region +
				"; on AWS a key in another region than --region is refused"})
		return k, nil
	}
	record(rep, o.Logger, c)
	return k, nil
}

// skip records that the emulator does not implement kms:DescribeKey: the
// key is then sent as given and compared as written.
func (k *kmsKey) skip(o Options, rep *Report, why string) {
	record(rep, o.Logger, Change{Resource: SettingKMSKey, Setting: SettingKMSKey, Action: ActionSkipped,
		Wanted: "an enabled symmetric encryption customer managed key in " + o.Region,
		Note: "the emulator does not implement kms:DescribeKey, so " + k.input + " is sent as given and compared as written; " +
			"on AWS the key is looked up before anything is created (" + why + ")"})
}

// kmsAnswered reports whether a failed DescribeKey was answered by an
// implementation of KMS: its own error codes, or a refusal of the
// credentials (which S3 would refuse too).
func kmsAnswered(err error) bool {
	var nf *kmstypes.NotFoundException
	return errors.As(err, &nf) || credentialsRefused(err) ||
		hasCode(err, "NotFoundException", "AccessDeniedException", "InvalidArnException", "KMSInvalidStateException",
			"DisabledException", "DependencyTimeoutException", "KMSInternalException")
}

// lookupError explains a failed DescribeKey.
func (k *kmsKey) lookupError(o Options, endpoint string, err error) error {
	var nf *kmstypes.NotFoundException
	var ia *kmstypes.InvalidArnException
	var se *smithyhttp.RequestSendError
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &se):
		return &EndpointError{Service: "KMS", Endpoint: endpoint, Err: se.Err}
	case errors.As(err, &nf) || hasCode(err, "NotFoundException"):
		fix := "check the spelling and the region; aws kms list-aliases --region " + o.Region + " lists the aliases; nothing was created"
		if !isKMSAlias(k.input) && !strings.HasPrefix(k.input, "arn:") {
			fix = "an alias needs the alias/ prefix (alias/NAME); " + fix
		}
		return kmsUsageError(fmt.Sprintf("no KMS key or alias %q in region %s for the account in use", k.input, o.Region), fix, err)
	case hasCode(err, "AccessDeniedException", "AccessDenied"):
		return kmsUsageError(fmt.Sprintf("not allowed to look up KMS key %q: the identity in use lacks kms:DescribeKey on it", k.input),
			"allow kms:DescribeKey on the key to the identity running bootstrap, in its IAM policy and in the key policy, "+
				"which must allow it directly or delegate to IAM policies as the default key policy does; bootstrap checks the key "+
				"before creating anything; nothing was created", err)
	case errors.As(err, &ia) || hasCode(err, "InvalidArnException"):
		return kmsUsageError(fmt.Sprintf("%q is not a valid KMS key ARN or alias ARN", k.input),
			"pass a key ID, a key ARN, alias/NAME or an alias ARN; nothing was created", err)
	}
	return fmt.Errorf("look up KMS key %q (kms:DescribeKey) in region %s; nothing was created: %w", k.input, o.Region, err)
}

// kmsUsageError is a usage error naming --kms-key-id that keeps the AWS
// error in the chain (its code and request ID).
func kmsUsageError(msg, fix string, cause error) error {
	return fmt.Errorf("%w: %w", clierr.Usage(kmsKeyFlag, msg, fix), cause)
}

// keyState is the key's state; Enabled, the older flag, stands in when an
// emulator reports no KeyState.
func keyState(md kmstypes.KeyMetadata) kmstypes.KeyState {
	if md.KeyState == "" && md.Enabled {
		return kmstypes.KeyStateEnabled
	}
	return md.KeyState
}

// usable refuses a key S3 and DynamoDB cannot both encrypt with.
func (k *kmsKey) usable(md kmstypes.KeyMetadata) error {
	name := k.describe()
	// S3 SSE-KMS and DynamoDB encryption at rest use symmetric encryption
	// KMS keys only (S3 API reference, "Amazon S3 only supports symmetric
	// encryption KMS keys"; DynamoDB developer guide, encryption at rest).
	if spec := md.KeySpec; spec != kmstypes.KeySpecSymmetricDefault || md.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt {
		return clierr.Usage(kmsKeyFlag,
			fmt.Sprintf("KMS key %s is not a symmetric encryption key (KeySpec %s, KeyUsage %s): S3 SSE-KMS and DynamoDB encryption at rest "+
				"use only symmetric encryption keys (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT)", name, spec, md.KeyUsage),
			"pass a symmetric encryption key, or create one with aws kms create-key, whose defaults are SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT; nothing was created")
	}
	// An AWS managed key (alias/aws/s3, alias/aws/dynamodb) can be used only
	// by the service it belongs to (KMS developer guide, "AWS managed
	// keys"): one of them cannot encrypt both the bucket and the table.
	if md.KeyManager == kmstypes.KeyManagerTypeAws {
		return clierr.Usage(kmsKeyFlag,
			fmt.Sprintf("KMS key %s is an AWS managed key, which only the AWS service it belongs to can use: it cannot encrypt both the bucket and the lock table", name),
			"create a customer managed key with aws kms create-key and aws kms create-alias and pass it, "+
				"or leave --kms-key-id out for SSE-S3 and DynamoDB's default encryption; nothing was created")
	}
	state := keyState(md)
	if state == kmstypes.KeyStateEnabled {
		return nil
	}
	fix := "pass another key"
	switch state {
	case kmstypes.KeyStateDisabled:
		fix = "enable it with aws kms enable-key --key-id " + k.arn + ", or pass another key"
	case kmstypes.KeyStatePendingDeletion, kmstypes.KeyStatePendingReplicaDeletion:
		fix = "cancel its deletion with aws kms cancel-key-deletion --key-id " + k.arn + " and enable it with aws kms enable-key, or pass another key"
	case kmstypes.KeyStatePendingImport:
		fix = "import its key material with aws kms import-key-material, or pass another key"
	case kmstypes.KeyStateUnavailable:
		fix = "its custom key store is disconnected: connect it with aws kms connect-custom-key-store, or pass another key"
	case kmstypes.KeyStateCreating, kmstypes.KeyStateUpdating:
		fix = "wait until it is Enabled and run bootstrap again"
	}
	return clierr.Usage(kmsKeyFlag,
		fmt.Sprintf("KMS key %s is %s (KeyState): S3 and DynamoDB can encrypt only with an Enabled key", name, orNone(string(state))),
		fix+"; nothing was created")
}

func orNone(s string) string {
	if s == "" {
		return "not reported"
	}
	return s
}
