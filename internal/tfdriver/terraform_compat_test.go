package tfdriver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
)

// The tests here feed the driver what HashiCorp Terraform (not OpenTofu,
// which every other test runs) prints, as rendered by its source:
// statemgr.LockInfo.String, clistate.LockErrorMessage, format.DiagnosticPlain
// (-no-color, stderr not a terminal: 78 columns) and views/json.

// terraformLockedStderr is `terraform plan -no-color` of a recent release
// when the S3 backend's DynamoDB lock is held (LockErrorMessage with the
// force-unlock hint). Indented lines are never wrapped.
const terraformLockedStderr = `
Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error
StatusCode: 400, RequestID:
5O6NKT0VQ3L2QJ0R8A9S2BVF4NVV4KQNSO5AEMVJF66Q9ASUAAJG,
ConditionalCheckFailedException: The conditional request failed
Lock Info:
  ID:        9db590f1-b6fe-c5f2-2678-8804f089deba
  Path:      acme-tf/challenge-api/prod/terraform.tfstate
  Operation: OperationTypeApply
  Who:       runner@ci-host
  Version:   1.9.8
  Created:   2026-11-26 23:20:44.123456789 +0000 UTC
  Info:      


Terraform acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the "-lock=false"
flag, but this is not recommended.

If the lock didn't release properly, Terraform may not be able to run future
commands since it'll appear as if
the lock is held. In that case please call:
terraform force-unlock
`

// terraformLockedJSON is the same error from `terraform apply -json` (the
// 1.6 message, without the force-unlock hint), preceded by the warning
// Terraform ≥ 1.11 adds for dynamodb_table; a warning is not a failure.
const terraformLockedJSON = `{"@level":"info","@message":"Terraform 1.11.4","@module":"terraform.ui","@timestamp":"2026-11-26T23:21:00.000000Z","terraform":"1.11.4","type":"version","ui":"1.2"}
{"@level":"warn","@message":"Warning: Deprecated Parameter","@module":"terraform.ui","@timestamp":"2026-11-26T23:21:01.000000Z","diagnostic":{"detail":"The parameter \"dynamodb_table\" is deprecated. Use parameter \"use_lockfile\" instead.","severity":"warning","summary":"Deprecated Parameter"},"type":"diagnostic"}
{"@level":"error","@message":"Error: Error acquiring the state lock","@module":"terraform.ui","@timestamp":"2026-11-26T23:21:02.512345Z","diagnostic":{"detail":"Error message: operation error DynamoDB: PutItem, https response error StatusCode: 400, RequestID: 5O6NKT0VQ3L2QJ0R8A9S2BVF4NVV4KQNSO5AEMVJF66Q9ASUAAJG, ConditionalCheckFailedException: The conditional request failed\nLock Info:\n  ID:        9db590f1-b6fe-c5f2-2678-8804f089deba\n  Path:      acme-tf/challenge-api/prod/terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       runner@ci-host\n  Version:   1.9.8\n  Created:   2026-11-26 23:20:44.123456789 +0000 UTC\n  Info:      \n\n\nTerraform acquires a state lock to protect the state from being written\nby multiple users at the same time. Please resolve the issue above and try\nagain. For most commands, you can disable locking with the \"-lock=false\"\nflag, but this is not recommended.","severity":"error","summary":"Error acquiring the state lock"},"type":"diagnostic"}
`

var terraformHolder = LockInfo{ID: "9db590f1-b6fe-c5f2-2678-8804f089deba", Path: "acme-tf/challenge-api/prod/terraform.tfstate",
	Operation: "OperationTypeApply", Who: "runner@ci-host", Version: "1.9.8",
	Created: time.Date(2026, 11, 26, 23, 20, 44, 123456789, time.UTC)}

func checkHolder(t *testing.T, err error) {
	t.Helper()
	le, ok := IsLocked(err)
	if !ok {
		t.Fatalf("want *LockedError, got %T: %v", err, err)
	}
	if !le.Created.Equal(terraformHolder.Created) {
		t.Errorf("Created = %v, want %v", le.Created, terraformHolder.Created)
	}
	got := le.LockInfo
	got.Created = terraformHolder.Created
	if got != terraformHolder {
		t.Errorf("lock info = %+v\nwant %+v", got, terraformHolder)
	}
	if !strings.Contains(le.Error(), "challengectl unlock "+terraformHolder.ID) {
		t.Errorf("message lacks the remedy: %s", le.Error())
	}
}

func TestClassifyLockedTerraformText(t *testing.T) {
	// terraform-exec returns "exit status 1\n" + stderr.
	checkHolder(t, classify(errors.New("exit status 1\n"+terraformLockedStderr), ""))
}

func TestClassifyLockedTerraformJSON(t *testing.T) {
	var progress []string
	ui := &jsonUI{total: 1, log: slog.New(slog.DiscardHandler), progress: func(done, total int) { progress = append(progress, fmt.Sprint(done, "/", total)) }}
	// Written in odd pieces, as a pipe delivers it.
	for s := terraformLockedJSON; s != ""; {
		n := min(len(s), 97)
		if _, err := ui.Write([]byte(s[:n])); err != nil {
			t.Fatal(err)
		}
		s = s[n:]
	}
	ui.flush()
	if strings.Contains(ui.diagnostics.String(), "Deprecated") {
		t.Errorf("a warning was kept as an error: %s", ui.diagnostics.String())
	}
	if len(progress) != 0 {
		t.Errorf("progress = %v", progress)
	}
	// terraform-exec's error carries only stderr, empty with -json.
	checkHolder(t, classify(errors.New("exit status 1\n"), ui.diagnostics.String()))
}

// TestTerraformApplyProgress reads the sample `terraform apply -json` of
// HashiCorp's "Machine-readable UI" reference: one apply_complete per
// finished resource operation; planned_change, change_summary, apply_start
// and outputs messages count nothing.
func TestTerraformApplyProgress(t *testing.T) {
	const stream = `{"@level":"info","@message":"Terraform 0.15.4","@module":"terraform.ui","@timestamp":"2021-05-25T13:32:41.275359-04:00","terraform":"0.15.4","type":"version","ui":"0.1.0"}
{"@level":"info","@message":"random_pet.animal: Plan to create","@module":"terraform.ui","@timestamp":"2021-05-25T13:32:41.705503-04:00","change":{"resource":{"addr":"random_pet.animal","module":"","resource":"random_pet.animal","implied_provider":"random","resource_type":"random_pet","resource_name":"animal","resource_key":null},"action":"create"},"type":"planned_change"}
{"@level":"info","@message":"Plan: 1 to add, 0 to change, 0 to destroy.","@module":"terraform.ui","@timestamp":"2021-05-25T13:32:41.705638-04:00","changes":{"add":1,"change":0,"remove":0,"operation":"plan"},"type":"change_summary"}
{"@level":"info","@message":"random_pet.animal: Creating...","@module":"terraform.ui","@timestamp":"2021-05-25T13:32:41.825308-04:00","hook":{"resource":{"addr":"random_pet.animal","module":"","resource":"random_pet.animal","implied_provider":"random","resource_type":"random_pet","resource_name":"animal","resource_key":null},"action":"create"},"type":"apply_start"}
{"@level":"info","@message":"random_pet.animal: Creation complete after 0s [id=smart-lizard]","@module":"terraform.ui","@timestamp":"2021-05-25T13:32:41.826179-04:00","hook":{"resource":{"addr":"random_pet.animal","module":"","resource":"random_pet.animal","implied_provider":"random","resource_type":"random_pet","resource_name":"animal","resource_key":null},"action":"create","id_key":"id","id_value":"smart-lizard","elapsed_seconds":0},"type":"apply_complete"}
{"@level":"info","@message":"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.","@module":"terraform.ui","@timestamp":"2021-05-25T13:32:41.869168-04:00","changes":{"add":1,"change":0,"remove":0,"operation":"apply"},"type":"change_summary"}
{"@level":"info","@message":"Outputs: 1","@module":"terraform.ui","@timestamp":"2021-05-25T13:32:41.869280-04:00","outputs":{"pets":{"sensitive":false,"type":"string","value":"smart-lizard"}},"type":"outputs"}
`
	var progress []string
	ui := &jsonUI{total: 1, log: slog.New(slog.DiscardHandler), progress: func(done, total int) { progress = append(progress, fmt.Sprint(done, "/", total)) }}
	if _, err := ui.Write([]byte(stream)); err != nil {
		t.Fatal(err)
	}
	ui.flush()
	if strings.Join(progress, " ") != "1/1" || ui.diagnostics.Len() != 0 {
		t.Errorf("progress = %v, diagnostics = %q", progress, ui.diagnostics.String())
	}
}

// TestOutputsTerraform115Warning: Terraform 1.15.0 and 1.15.1 print the S3
// backend's dynamodb_table deprecation warning on stdout after the JSON of
// `output -json` (hashicorp/terraform#38484, #38512; fixed by #38487).
// terraform-exec decodes the first JSON value only, so the outputs still read.
func TestOutputsTerraform115Warning(t *testing.T) {
	const stdout = `{
  "api_url": {
    "sensitive": false,
    "type": "string",
    "value": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
  }
}
╷
│ Warning: Deprecated Parameter
│ 
│ The parameter "dynamodb_table" is deprecated. Use parameter "use_lockfile"
│ instead.
╵`
	bin := fakeTerraform(t, t.TempDir(), "terraform", stdout)
	d, err := New(Config{
		Binary:     &Binary{Path: bin, Version: version.Must(version.NewVersion("1.15.0"))},
		WorkingDir: t.TempDir(), Stage: "prod", Backend: awsBackend, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := d.Outputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs["api_url"].String() != "https://abc123.execute-api.eu-west-1.amazonaws.com/prod" {
		t.Errorf("outputs = %+v", outs)
	}
}
