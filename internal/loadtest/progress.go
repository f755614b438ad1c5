package loadtest

import (
	"fmt"
	"strings"
	"time"
)

// progressDelay keeps short runs quiet: the bar appears only once a run has
// lasted this long, so the common 200-request run prints nothing extra.
const progressDelay = 2 * time.Second

// startProgress redraws a one-line bar on o.Progress every 200 ms after
// progressDelay, and erases it when stopped.
func (e *engine) startProgress() (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		drawn := false
		for {
			select {
			case <-quit:
				if drawn {
					// Erase the bar so the report starts on a clean line.
					fmt.Fprint(e.o.Progress, "\r\033[K")
				}
				return
			case now := <-tick.C:
				elapsed := now.Sub(e.start)
				if elapsed < progressDelay {
					continue
				}
				drawn = true
				fmt.Fprint(e.o.Progress, "\r\033[K"+progressLine(e.o, e.done.Load(), elapsed))
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// progressLine renders the bar: the fraction done is requests over
// Requests, or elapsed over Duration for a timed run (whichever is further).
func progressLine(o Options, done int64, elapsed time.Duration) string {
	frac := 0.0
	if o.Requests > 0 {
		frac = float64(done) / float64(o.Requests)
	}
	if o.Duration > 0 {
		frac = max(frac, elapsed.Seconds()/o.Duration.Seconds())
	}
	frac = min(max(frac, 0), 1)
	const width = 30
	full := int(frac * width)
	bar := strings.Repeat("█", full) + strings.Repeat("░", width-full)
	rate := float64(done) / elapsed.Seconds()
	return fmt.Sprintf("%s %3.0f%%  %d requests  %.0f req/s  %s", bar, frac*100, done, rate, elapsed.Truncate(100*time.Millisecond))
}
