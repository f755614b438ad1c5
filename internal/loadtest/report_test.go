package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHTMLReportSelfContained(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.WriteHeader(429)
			return
		}
		okHandler(w, r)
	}))
	defer srv.Close()
	const key = "report-key-0123456789"
	res, err := Run(context.Background(), Options{URL: srv.URL + "/prod", APIKey: key, Requests: 300, Concurrency: 5, Retry429: 1, RetryBackoff: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTMLReport(&b, res); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, key) {
		t.Error("the report contains the API key")
	}
	// Nothing is fetched from elsewhere: no script, no external src/href,
	// no CSS import or url().
	for _, re := range []string{`<script`, `(?i)\bsrc=`, `(?i)\bhref=`, `@import`, `url\(`} {
		if regexp.MustCompile(re).MatchString(page) {
			t.Errorf("report matches %s: not self-contained", re)
		}
	}
	for _, want := range []string{"<svg", "Status codes over time", "Latency distribution", ">p99<", "#f59e0b", "#10b981", "Retries (max 1)"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// One bar per (bucket, status) with a count in its tooltip; all sends accounted for.
	total := 0
	for _, m := range regexp.MustCompile(`: (\d+) × (200|429)</title>`).FindAllStringSubmatch(page, -1) {
		var c int
		for _, d := range m[1] {
			c = c*10 + int(d-'0')
		}
		total += c
	}
	if total != res.Throttle.Sends {
		t.Errorf("status bars add up to %d sends, want %d", total, res.Throttle.Sends)
	}
}

func TestHTMLReportEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTMLReport(&b, &Result{StatusCounts: map[int]int{}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "</html>") {
		t.Error("no page for an empty result")
	}
}
