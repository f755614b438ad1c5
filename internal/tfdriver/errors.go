package tfdriver

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MinVersion is the oldest Terraform (or OpenTofu) release the driver
// accepts: S3 backend `endpoints`, `use_path_style` and `plan -out` + `show
// -json` behave as the driver expects from 1.6 on.
const MinVersion = "1.6.0"

// NotFoundError reports that no usable Terraform binary could be found or
// installed. Its message says how to install one.
type NotFoundError struct {
	Tried []string // where the driver looked, in order
	Err   error    // the last failure (for example the download error)
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("no Terraform or OpenTofu binary found")
	if len(e.Tried) > 0 {
		b.WriteString(" (tried " + strings.Join(e.Tried, "; ") + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	b.WriteString(". Install Terraform ≥ " + MinVersion + " (https://developer.hashicorp.com/terraform/install) or OpenTofu (https://opentofu.org/docs/intro/install/) and put it on PATH, or pass --terraform-bin PATH")
	return b.String()
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// VersionError reports a binary older than MinVersion, or one whose version
// could not be read.
type VersionError struct {
	Path    string
	Version string // empty when it could not be read
	Err     error
}

func (e *VersionError) Error() string {
	if e.Version == "" {
		return fmt.Sprintf("cannot read the version of %s: %v (is it Terraform or OpenTofu?)", e.Path, e.Err)
	}
	return fmt.Sprintf("%s is version %s, but challengectl needs Terraform or OpenTofu ≥ %s; upgrade it or pass --terraform-bin with a newer one",
		e.Path, e.Version, MinVersion)
}

func (e *VersionError) Unwrap() error { return e.Err }

// LockInfo is the holder of a state lock, as Terraform records it in the
// DynamoDB lock item (`Info` attribute) and prints in its lock error.
type LockInfo struct {
	ID        string    `json:"ID"`
	Path      string    `json:"Path"`
	Operation string    `json:"Operation"`
	Who       string    `json:"Who"`
	Version   string    `json:"Version"`
	Created   time.Time `json:"Created"`
	Info      string    `json:"Info"`
}

// LockedError reports that another run holds the state lock.
type LockedError struct {
	LockInfo
	Err error // Terraform's own error, for -v
}

func (e *LockedError) Error() string {
	var b strings.Builder
	b.WriteString("the Terraform state is locked")
	if e.Who != "" {
		b.WriteString(" by " + e.Who)
	}
	if e.Operation != "" {
		b.WriteString(" (" + e.Operation + ")")
	}
	if !e.Created.IsZero() {
		b.WriteString(fmt.Sprintf(" since %s (%s ago)", e.Created.UTC().Format(time.RFC3339), time.Since(e.Created).Round(time.Second)))
	}
	if e.Path != "" {
		b.WriteString(", lock " + e.Path)
	}
	b.WriteString(". If that run is still going, wait for it or retry with a longer --lock-timeout; if it crashed, release the lock with: challengectl unlock")
	if e.ID != "" {
		b.WriteString(" " + e.ID)
	}
	return b.String()
}

func (e *LockedError) Unwrap() error { return e.Err }

// GuardError reports a plan that would create or replace a guarded resource
// (the Lambda function, the REST API) while the state already holds
// resources: on a live stage that is an outage and a new URL or a 409, never
// what a routine deploy should do.
type GuardError struct {
	Changes []GuardedChange
}

// GuardedChange is one guarded resource the plan wants to (re)create.
type GuardedChange struct {
	Address string
	Action  string // "create" or "replace"
	Reason  string // Terraform's replace reason or the attributes forcing it, when known
}

func (e *GuardError) Error() string {
	parts := make([]string, 0, len(e.Changes))
	for _, c := range e.Changes {
		s := c.Action + " " + c.Address
		if c.Reason != "" {
			s += " (" + c.Reason + ")"
		}
		parts = append(parts, s)
	}
	return "refusing to apply: the state already holds resources but the plan would " + strings.Join(parts, ", ") +
		". Recreating the function or the REST API on a live stage changes its identity (new API URL, lost key association, or a 409 when the old one still exists). " +
		"Check the plan with --plan-only; if the replacement is intended, pass --allow-replace"
}

// AdoptError reports that the function exists in AWS but not in the state:
// applying would fail with 409 ResourceConflictException on CreateFunction.
type AdoptError struct {
	FunctionName string
	Address      string
	ImportArgs   []string // the equivalent terraform import argv
}

func (e *AdoptError) Error() string {
	return fmt.Sprintf("the Lambda function %s already exists in AWS but is not in the Terraform state, so creating it would fail with 409 (ResourceConflictException). "+
		"Adopt it with: challengectl deploy --adopt (or import it yourself: %s)", e.FunctionName, strings.Join(e.ImportArgs, " "))
}

// BackendError reports a state backend Terraform cannot use: the bucket or
// table is missing, or the credentials may not read it (the seed's 403).
type BackendError struct {
	Bucket, Table string
	Problem       string
	Fix           string
	Err           error
}

func (e *BackendError) Error() string {
	return fmt.Sprintf("state backend: %s. %s", e.Problem, e.Fix)
}

func (e *BackendError) Unwrap() error { return e.Err }

// classifyBackend recognises the backend failures worth a remedy.
func classifyBackend(err error, text string, b Backend) error {
	boot := fmt.Sprintf("create it with: challengectl bootstrap --bucket %s --table %s", b.Bucket, b.Table)
	switch {
	case strings.Contains(text, "NoSuchBucket") || strings.Contains(text, "S3 bucket does not exist"):
		return &BackendError{Bucket: b.Bucket, Table: b.Table, Err: err,
			Problem: fmt.Sprintf("the state bucket %s does not exist (region %s)", b.Bucket, b.Region), Fix: boot}
	case strings.Contains(text, "ResourceNotFoundException") && strings.Contains(text, "DynamoDB"):
		return &BackendError{Bucket: b.Bucket, Table: b.Table, Err: err,
			Problem: fmt.Sprintf("the lock table %s does not exist (region %s)", b.Table, b.Region), Fix: boot}
	case strings.Contains(text, "StatusCode: 403") || strings.Contains(text, "AccessDenied"):
		return &BackendError{Bucket: b.Bucket, Table: b.Table, Err: err,
			Problem: fmt.Sprintf("access denied (403) to the state bucket %s or the lock table %s", b.Bucket, b.Table),
			Fix: "check that the credentials in use (profile, role, region) may s3:ListBucket, s3:GetObject and s3:PutObject on the bucket " +
				"and dynamodb:GetItem, PutItem and DeleteItem on the table; a bucket owned by another account also answers 403"}
	}
	return nil
}

// lockInfoLine matches the "Lock Info:" block Terraform and OpenTofu print
// when they cannot acquire the state lock.
var lockInfoLine = regexp.MustCompile(`^\s*(ID|Path|Operation|Who|Version|Created|Info):\s*(.*?)\s*$`)

// classify turns the text of a failed Terraform run into a typed error. It
// is the one place where Terraform's messages are matched; everything else
// uses errors.As.
func classify(err error, output string) error {
	if err == nil {
		return nil
	}
	text := output + "\n" + err.Error()
	if strings.Contains(text, "Error acquiring the state lock") || strings.Contains(text, "ConditionalCheckFailedException") && strings.Contains(text, "Lock Info") {
		le := &LockedError{Err: err}
		parseLockInfo(text, &le.LockInfo)
		return le
	}
	return err
}

func parseLockInfo(text string, li *LockInfo) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "Lock Info:") {
			in = true
			continue
		}
		if !in {
			continue
		}
		m := lockInfoLine.FindStringSubmatch(line)
		if m == nil {
			if strings.TrimSpace(line) == "" && li.ID != "" {
				break
			}
			continue
		}
		switch m[1] {
		case "ID":
			li.ID = m[2]
		case "Path":
			li.Path = m[2]
		case "Operation":
			li.Operation = m[2]
		case "Who":
			li.Who = m[2]
		case "Version":
			li.Version = m[2]
		case "Created":
			li.Created = parseLockTime(m[2])
		case "Info":
			li.Info = m[2]
		}
	}
}

// parseLockTime reads the Created field in the formats Terraform prints
// (Go's time.Time String) or stores (RFC 3339).
func parseLockTime(s string) time.Time {
	s = strings.TrimSpace(s)
	// time.Time.String appends a monotonic clock reading ("m=+0.1"); drop it.
	if i := strings.Index(s, " m="); i > 0 {
		s = s[:i]
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999 +0000 UTC"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// IsLocked reports whether err is a LockedError and returns it.
func IsLocked(err error) (*LockedError, bool) {
	var le *LockedError
	ok := errors.As(err, &le)
	return le, ok
}
