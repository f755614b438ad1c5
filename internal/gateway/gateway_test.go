package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/challengectl/challengectl/internal/gateway"
	"github.com/challengectl/challengectl/internal/lambdaruntime"
	"github.com/challengectl/challengectl/internal/lambdaruntime/lambdatest"
	"github.com/challengectl/challengectl/internal/limits"
)

const testKey = "test-key-0123456789abcdef"

// unlimited are limits no test request reaches.
func unlimited() limits.Limits {
	return limits.Limits{StageRate: 1e6, StageBurst: 1e6, KeyRate: 1e6, KeyBurst: 1e6, Quota: 1e9, QuotaPeriod: limits.PeriodMonth}
}

type stack struct {
	url  string // http://127.0.0.1:PORT/prod
	base string // http://127.0.0.1:PORT
	gw   *gateway.Gateway
	pool *lambdaruntime.Pool
}

// start runs the real test Lambda in a pool behind the gateway on loopback.
func start(t *testing.T, o gateway.Options, timeout time.Duration) *stack {
	t.Helper()
	pool, err := lambdaruntime.Start(context.Background(), lambdaruntime.Options{
		BinaryPath: lambdatest.TestFunction(t),
		Workers:    2,
		Timeout:    timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return startWith(t, o, pool)
}

// startPoolFor runs bin as two workers.
func startPoolFor(t testing.TB, bin string) *lambdaruntime.Pool {
	t.Helper()
	pool, err := lambdaruntime.Start(context.Background(), lambdaruntime.Options{BinaryPath: bin, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// startWith serves pool behind a gateway on loopback.
func startWith(t testing.TB, o gateway.Options, pool *lambdaruntime.Pool) *stack {
	t.Helper()
	if o.Stage == "" {
		o.Stage = "prod"
	}
	if o.APIKeys == nil {
		o.APIKeys = []string{testKey}
	}
	if o.Limits == (limits.Limits{}) {
		o.Limits = unlimited()
	}
	o.Invoker = pool
	gw, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return &stack{url: srv.URL + "/" + o.Stage, base: srv.URL, gw: gw, pool: pool}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url string, body io.Reader, header map[string][]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		// Set the map directly: the name goes on the wire as written.
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func get(t *testing.T, url string) reply {
	return do(t, http.MethodGet, url, nil, map[string][]string{"x-api-key": {testKey}})
}

// wantGatewayError checks an API Gateway-generated answer.
func wantGatewayError(t *testing.T, r reply, status int, message, errType string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	var doc map[string]string
	if err := json.Unmarshal(r.body, &doc); err != nil || len(doc) != 1 || doc["message"] != message {
		t.Errorf("body = %s, want {\"message\":%q}", r.body, message)
	}
	if got := r.header.Get("x-amzn-ErrorType"); got != errType {
		t.Errorf("x-amzn-ErrorType = %q, want %q", got, errType)
	}
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
	}
	if len(r.header.Get("x-amzn-RequestId")) != 36 {
		t.Errorf("x-amzn-RequestId = %q", r.header.Get("x-amzn-RequestId"))
	}
}

// echo decodes the event testfn received, from its echo answer.
func echo(t *testing.T, r reply) events.APIGatewayProxyRequest {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(r.body, &ev); err != nil {
		t.Fatalf("echo body %q: %v", r.body, err)
	}
	return ev
}

func TestAPIKey(t *testing.T) {
	s := start(t, gateway.Options{}, 0)
	wantGatewayError(t, do(t, "GET", s.url+"/health", nil, nil), 403, "Forbidden", "ForbiddenException")
	wantGatewayError(t, do(t, "GET", s.url+"/health", nil, map[string][]string{"x-api-key": {"wrong-key-0123456789abcdef"}}), 403, "Forbidden", "ForbiddenException")
	wantGatewayError(t, do(t, "GET", s.url+"/health", nil, map[string][]string{"x-api-key": {testKey[:len(testKey)-1]}}), 403, "Forbidden", "ForbiddenException")
	// The header name is case-insensitive.
	for _, name := range []string{"x-api-key", "X-API-KEY", "X-Api-Key"} {
		r := do(t, "GET", s.url+"/health", nil, map[string][]string{name: {testKey}})
		if r.status != 200 || string(r.body) != `{"status":"ok"}` {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if st := s.gw.Stats(); st.Forbidden != 3 || st.OK != 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestUnknownStageOrPath(t *testing.T) {
	s := start(t, gateway.Options{}, 0)
	for _, path := range []string{"/dev/health", "/", "/production/health", "/prodx"} {
		wantGatewayError(t, get(t, s.base+path), 403, "Missing Authentication Token", "MissingAuthenticationTokenException")
	}
}

func TestThrottleBody(t *testing.T) {
	// Stage bucket of 2 at 1 request/s: a quick burst of 6 must see 429s.
	lim := unlimited()
	lim.StageRate, lim.StageBurst = 1, 2
	s := start(t, gateway.Options{Limits: lim}, 0)
	var got429 []reply
	ok := 0
	startT := time.Now()
	for range 6 {
		r := get(t, s.url+"/health")
		switch r.status {
		case 200:
			ok++
		case 429:
			got429 = append(got429, r)
		default:
			t.Fatalf("unexpected %d %s", r.status, r.body)
		}
	}
	elapsed := time.Since(startT).Seconds()
	if maxOK := 2 + int(elapsed*1) + 1; ok > maxOK || ok < 2 {
		t.Errorf("%d requests passed in %.2fs, want 2..%d", ok, elapsed, maxOK)
	}
	if len(got429) == 0 {
		t.Fatalf("no 429 in a burst of 6 over %.2fs", elapsed)
	}
	wantGatewayError(t, got429[0], 429, "Too Many Requests", "TooManyRequestsException")
}

func TestKeyBucketThrottles(t *testing.T) {
	lim := unlimited()
	lim.KeyRate, lim.KeyBurst = 1, 1
	s := start(t, gateway.Options{Limits: lim}, 0)
	get(t, s.url+"/health")
	wantGatewayError(t, get(t, s.url+"/health"), 429, "Too Many Requests", "TooManyRequestsException")
}

func TestQuota(t *testing.T) {
	lim := unlimited()
	lim.Quota, lim.QuotaPeriod = 3, limits.PeriodDay
	var now atomic.Pointer[time.Time]
	t0 := time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC)
	now.Store(&t0)
	s := start(t, gateway.Options{Limits: lim, Now: func() time.Time { return *now.Load() }}, 0)
	for i := range 3 {
		if r := get(t, s.url+"/health"); r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
	}
	wantGatewayError(t, get(t, s.url+"/health"), 429, "Limit Exceeded", "LimitExceededException")
	// A new UTC day starts a new quota period.
	t1 := t0.Add(2 * time.Minute)
	now.Store(&t1)
	if r := get(t, s.url+"/health"); r.status != 200 {
		t.Errorf("after the period reset: %d %s", r.status, r.body)
	}
}

func TestThrottledRequestsDoNotSpendQuota(t *testing.T) {
	lim := unlimited()
	lim.KeyRate, lim.KeyBurst, lim.Quota = 0.001, 1, 2
	s := start(t, gateway.Options{Limits: lim}, 0)
	if r := get(t, s.url+"/health"); r.status != 200 {
		t.Fatal(r.status)
	}
	for range 5 {
		wantGatewayError(t, get(t, s.url+"/health"), 429, "Too Many Requests", "TooManyRequestsException")
	}
	if st := s.gw.Stats(); st.QuotaExceeded != 0 || st.Throttled != 5 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBadLambdaAnswers(t *testing.T) {
	s := start(t, gateway.Options{}, 0)
	for _, path := range []string{"/crash", "/garbage", "/nostatus", "/error", "/panic"} {
		t.Run(path, func(t *testing.T) {
			wantGatewayError(t, get(t, s.url+path), 502, "Internal server error", "InternalServerErrorException")
			// The stack keeps serving: crashed workers are replaced.
			if r := get(t, s.url+"/health"); r.status != 200 {
				t.Errorf("after %s: %d %s", path, r.status, r.body)
			}
		})
	}
	// The panicking worker exits just after reporting its error: give the
	// supervisor a bounded moment to replace it.
	for i := 0; i < 100 && s.pool.Restarts() < 2; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if s.pool.Restarts() < 2 {
		t.Errorf("restarts = %d, want the crash and the panic replaced", s.pool.Restarts())
	}
}

func TestTimeout(t *testing.T) {
	s := start(t, gateway.Options{}, 300*time.Millisecond)
	wantGatewayError(t, get(t, s.url+"/sleep?ms=5000"), 504, "Endpoint request timed out", "")
	if r := get(t, s.url+"/health"); r.status != 200 {
		t.Errorf("after a timeout: %d %s", r.status, r.body)
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := start(t, gateway.Options{}, 0)
	big := bytes.Repeat([]byte("x"), gateway.MaxBodyBytes+1)
	key := map[string][]string{"x-api-key": {testKey}}
	wantGatewayError(t, do(t, "POST", s.url+"/upload", bytes.NewReader(big), key), 413, "Request Too Long", "")
	// Without a Content-Length (chunked), the limit holds while reading.
	wantGatewayError(t, do(t, "POST", s.url+"/upload", io.MultiReader(bytes.NewReader(big)), key), 413, "Request Too Long", "")
}

func TestEventAsAWSSendsIt(t *testing.T) {
	s := start(t, gateway.Options{}, 0)
	r := do(t, "GET", s.url+"/echo/a%20b?x=1&x=2&y=3", nil, map[string][]string{
		"x-api-key":  {testKey},
		"X-Multi":    {"a", "b"},
		"User-Agent": {"gateway-test/1"},
	})
	ev := echo(t, r)
	if ev.Resource != "/{proxy+}" || ev.Path != "/echo/a b" || ev.HTTPMethod != "GET" {
		t.Errorf("resource %q path %q method %q", ev.Resource, ev.Path, ev.HTTPMethod)
	}
	if ev.PathParameters["proxy"] != "echo/a b" || len(ev.PathParameters) != 1 {
		t.Errorf("pathParameters = %v", ev.PathParameters)
	}
	if got := ev.MultiValueQueryStringParameters["x"]; len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("multiValueQueryStringParameters = %v", ev.MultiValueQueryStringParameters)
	}
	if ev.QueryStringParameters["x"] != "2" || ev.QueryStringParameters["y"] != "3" {
		t.Errorf("queryStringParameters = %v (the last value wins, as on AWS)", ev.QueryStringParameters)
	}
	if got := ev.MultiValueHeaders["X-Multi"]; len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("multiValueHeaders = %v", ev.MultiValueHeaders)
	}
	if ev.Headers["X-Multi"] != "b" || ev.Headers["X-Forwarded-For"] != "127.0.0.1" || ev.Headers["X-Forwarded-Proto"] != "http" || ev.Headers["Host"] == "" {
		t.Errorf("headers = %v", ev.Headers)
	}
	rc := ev.RequestContext
	if rc.Stage != "prod" || rc.Path != "/prod/echo/a b" || rc.ResourcePath != "/{proxy+}" || rc.HTTPMethod != "GET" {
		t.Errorf("requestContext = %+v", rc)
	}
	if rc.RequestID != r.header.Get("x-amzn-RequestId") {
		t.Errorf("requestContext.requestId %q != x-amzn-RequestId %q", rc.RequestID, r.header.Get("x-amzn-RequestId"))
	}
	if rc.Identity.APIKey != testKey || rc.Identity.APIKeyID == "" || rc.Identity.SourceIP != "127.0.0.1" || rc.Identity.UserAgent != "gateway-test/1" {
		t.Errorf("identity = %+v", rc.Identity)
	}
	if rc.APIID != s.gw.APIID() || rc.AccountID == "" || rc.RequestTimeEpoch == 0 || rc.RequestTime == "" {
		t.Errorf("requestContext = %+v", rc)
	}
	if ev.Body != "" || ev.IsBase64Encoded {
		t.Errorf("GET body = %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
}

func TestRootResource(t *testing.T) {
	s := start(t, gateway.Options{}, 0)
	for _, path := range []string{"", "/"} {
		ev := echo(t, get(t, s.url+path))
		if ev.Resource != "/" || ev.Path != "/" || ev.PathParameters != nil || ev.RequestContext.ResourcePath != "/" {
			t.Errorf("%q: resource %q path %q params %v", path, ev.Resource, ev.Path, ev.PathParameters)
		}
		if ev.QueryStringParameters != nil || ev.MultiValueQueryStringParameters != nil {
			t.Errorf("no query should give null query maps, got %v", ev.QueryStringParameters)
		}
	}
}

func TestBodies(t *testing.T) {
	s := start(t, gateway.Options{BinaryMediaTypes: []string{"image/png"}}, 0)
	post := func(body []byte, contentType string) events.APIGatewayProxyRequest {
		return echo(t, do(t, "POST", s.url+"/echo", bytes.NewReader(body), map[string][]string{
			"x-api-key": {testKey}, "Content-Type": {contentType},
		}))
	}
	text := post([]byte(`{"a":"é"}`), "application/json")
	if text.Body != `{"a":"é"}` || text.IsBase64Encoded {
		t.Errorf("text body = %q base64=%v", text.Body, text.IsBase64Encoded)
	}
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	for _, ct := range []string{"application/octet-stream", "image/png"} {
		ev := post(bin, ct)
		if !ev.IsBase64Encoded {
			t.Fatalf("%s: binary body not base64-encoded", ct)
		}
		// Decode as the Lambda would.
		raw, err := decodeB64(ev.Body)
		if err != nil || !bytes.Equal(raw, bin) {
			t.Errorf("%s: decoded body differs (%v)", ct, err)
		}
	}
	// A binary media type is base64-encoded even when it is valid text.
	if ev := post([]byte("PNG-ish text"), "image/png"); !ev.IsBase64Encoded {
		t.Errorf("image/png text body not base64-encoded")
	}
}

func TestResponseMapping(t *testing.T) {
	s := start(t, gateway.Options{}, 0)
	r := get(t, s.url+"/status?code=418")
	if r.status != 418 || string(r.body) != "status 418" {
		t.Errorf("status %d body %q", r.status, r.body)
	}
	if r.header.Get("X-Single") != "one" || r.header.Get("Content-Type") != "text/plain" {
		t.Errorf("headers = %v", r.header)
	}
	if got := r.header.Values("X-Multi"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("X-Multi = %v", got)
	}
	b := get(t, s.url+"/binary")
	if b.status != 200 || len(b.body) != 256 || b.body[255] != 255 || b.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("binary: %d, %d bytes, %v", b.status, len(b.body), b.header)
	}
	// No Content-Type from the Lambda: REST's default.
	if e := get(t, s.url+"/big?bytes=3"); e.header.Get("Content-Type") != "application/json" || string(e.body) != "xxx" {
		t.Errorf("default content type: %v %q", e.header, e.body)
	}
}

// TestThrottleAccuracy keeps requests flowing at a stage bucket for about a
// second and checks that the number of 200s lies in the range the token
// bucket allows over the measured time: at most burst + rate×elapsed, and at
// least most of burst + rate×(time between the first and last send), since
// requests kept arriving faster than tokens accrued.
func TestThrottleAccuracy(t *testing.T) {
	const rate, burst, conc, maxRequests = 50.0, 10, 8, 50000
	const run = 800 * time.Millisecond
	lim := unlimited()
	lim.StageRate, lim.StageBurst = rate, burst
	s := start(t, gateway.Options{Limits: lim}, 0)
	var (
		mu          sync.Mutex
		first, last time.Time
		counts      = map[int]int{}
		sent        atomic.Int64
	)
	begin := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded both in time and in count.
			for time.Since(begin) < run && sent.Add(1) <= maxRequests {
				at := time.Now()
				r := get(t, s.url+"/health")
				mu.Lock()
				counts[r.status]++
				if first.IsZero() || at.Before(first) {
					first = at
				}
				if at.After(last) {
					last = at
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin).Seconds()
	span := last.Sub(first).Seconds()
	ok, n := counts[200], counts[200]+counts[429]
	upper := float64(burst) + rate*elapsed + 1
	lower := 0.8*(float64(burst)+rate*span) - 1
	t.Logf("%d requests in %.3fs: %v; allowed range [%.1f, %.1f]", n, elapsed, counts, lower, upper)
	if len(counts) != 2 && len(counts) != 1 {
		t.Fatalf("unexpected statuses: %v", counts)
	}
	if float64(ok) > upper || float64(ok) < lower {
		t.Errorf("%d requests passed, want within [%.1f, %.1f] for rate %v burst %d over %.3fs", ok, lower, upper, rate, burst, elapsed)
	}
	if counts[429] == 0 {
		t.Errorf("no request was throttled")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]gateway.Options{
		"no stage":   {APIKeys: []string{"k"}, Limits: unlimited(), Invoker: invokerFunc(nil)},
		"no key":     {Stage: "prod", Limits: unlimited(), Invoker: invokerFunc(nil)},
		"no invoker": {Stage: "prod", APIKeys: []string{"k"}, Limits: unlimited()},
		"bad limits": {Stage: "prod", APIKeys: []string{"k"}, Invoker: invokerFunc(nil)},
	} {
		if _, err := gateway.New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

type invokerFunc func(context.Context, []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, p []byte) ([]byte, error) { return f(ctx, p) }

func decodeB64(s string) ([]byte, error) {
	var out []byte
	err := json.Unmarshal([]byte(fmt.Sprintf("%q", s)), &out)
	return out, err
}
