package secret

import (
	"bytes"
	"testing"
)

func TestMask(t *testing.T) {
	cases := map[string]string{
		"":                               "",
		"short":                          "…",
		"abcdefgh":                       "…",
		"abcdefghijklmnopqrstuvwxyz0123": "abcd…",
		"ééééééééé":                      "éééé…",
	}
	for in, want := range cases {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if Display("abcdefghijk", true) != "abcdefghijk" || Display("abcdefghijk", false) != "abcd…" {
		t.Error("Display does not honour reveal")
	}
}

func TestGitHubMask(t *testing.T) {
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	var buf bytes.Buffer
	GitHubMask(&buf, func(k string) string { return env[k] }, "s3cr3tvalue")
	if buf.String() != "::add-mask::s3cr3tvalue\n" {
		t.Fatalf("got %q", buf.String())
	}
	buf.Reset()
	GitHubMask(&buf, func(string) string { return "" }, "s3cr3tvalue")
	if buf.Len() != 0 {
		t.Fatalf("masked outside Actions: %q", buf.String())
	}
}
