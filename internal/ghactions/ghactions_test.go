package ghactions

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestOutputsSummaryAndMask(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       filepath.Join(dir, "out"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	var log bytes.Buffer
	r := Runner{Getenv: func(k string) string { return env[k] }, Log: &log}
	r.Mask("abcdefghijklmnop")
	if log.String() != "::add-mask::abcdefghijklmnop\n" {
		t.Fatalf("mask: %q", log.String())
	}
	if err := r.SetOutput("api_url", "http://x/prod"); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	if !regexp.MustCompile(`(?s)^api_url<<(ghadelimiter_[0-9a-f]+)\nhttp://x/prod\n(ghadelimiter_[0-9a-f]+)\n$`).Match(out) {
		t.Fatalf("output file: %q", out)
	}
	if err := r.AppendSummary("## ok"); err != nil {
		t.Fatal(err)
	}
	sum, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if string(sum) != "## ok\n" {
		t.Fatalf("summary: %q", sum)
	}
}

func TestDisabledOutsideActions(t *testing.T) {
	var log bytes.Buffer
	r := Runner{Getenv: func(string) string { return "" }, Log: &log}
	r.Mask("secretsecret")
	if err := r.SetOutput("a", "b"); err != nil || log.Len() != 0 {
		t.Fatalf("err=%v log=%q", err, log.String())
	}
}
