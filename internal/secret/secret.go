// Package secret keeps the API key out of output, logs and files unless the
// user asks for it.
package secret

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Mask shows the first 4 characters of a secret followed by "…". Secrets of
// 8 characters or fewer are masked entirely, since 4 characters would be half
// of them.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	if utf8.RuneCountInString(s) <= 8 {
		return "…"
	}
	r := []rune(s)
	return string(r[:4]) + "…"
}

// Display returns the secret itself when reveal is set, else its mask.
func Display(s string, reveal bool) string {
	if reveal {
		return s
	}
	return Mask(s)
}

// GitHubMask registers the secret with GitHub Actions (`::add-mask::`) so the
// runner redacts it from every later log line. It must run before anything
// else prints the value; it does nothing outside Actions.
func GitHubMask(w io.Writer, getenv func(string) string, s string) {
	if s == "" || getenv("GITHUB_ACTIONS") != "true" {
		return
	}
	// A multi-line value must be masked line by line.
	for _, line := range strings.Split(s, "\n") {
		if line != "" {
			fmt.Fprintf(w, "::add-mask::%s\n", line)
		}
	}
}
