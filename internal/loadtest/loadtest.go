// Package loadtest fires HTTP requests at the API, closed model (a fixed
// number of concurrent clients, each sending as soon as its previous answer
// arrived) or open model (a fixed arrival schedule, N per second), and
// summarises what came back: status codes, latency percentiles, achieved
// rate, and the 429s a token bucket predicts for the same send times next to
// the 429s actually seen.
//
// # Why our own client and not vegeta's attacker
//
// On this 2-core machine, with a trivial loopback server in another process,
// vegeta's library as it comes reaches about 0.87× hey and far less than
// wrk: it builds a request, a Result and a metrics record per hit and ships
// every result through a channel. The closed model here is lean instead:
// each worker owns one pre-built request (reused after its body is closed,
// which net/http allows), calls the tuned keep-alive Transport's RoundTrip
// directly (no redirect or cookie logic), drains the body into io.Discard and
// appends a 24-byte Sample to its own pre-sized slice: no channel, lock or
// shared counter on the hot path. The numbers that justify this are in
// bench/ and in the benchmarks of this package (BenchmarkEngine against
// BenchmarkVegeta in the same run).
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/challengectl/challengectl/internal/limits"
)

// Defaults of CLI.md.
const (
	DefaultRequests     = 200
	DefaultConcurrency  = 50
	DefaultPath         = "/health"
	DefaultRetryBackoff = 100 * time.Millisecond
	// MaxConcurrency bounds the workers of either model: beyond it the
	// client, not the server, is what gets measured.
	MaxConcurrency = 10000
	// MaxRetry429 bounds --retry-429: with exponential backoff, ten retries
	// already wait minutes.
	MaxRetry429 = 10
)

// Options of one load test. Zero values take the defaults of CLI.md.
type Options struct {
	URL    string // base URL of the API, e.g. http://127.0.0.1:8080/prod
	APIKey string // sent as x-api-key; never logged
	Path   string // default /health; may carry a query

	// Requests is the number of requests to send (default 200). With
	// Duration set and Requests 0, the run lasts Duration; with both, it
	// stops at whichever comes first.
	Requests    int
	Concurrency int     // closed model: workers (default 50); open model: initial workers
	Rate        float64 // 0 = closed model; N = open model, N requests per second
	Duration    time.Duration

	// Retry429 retries a request answered 429 up to this many times, with
	// exponential backoff and full jitter starting at RetryBackoff.
	Retry429     int
	RetryBackoff time.Duration

	// Limits configure the token bucket of the throttle prediction; zero
	// fields take limits.Default().
	Limits limits.Limits

	// Progress receives a progress bar (carriage-return redrawn) once the run
	// has lasted more than 2 s; nil draws nothing. Pass stderr only on a TTY.
	Progress io.Writer

	// HTTPClient's Transport is used when set (e.g. for a custom TLS
	// configuration); otherwise a keep-alive Transport sized to the workers.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Sample is one HTTP send: when it left (since the start of the run), how
// long the answer took, and its status (0 when no answer came).
type Sample struct {
	Offset  time.Duration
	Latency time.Duration
	Status  int
	Attempt int // 0 for the first send of a request, n for its n-th retry
}

// Retries reports what --retry-429 did.
type Retries struct {
	Max       int `json:"max"`       // the --retry-429 setting
	Retried   int `json:"retried"`   // requests retried at least once
	Attempts  int `json:"attempts"`  // retry sends in total
	Succeeded int `json:"succeeded"` // retried requests that eventually got a 2xx
	GaveUp    int `json:"gave_up"`   // retried requests still 429 after the last retry
}

// Result of a run. StatusCounts holds the final status of each request (0
// for transport errors, detailed in Errors); Throttle counts every 429
// answer, retries included.
type Result struct {
	URL          string         `json:"url"`
	Model        string         `json:"model"` // "closed" or "open"
	Concurrency  int            `json:"concurrency"`
	TargetRate   float64        `json:"target_rate,omitempty"`
	Requests     int            `json:"requests"`
	StatusCounts map[int]int    `json:"status_counts"`
	Errors       map[string]int `json:"errors,omitempty"`
	Latency      Latency        `json:"latency_ms"`
	Rate         float64        `json:"rate"` // achieved sends per second
	Duration     time.Duration  `json:"-"`
	DurationMS   float64        `json:"duration_ms"`
	Throttle     Throttle       `json:"throttle"`
	Retries      Retries        `json:"retries"`
	Samples      []Sample       `json:"-"`
	// Start is when the first request left; Samples' offsets count from it.
	Start time.Time `json:"-"`
}

// Responses returns how many requests got an HTTP answer (any status).
func (r *Result) Responses() int {
	n := 0
	for code, c := range r.StatusCounts {
		if code != 0 {
			n += c
		}
	}
	return n
}

// Target returns the full URL a run with these options hits.
func (o Options) Target() string {
	p := o.Path
	if p == "" {
		p = DefaultPath
	}
	return strings.TrimRight(o.URL, "/") + p
}

// InputError is an invalid option; Field names it (as the Options field).
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return "loadtest: " + e.Field + ": " + e.Msg }

// withDefaults fills zero values and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Requests == 0 && o.Duration == 0 {
		o.Requests = DefaultRequests
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(o.URL)
	switch {
	case err != nil:
		return o, &InputError{"URL", fmt.Sprintf("%q is not a URL: %v", o.URL, err)}
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return o, &InputError{"URL", fmt.Sprintf("%q is not an absolute http(s) URL", o.URL)}
	case u.RawQuery != "" || u.Fragment != "":
		return o, &InputError{"URL", fmt.Sprintf("%q must not carry a query or fragment; put it in Path", o.URL)}
	case !strings.HasPrefix(o.Path, "/"):
		return o, &InputError{"Path", fmt.Sprintf("%q must start with /", o.Path)}
	case o.Requests < 0:
		return o, &InputError{"Requests", fmt.Sprintf("must not be negative, got %d", o.Requests)}
	case o.Concurrency < 1 || o.Concurrency > MaxConcurrency:
		return o, &InputError{"Concurrency", fmt.Sprintf("must be between 1 and %d, got %d", MaxConcurrency, o.Concurrency)}
	case o.Rate < 0:
		return o, &InputError{"Rate", fmt.Sprintf("must not be negative, got %v", o.Rate)}
	case o.Duration < 0:
		return o, &InputError{"Duration", fmt.Sprintf("must not be negative, got %v", o.Duration)}
	case o.Retry429 < 0 || o.Retry429 > MaxRetry429:
		return o, &InputError{"Retry429", fmt.Sprintf("must be between 0 and %d, got %d", MaxRetry429, o.Retry429)}
	}
	if _, err := url.Parse(o.Target()); err != nil {
		return o, &InputError{"Path", fmt.Sprintf("%q does not make a valid URL: %v", o.Path, err)}
	}
	return o, nil
}

// Run fires the requests and returns the summary. It returns an error only
// for invalid options or when ctx is cancelled; failed requests are counted
// in the result (status 0 and Errors). On cancellation the partial result
// is returned with the error.
func Run(ctx context.Context, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	e := newEngine(o)
	defer e.close()
	o.Logger.Debug("load test starting", "url", o.Target(), "model", e.model(), "requests", o.Requests,
		"concurrency", o.Concurrency, "rate", o.Rate, "duration", o.Duration)
	e.run(ctx)
	res := e.result()
	o.Logger.Debug("load test done", "requests", res.Requests, "rate", res.Rate, "elapsed", res.Duration)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("load test interrupted after %d requests: %w", res.Requests, err)
	}
	return res, nil
}

// errorKey turns a transport error into a short, stable label for Errors:
// the innermost cause without the URL, which would repeat per request.
func errorKey(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	return s
}
