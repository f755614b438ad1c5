package statebackend

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// SettingOwner is the bucket owner condition: every call on the bucket
// carries ExpectedBucketOwner set to the caller's account.
const SettingOwner = "owner"

// callerAccount returns the AWS account ID of the credentials in use. Bucket
// names are global and S3 lets a role use another account's bucket once that
// account grants it access: without the bucket owner condition, a name
// collision would have bootstrap "repair" (rewrite the policy, encryption,
// tags of) someone else's bucket. With ExpectedBucketOwner S3 answers 403
// instead (S3 user guide, "Verifying bucket ownership with bucket owner
// condition"), so the account must be known before the first bucket call.
//
// It returns "" only for an emulator that does not implement STS, after
// recording a visible skip; against AWS every failure is an error, before
// anything is created.
func callerAccount(ctx context.Context, cfg aws.Config, o Options, rep *Report, endpoint string) (string, error) {
	// Credentials first: "none configured" is the commonest failure and
	// deserves its own message rather than the SDK's chain of providers.
	if cfg.Credentials == nil {
		return "", errors.New("no AWS credentials are configured: set AWS_PROFILE (and run aws sso login if the profile uses SSO), " +
			"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; nothing was created")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", fmt.Errorf("cannot load AWS credentials: set AWS_PROFILE (and run aws sso login if the profile uses SSO), "+
			"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; nothing was created: %w", err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil && aws.ToString(out.Account) != "" {
		o.Logger.Debug("bucket owner condition", "account", aws.ToString(out.Account), "identity", aws.ToString(out.Arn))
		return aws.ToString(out.Account), nil
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return "", err
		}
		var se *smithyhttp.RequestSendError
		if errors.As(err, &se) {
			return "", &EndpointError{Service: "STS", Endpoint: endpoint, Err: se.Err}
		}
	}
	if o.Emulated && emulatorAnswered(err) && !credentialsRefused(err) {
		// The emulator answered, but not as STS does: it lacks the action.
		// Bucket calls then go without the condition, visibly; an emulator
		// holds one account's buckets anyway.
		why := "it answered without an account ID"
		var de *smithy.DeserializationError
		switch {
		case errors.As(err, &de):
			why = "it answered with a body that is not an STS response"
		case err != nil:
			why = fmt.Sprintf("it answered HTTP %d %s", httpStatus(err), errorCode(err))
		}
		record(rep, o.Logger, Change{Resource: "bucket", Setting: SettingOwner, Action: ActionSkipped,
			Wanted: "every bucket call sent with ExpectedBucketOwner set to your account",
			Note: "the emulator does not implement sts:GetCallerIdentity, so bucket calls are sent without ExpectedBucketOwner; " +
				"on AWS the bucket owner is always checked (" + why + ")"})
		return "", nil
	}
	if err == nil {
		err = errors.New("the answer has no account ID")
	}
	return "", fmt.Errorf("cannot identify the AWS account of the credentials in use (sts:GetCallerIdentity), "+
		"which challengectl needs to make sure bucket %q belongs to that account before changing it; "+
		"check that the credentials are valid and not expired (aws sts get-caller-identity) and that STS is reachable "+
		"in region %s; nothing was created: %w", o.Bucket, o.Region, err)
}

// emulatorAnswered reports whether a failed call got an answer from the
// endpoint (an error status or a body that is not the operation's), as
// opposed to failing on this side. A nil error is an answer too.
func emulatorAnswered(err error) bool {
	if err == nil {
		return true
	}
	var re *smithyhttp.ResponseError
	var de *smithy.DeserializationError
	return errors.As(err, &re) || errors.As(err, &de)
}

// credentialsRefused reports whether STS rejected the credentials themselves:
// an emulator that says so implements the action, and would refuse the same
// credentials on S3 too.
func credentialsRefused(err error) bool {
	return hasCode(err, "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch",
		"IncompleteSignature", "MissingAuthenticationToken", "UnrecognizedClientException", "AccessDenied")
}
