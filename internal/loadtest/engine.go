package loadtest

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// engine holds one run's shared state. Workers share nothing on the hot path
// except the ticket counter (closed model) or the tick channel (open model).
type engine struct {
	o         Options
	target    *url.URL
	transport http.RoundTripper // nil: raw keep-alive senders
	ownTr     *http.Transport   // closed at the end when we built it

	start   time.Time
	stop    atomic.Bool  // set when Duration is over: finish in-flight, send no more
	tickets atomic.Int64 // closed model: requests handed out so far
	done    atomic.Int64 // requests finished, for the progress bar only

	mu      sync.Mutex
	workers []*worker
	end     time.Time
}

type worker struct {
	e       *engine
	snd     sender
	samples []Sample
	errors  map[string]int

	requests  int
	final     map[int]int
	quota429  int
	retried   int
	retrySent int
	succeeded int
	gaveUp    int
}

func newEngine(o Options) *engine {
	e := &engine{o: o}
	target, _ := url.Parse(o.Target()) // checked by withDefaults
	e.target = target
	switch {
	case o.HTTPClient != nil:
		e.transport = o.HTTPClient.Transport
		if e.transport == nil {
			e.transport = http.DefaultTransport
		}
	default:
		// An HTTP proxy from the environment needs net/http; so does a
		// caller's client. Otherwise the raw keep-alive sender is used.
		if p, err := http.ProxyFromEnvironment(&http.Request{URL: target}); err != nil || p != nil {
			workers := max(o.Concurrency, 100)
			e.ownTr = &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConns:          workers,
				MaxIdleConnsPerHost:   workers,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: requestTimeout,
				DisableCompression:    true,
			}
			e.transport = e.ownTr
		}
	}
	return e
}

// requestTimeout bounds one exchange with a stuck server.
const requestTimeout = 30 * time.Second

func (e *engine) close() {
	for _, w := range e.workers {
		w.snd.close()
	}
	if e.ownTr != nil {
		e.ownTr.CloseIdleConnections()
	}
}

func (e *engine) model() string {
	if e.o.Rate > 0 {
		return "open"
	}
	return "closed"
}

func (e *engine) newWorker(ctx context.Context, capacity int) *worker {
	w := &worker{e: e, samples: make([]Sample, 0, capacity), errors: map[string]int{}, final: map[int]int{}}
	if e.transport != nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.target.String(), nil)
		if err != nil {
			panic(err) // withDefaults parsed the target already
		}
		if e.o.APIKey != "" {
			req.Header.Set("x-api-key", e.o.APIKey)
		}
		req.Header.Set("User-Agent", "challengectl-loadtest")
		w.snd = &httpSender{rt: e.transport, req: req}
	} else {
		w.snd = newRawSender(ctx, e.target, e.o.APIKey, requestTimeout)
	}
	e.mu.Lock()
	e.workers = append(e.workers, w)
	e.mu.Unlock()
	return w
}

func (e *engine) run(ctx context.Context) {
	e.start = time.Now()
	if e.o.Duration > 0 {
		t := time.AfterFunc(e.o.Duration, func() { e.stop.Store(true) })
		defer t.Stop()
	}
	if e.o.Progress != nil {
		stopBar := e.startProgress()
		defer stopBar()
	}
	if e.o.Rate > 0 {
		e.runOpen(ctx)
	} else {
		e.runClosed(ctx)
	}
	e.end = time.Now()
}

// runClosed: each worker takes a ticket, sends, and takes the next one as
// soon as the answer is read.
func (e *engine) runClosed(ctx context.Context) {
	n := e.o.Concurrency
	per := 1024
	if e.o.Requests > 0 {
		n = min(n, e.o.Requests)
		per = e.o.Requests/n + 1
	}
	var wg sync.WaitGroup
	for range n {
		w := e.newWorker(ctx, per)
		wg.Go(func() {
			for e.take() && ctx.Err() == nil {
				w.request(ctx)
			}
		})
	}
	wg.Wait()
}

func (e *engine) take() bool {
	if e.stop.Load() {
		return false
	}
	if e.o.Requests > 0 && e.tickets.Add(1) > int64(e.o.Requests) {
		return false
	}
	return true
}

// runOpen sends on a fixed schedule: request i is due at start + i/rate,
// whatever happened to the earlier ones, so a slow server cannot slow the
// arrivals down (no coordinated omission). A tick goes to an idle worker;
// when none is idle a new one starts, up to MaxConcurrency.
func (e *engine) runOpen(ctx context.Context) {
	ticks := make(chan struct{})
	var wg sync.WaitGroup
	spawn := func() {
		w := e.newWorker(ctx, 256)
		wg.Go(func() {
			for range ticks {
				w.request(ctx)
			}
		})
	}
	workers := min(e.o.Concurrency, max(e.o.Requests, 1))
	if e.o.Requests == 0 {
		workers = e.o.Concurrency
	}
	for range workers {
		spawn()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
loop:
	for i := 0; e.o.Requests == 0 || i < e.o.Requests; i++ {
		due := time.Duration(float64(i) * float64(time.Second) / e.o.Rate)
		if e.o.Duration > 0 && due >= e.o.Duration {
			break
		}
		if wait := time.Until(e.start.Add(due)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				break loop
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case ticks <- struct{}{}:
			continue
		default:
		}
		if workers < MaxConcurrency {
			workers++
			spawn()
		}
		select {
		case ticks <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
	}
	close(ticks)
	wg.Wait()
}

// request sends one request, retrying 429s when asked, and records every
// send.
func (w *worker) request(ctx context.Context) {
	e := w.e
	status := w.send(0)
	retried := false
	for attempt := 1; status == http.StatusTooManyRequests && attempt <= e.o.Retry429; attempt++ {
		if !sleepCtx(ctx, backoff(e.o.RetryBackoff, attempt-1)) {
			break
		}
		retried = true
		w.retrySent++
		status = w.send(attempt)
	}
	if retried {
		w.retried++
		switch {
		case status >= 200 && status < 300:
			w.succeeded++
		case status == http.StatusTooManyRequests:
			w.gaveUp++
		}
	}
	w.requests++
	w.final[status]++
	if e.o.Progress != nil {
		e.done.Add(1)
	}
}

// send performs one HTTP exchange and records it; it returns the status
// (0 on error).
func (w *worker) send(attempt int) int {
	sent := time.Now()
	status, quota, err := w.snd.send()
	if err != nil {
		w.errors[errorKey(err)]++
	} else if quota {
		w.quota429++
	}
	w.samples = append(w.samples, Sample{Offset: sent.Sub(w.e.start), Latency: time.Since(sent), Status: status, Attempt: attempt})
	return status
}

// backoff is exponential with full jitter (AWS's recommendation): a random
// wait in [0, base·2^attempt], capped at 10 s, so retrying clients spread out
// instead of hitting the refilled bucket together.
func backoff(base time.Duration, attempt int) time.Duration {
	ceiling := min(base<<attempt, 10*time.Second)
	if ceiling <= 0 {
		ceiling = 10 * time.Second
	}
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// result merges the workers' records.
func (e *engine) result() *Result {
	rate, burst := Effective(e.o.Limits)
	r := &Result{
		URL:          e.o.Target(),
		Model:        e.model(),
		Concurrency:  e.o.Concurrency,
		TargetRate:   e.o.Rate,
		StatusCounts: map[int]int{},
		Errors:       map[string]int{},
		Start:        e.start,
		Retries:      Retries{Max: e.o.Retry429},
	}
	total := 0
	for _, w := range e.workers {
		total += len(w.samples)
	}
	r.Samples = make([]Sample, 0, total)
	lat := make([]time.Duration, 0, total)
	sends := make([]time.Time, 0, total)
	var last time.Duration
	for _, w := range e.workers {
		r.Requests += w.requests
		for code, n := range w.final {
			r.StatusCounts[code] += n
		}
		for msg, n := range w.errors {
			r.Errors[msg] += n
		}
		for _, s := range w.samples {
			r.Samples = append(r.Samples, s)
			lat = append(lat, s.Latency)
			sends = append(sends, e.start.Add(s.Offset))
			if s.Status == http.StatusTooManyRequests {
				r.Throttle.Observed++
			}
			last = max(last, s.Offset+s.Latency)
		}
		r.Throttle.QuotaExceeded += w.quota429
		r.Retries.Retried += w.retried
		r.Retries.Attempts += w.retrySent
		r.Retries.Succeeded += w.succeeded
		r.Retries.GaveUp += w.gaveUp
	}
	r.Throttle.Observed -= r.Throttle.QuotaExceeded
	if len(r.Errors) == 0 {
		r.Errors = nil
	}
	r.Duration = last
	if r.Duration <= 0 {
		r.Duration = e.end.Sub(e.start)
	}
	r.DurationMS = ms(r.Duration)
	if r.Duration > 0 {
		r.Rate = float64(total) / r.Duration.Seconds()
	}
	r.Latency = Summarize(lat)
	r.Throttle.RateLimit, r.Throttle.BurstLimit = rate, burst
	r.Throttle.Sends = total
	r.Throttle.Predicted = PredictThrottled(sends, rate, burst)
	return r
}
