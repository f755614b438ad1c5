package tfdriver

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// lockedOutput is what OpenTofu 1.10 prints when the S3 backend's lock is held.
const lockedOutput = `
Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error
StatusCode: 400, RequestID: 1, ConditionalCheckFailedException: The
conditional request failed
Lock Info:
  ID:        5c3b1c1e-0f1d-2b8e-9a41-0d2b4c6e8f10
  Path:      acme-tf/challenge-api/prod/terraform.tfstate
  Operation: OperationTypeApply
  Who:       runner@ci-host
  Version:   1.10.10
  Created:   2026-11-26 23:20:44.123456789 +0000 UTC
  Info:      

OpenTofu acquires a state lock to protect the state from being written
by multiple users at the same time.
`

func TestClassifyLocked(t *testing.T) {
	err := classify(errors.New("exit status 1"), lockedOutput)
	le, ok := IsLocked(err)
	if !ok {
		t.Fatalf("want *LockedError, got %T", err)
	}
	want := LockInfo{ID: "5c3b1c1e-0f1d-2b8e-9a41-0d2b4c6e8f10", Path: "acme-tf/challenge-api/prod/terraform.tfstate",
		Operation: "OperationTypeApply", Who: "runner@ci-host", Version: "1.10.10",
		Created: time.Date(2026, 11, 26, 23, 20, 44, 123456789, time.UTC)}
	if !le.Created.Equal(want.Created) {
		t.Errorf("Created = %v, want %v", le.Created, want.Created)
	}
	le.Created = want.Created
	if le.LockInfo != want {
		t.Errorf("lock info = %+v\nwant %+v", le.LockInfo, want)
	}
	msg := le.Error()
	for _, s := range []string{"runner@ci-host", "OperationTypeApply", "2026-11-26T23:20:44Z", "challengectl unlock 5c3b1c1e-0f1d-2b8e-9a41-0d2b4c6e8f10", "--lock-timeout"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message lacks %q: %s", s, msg)
		}
	}
	// Anything else stays as it was.
	other := errors.New("exit status 1\nError: Invalid value for variable")
	if got := classify(other, ""); got != other {
		t.Errorf("classify changed an unrelated error: %v", got)
	}
}

func TestErrorMessagesSayWhatToDo(t *testing.T) {
	nf := (&NotFoundError{Tried: []string{"terraform on PATH", "tofu on PATH"}}).Error()
	for _, s := range []string{"terraform on PATH", "https://developer.hashicorp.com/terraform/install", "opentofu.org", "--terraform-bin"} {
		if !strings.Contains(nf, s) {
			t.Errorf("NotFoundError lacks %q: %s", s, nf)
		}
	}
	ve := (&VersionError{Path: "/usr/bin/terraform", Version: "1.5.7"}).Error()
	if !strings.Contains(ve, "1.5.7") || !strings.Contains(ve, "≥ 1.6.0") {
		t.Errorf("VersionError: %s", ve)
	}
	ae := (&AdoptError{FunctionName: "challenge-api-prod", ImportArgs: []string{"terraform", "import", "a.b", "challenge-api-prod"}}).Error()
	if !strings.Contains(ae, "challengectl deploy --adopt") || !strings.Contains(ae, "terraform import a.b challenge-api-prod") || !strings.Contains(ae, "409") {
		t.Errorf("AdoptError: %s", ae)
	}
}

func TestClassifyBackend(t *testing.T) {
	b := Backend{Bucket: "acme-tf", Table: "acme-lock", Region: "eu-west-1"}
	cases := map[string]string{
		"Error: Failed to get existing workspaces: S3 bucket does not exist.\nNoSuchBucket":                             "challengectl bootstrap --bucket acme-tf --table acme-lock",
		"operation error S3: ListObjectsV2, https response error StatusCode: 403, RequestID: x, api error AccessDenied": "s3:ListBucket",
		"operation error DynamoDB: PutItem, ResourceNotFoundException: Requested resource not found":                    "lock table acme-lock does not exist",
	}
	for text, want := range cases {
		err := classifyBackend(errors.New("exit status 1"), text, b)
		var be *BackendError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want a BackendError with %q", text, err, want)
		}
	}
	if err := classifyBackend(errors.New("exit status 1"), "Error: Invalid reference", b); err != nil {
		t.Errorf("unrelated error classified: %v", err)
	}
}
