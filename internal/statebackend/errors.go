package statebackend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// BucketAccessError: the bucket exists but this identity may not use it,
// either because another account owns it or because the role lacks
// permissions.
type BucketAccessError struct {
	Bucket string
	// OwnedByOther is true when S3 said so (BucketAlreadyExists on create,
	// or the bucket missing from this account's bucket list).
	OwnedByOther bool
	// ExpectedOwner is the account sent as ExpectedBucketOwner with the
	// refused call, "" when none was: S3 then answers 403 for another
	// account's bucket even when that account has granted this role access.
	ExpectedOwner string
	Err           error
}

func (e *BucketAccessError) Error() string {
	if e.OwnedByOther {
		return fmt.Sprintf("bucket %q already exists and is owned by another AWS account: bucket names are global, "+
			"so choose another --bucket name (check that you are using the intended account and bucket name)", e.Bucket)
	}
	if e.ExpectedOwner != "" {
		return fmt.Sprintf("bucket %q exists but access is denied (403) with the bucket owner condition set to your account %s: "+
			"either the bucket belongs to another AWS account (bucket names are global, and challengectl never changes a bucket "+
			"it does not own, even one it was granted access to), or the role in use lacks s3:ListBucket/s3:GetBucket* permissions on it; "+
			"check which account your credentials belong to (aws sts get-caller-identity), the bucket name (choose another --bucket "+
			"if the name is taken), and the role's permissions: %v", e.Bucket, e.ExpectedOwner, e.Err)
	}
	return fmt.Sprintf("bucket %q exists but access is denied (403): either another AWS account owns it, "+
		"or the role in use lacks s3:ListBucket/s3:GetBucket* permissions on it; check the role's permissions, "+
		"the bucket name and which account your credentials belong to: %v", e.Bucket, e.Err)
}

func (e *BucketAccessError) Unwrap() error { return e.Err }

// BucketRegionError: the bucket exists in another region than the one asked for.
type BucketRegionError struct {
	Bucket, Region, Want string
}

func (e *BucketRegionError) Error() string {
	return fmt.Sprintf("bucket %q is in region %s, not %s: run with --region %s, or choose another --bucket name",
		e.Bucket, e.Region, e.Want, e.Region)
}

// TableSchemaError: the lock table exists with a key schema Terraform's S3
// backend cannot use. challengectl never drops or recreates a table.
type TableSchemaError struct {
	Table string
	Found string
}

func (e *TableSchemaError) Error() string {
	return fmt.Sprintf("table %q has the key schema %s, but Terraform's lock table needs exactly one string (S) hash key named LockID; "+
		"challengectl never drops or recreates a table: choose another --table name, or fix or delete the table yourself",
		e.Table, e.Found)
}

// EndpointError: the AWS endpoint could not be reached at all.
type EndpointError struct {
	Service  string // "STS", "KMS", "S3" or "DynamoDB"
	Endpoint string // the --endpoint-url, or "AWS" when none
	Err      error
}

func (e *EndpointError) Error() string {
	hint := "check your network, proxy and VPC endpoint settings"
	if e.Endpoint != "AWS" {
		hint = "check that the emulator is running and that --endpoint-url is right"
	}
	return fmt.Sprintf("cannot reach %s at %s (%s): %v", e.Service, e.Endpoint, hint, e.Err)
}

func (e *EndpointError) Unwrap() error { return e.Err }

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status code of a failed call, or 0.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// responseHeader returns a header of a failed call's response.
func responseHeader(err error, name string) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

func hasCode(err error, codes ...string) bool {
	c := errorCode(err)
	for _, want := range codes {
		if strings.EqualFold(c, want) {
			return true
		}
	}
	return false
}

// endpointError turns "could not send the request" into an EndpointError.
func endpointError(service, endpoint string, err error) error {
	// Ctrl-C or a deadline is not an unreachable endpoint.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return &EndpointError{Service: service, Endpoint: endpoint, Err: se.Err}
	}
	return err
}
