// Package gateway emulates an API Gateway REST API stage with one Lambda
// proxy integration (`ANY /` and `ANY /{proxy+}`), an API key requirement and
// a usage plan, as an http.Handler.
//
// What it reproduces, in AWS's order of evaluation:
//   - the stage is the first path segment (http://HOST/<stage>/...); any other
//     first segment does not match a deployed route and gets 403
//     {"message":"Missing Authentication Token"}
//     (x-amzn-ErrorType: MissingAuthenticationTokenException), as AWS
//     answers for a wrong stage, path or method;
//   - a request body over 10 MB → 413 {"message":"Request Too Long"};
//   - the x-api-key header (any case) must hold a key of the usage plan,
//     otherwise 403 {"message":"Forbidden"} (ForbiddenException);
//   - the key's quota for the current DAY/WEEK/MONTH (UTC calendar periods)
//     → 429 {"message":"Limit Exceeded"} (LimitExceededException);
//   - the key's usage-plan token bucket and the stage's token bucket
//     (golang.org/x/time/rate) → 429 {"message":"Too Many Requests"}
//     (TooManyRequestsException);
//   - the Lambda proxy integration with the v1 event of
//     github.com/aws/aws-lambda-go/events; a function error, crash or a
//     malformed proxy response → 502 {"message":"Internal server error"};
//     the function timeout → 504 {"message":"Endpoint request timed out"}.
//
// Every response carries x-amzn-RequestId and x-amz-apigw-id like AWS.
package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/challengectl/challengectl/internal/lambdaruntime"
	"github.com/challengectl/challengectl/internal/limits"
)

// MaxBodyBytes is API Gateway's request payload limit (10 MB).
const MaxBodyBytes = 10 * 1024 * 1024

// DefaultIntegrationTimeout is API Gateway REST's default (and maximum)
// integration timeout.
const DefaultIntegrationTimeout = 29 * time.Second

// Invoker runs the Lambda function synchronously. *lambdaruntime.Pool is
// one; errors are classified with errors.Is against the lambdaruntime
// sentinels (ErrTimeout → 504, anything else → 502).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Options configure a Gateway.
type Options struct {
	Stage   string   // required: the first path segment, e.g. "prod"
	APIKeys []string // keys of the usage plan; at least one
	Limits  limits.Limits
	Invoker Invoker
	// BinaryMediaTypes are the API's binaryMediaTypes: request bodies with
	// a matching Content-Type reach the Lambda base64-encoded. A body that is
	// not valid UTF-8 is always base64-encoded, since it cannot travel in a
	// JSON string intact.
	BinaryMediaTypes []string
	// IntegrationTimeout bounds the whole integration call; default 29 s.
	IntegrationTimeout time.Duration
	APIID              string // requestContext.apiId; default generated
	AccountID          string // requestContext.accountId; default 123456789012
	Logger             *slog.Logger
	// Now is the clock (for quota periods); default time.Now.
	Now func() time.Time
}

// Gateway is the emulated stage. It is safe for concurrent use.
type Gateway struct {
	o         Options
	log       *slog.Logger
	stage     *rate.Limiter
	keys      map[string]*keyState
	rootID    string
	proxyID   string
	stagePath string // "/" + stage
	binaryMTs []string
	stats     counters
	accountID string
	apiID     string
	timeout   time.Duration
	now       func() time.Time
	// bucketsMu makes taking a token from the key and the stage buckets
	// one step; see allow.
	bucketsMu sync.Mutex
}

// keyState is one API key's usage-plan bucket and quota counter.
type keyState struct {
	id     string
	bucket *rate.Limiter
	mu     sync.Mutex
	period time.Time // start of the current quota period
	used   int
}

// Stats count the gateway's answers by outcome.
type Stats struct {
	Requests      int64 `json:"requests"`
	OK            int64 `json:"integration_ok"`
	Forbidden     int64 `json:"forbidden"`
	Throttled     int64 `json:"throttled"`
	QuotaExceeded int64 `json:"quota_exceeded"`
	BadGateway    int64 `json:"bad_gateway"`
	Timeouts      int64 `json:"timeouts"`
	TooLarge      int64 `json:"too_large"`
	NotFound      int64 `json:"missing_route"`
}

// New checks the options and builds the gateway.
func New(o Options) (*Gateway, error) {
	if o.Stage == "" || strings.Contains(o.Stage, "/") {
		return nil, fmt.Errorf("gateway: invalid stage %q", o.Stage)
	}
	if len(o.APIKeys) == 0 {
		return nil, errors.New("gateway: at least one API key is required")
	}
	if o.Invoker == nil {
		return nil, errors.New("gateway: an Invoker is required")
	}
	if err := o.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	period, err := limits.NormalizePeriod(o.Limits.QuotaPeriod)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	o.Limits.QuotaPeriod = period
	if o.IntegrationTimeout <= 0 {
		o.IntegrationTimeout = DefaultIntegrationTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	g := &Gateway{
		o:         o,
		log:       o.Logger,
		stage:     rate.NewLimiter(rate.Limit(o.Limits.StageRate), o.Limits.StageBurst),
		keys:      make(map[string]*keyState, len(o.APIKeys)),
		rootID:    randomID(10),
		proxyID:   randomID(6),
		stagePath: "/" + o.Stage,
		accountID: o.AccountID,
		apiID:     o.APIID,
		timeout:   o.IntegrationTimeout,
		now:       o.Now,
	}
	if g.accountID == "" {
		g.accountID = lambdaruntime.DefaultAccountID
	}
	if g.apiID == "" {
		g.apiID = randomID(10)
	}
	for _, mt := range o.BinaryMediaTypes {
		g.binaryMTs = append(g.binaryMTs, strings.ToLower(strings.TrimSpace(mt)))
	}
	for _, k := range o.APIKeys {
		if k == "" {
			return nil, errors.New("gateway: empty API key")
		}
		g.keys[k] = &keyState{
			id:     randomID(10),
			bucket: rate.NewLimiter(rate.Limit(o.Limits.KeyRate), o.Limits.KeyBurst),
		}
	}
	return g, nil
}

// APIID is the emulated REST API id (requestContext.apiId).
func (g *Gateway) APIID() string { return g.apiID }

// counters are the live, lock-free form of Stats.
type counters struct {
	requests, ok, forbidden, throttled, quota, badGateway, timeouts, tooLarge, notFound atomic.Int64
}

// Stats returns the counters so far.
func (g *Gateway) Stats() Stats {
	c := &g.stats
	return Stats{
		Requests: c.requests.Load(), OK: c.ok.Load(), Forbidden: c.forbidden.Load(),
		Throttled: c.throttled.Load(), QuotaExceeded: c.quota.Load(), BadGateway: c.badGateway.Load(),
		Timeouts: c.timeouts.Load(), TooLarge: c.tooLarge.Load(), NotFound: c.notFound.Load(),
	}
}

// lookupKey finds the state of the presented key. The comparison runs over
// every key in constant time per key, so timing does not reveal a prefix.
func (g *Gateway) lookupKey(presented string) *keyState {
	if presented == "" {
		return nil
	}
	var found *keyState
	for k, st := range g.keys {
		if len(k) == len(presented) && subtle.ConstantTimeCompare([]byte(k), []byte(presented)) == 1 {
			found = st
		}
	}
	return found
}

// takeQuota counts one request against the key's quota for the period
// containing now, and reports false once the quota is spent.
func (k *keyState) takeQuota(now time.Time, limit int, period string) bool {
	start := periodStart(now, period)
	k.mu.Lock()
	defer k.mu.Unlock()
	if !start.Equal(k.period) {
		k.period, k.used = start, 0
	}
	if k.used >= limit {
		return false
	}
	k.used++
	return true
}

// giveBackQuota undoes takeQuota for a request that was then throttled:
// AWS counts only requests that reach the integration against the quota.
func (k *keyState) giveBackQuota() {
	k.mu.Lock()
	if k.used > 0 {
		k.used--
	}
	k.mu.Unlock()
}

// periodStart is the start of the UTC calendar day, week (Monday) or month
// holding t: usage-plan quotas reset at period boundaries.
func periodStart(t time.Time, period string) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case limits.PeriodDay:
		return day
	case limits.PeriodWeek:
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		return day.AddDate(0, 0, -back)
	default:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
}

// allow takes a token from the key's bucket and the stage's bucket, or from
// neither: a request refused by one bucket does not spend the other's token.
//
// Both buckets are checked and taken under one lock, with the clock read
// inside it. Reserving and cancelling instead loses tokens under overload:
// every refused reservation moves the limiter's last event into the future,
// so a later cancel restores less than it took, and the stage fell well
// below its rate while flooded (TestThrottleAccuracy). The lock also keeps
// the time each limiter sees from going backwards between goroutines.
func (g *Gateway) allow(k *keyState) bool {
	g.bucketsMu.Lock()
	defer g.bucketsMu.Unlock()
	now := g.now()
	if k.bucket.TokensAt(now) < 1 || g.stage.TokensAt(now) < 1 {
		return false
	}
	// Both have a token: neither AllowN can fail now.
	k.bucket.AllowN(now, 1)
	g.stage.AllowN(now, 1)
	return true
}
