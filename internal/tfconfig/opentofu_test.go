package tfconfig

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/challengectl/challengectl/internal/testtools"
)

// TestValidationsAgreeWithOpenTofu is a differential test of three things:
// the good/bad value table the checker uses, the real variable validations
// as OpenTofu evaluates them (`tofu plan` on a copy of variables.tf, which
// needs no provider), and CheckValues. For every value of the table, all
// three must agree on accept or reject.
func TestValidationsAgreeWithOpenTofu(t *testing.T) {
	tofu := testtools.Path(t, "tofu")
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(treeDir(t), "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "variables.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(tofu, args...)
		cmd.Dir = dir
		// Hermetic: no user CLI config, no checkpoint calls.
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null", "HOME="+home, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil && stdout.Len() == 0 {
			t.Logf("tofu %v: %s", args, stderr.String())
		}
		return stdout.Bytes(), err
	}
	if _, err := run("init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("tofu init: %v", err)
	}
	vars, err := Variables(dir)
	if err != nil {
		t.Fatal(err)
	}
	byLine := map[int]string{}
	for _, v := range vars {
		byLine[v.Pos.Line] = v.Name
	}
	base := map[string]any{
		"region":           "us-east-1",
		"package_zip":      "dist/package.zip",
		"source_code_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	}
	// Round i sets every variable to the i-th value of its bad-then-good
	// list, so a dozen plans cover the whole table.
	checked := 0
	for i := 0; ; i++ {
		values := map[string]any{}
		for k, v := range base {
			values[k] = v
		}
		wantBad := map[string]bool{}
		for _, tc := range validationCases {
			all := append(append([]any{}, tc.bad...), tc.good...)
			if i < len(all) {
				values[tc.name] = all[i]
				wantBad[tc.name] = i < len(tc.bad)
			}
		}
		if len(wantBad) == 0 {
			break
		}
		raw, _ := json.Marshal(values)
		varFile := filepath.Join(dir, "round.tfvars.json")
		if err := os.WriteFile(varFile, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := run("plan", "-input=false", "-no-color", "-lock=false", "-json", "-var-file="+varFile)
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("tofu plan: %v", err)
		}
		tofuBad := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var msg struct {
				Type       string `json:"type"`
				Diagnostic struct {
					Severity string `json:"severity"`
					Summary  string `json:"summary"`
					Range    struct {
						Start struct{ Line int } `json:"start"`
					} `json:"range"`
				} `json:"diagnostic"`
			}
			if json.Unmarshal(sc.Bytes(), &msg) != nil || msg.Type != "diagnostic" || msg.Diagnostic.Severity != "error" {
				continue
			}
			name, ok := byLine[msg.Diagnostic.Range.Start.Line]
			if !ok {
				t.Fatalf("round %d: tofu error not on a variable: %s", i, sc.Text())
			}
			tofuBad[name] = true
		}
		oursBad := map[string]bool{}
		var ve *ValuesError
		if err := CheckValues(dir, values); errors.As(err, &ve) {
			for _, p := range ve.Problems {
				oursBad[p.Variable] = true
			}
		} else if err != nil {
			t.Fatal(err)
		}
		if (err == nil) != (len(tofuBad) == 0) {
			t.Errorf("round %d: tofu plan exit %v but %d variables rejected", i, err, len(tofuBad))
		}
		for name, bad := range wantBad {
			checked++
			if tofuBad[name] != bad {
				t.Errorf("var.%s = %#v: OpenTofu rejects=%v, the table says bad=%v", name, values[name], tofuBad[name], bad)
			}
			if oursBad[name] != bad {
				t.Errorf("var.%s = %#v: CheckValues rejects=%v, the table says bad=%v", name, values[name], oursBad[name], bad)
			}
		}
	}
	if checked < 40 {
		t.Fatalf("only %d values checked; the table shrank", checked)
	}
	t.Logf("%d values: OpenTofu, CheckValues and the table agree", checked)
}
