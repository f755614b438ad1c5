package loadtest

import (
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/challengectl/challengectl/internal/limits"
)

// Throttle compares the 429s a token bucket predicts for the sends that
// actually happened with the 429s the server returned.
type Throttle struct {
	RateLimit  float64 `json:"rate_limit"`  // effective bucket rate, req/s
	BurstLimit int     `json:"burst_limit"` // effective bucket size
	Sends      int     `json:"sends"`       // HTTP requests replayed, retries included
	Predicted  int     `json:"predicted"`   // 429s the bucket predicts for those sends
	Observed   int     `json:"observed"`    // 429 "Too Many Requests" responses seen
	// QuotaExceeded counts 429 "Limit Exceeded" answers: the usage-plan quota
	// is spent, which no rate bucket predicts.
	QuotaExceeded int `json:"quota_exceeded"`
}

// Effective returns the bucket a single API key actually sees: a request must
// pass both the stage bucket and the key's usage-plan bucket, so the tighter
// rate and the smaller burst bound it (the seed's "the limit that applies is
// the smaller of the two"). Zero fields fall back to limits.Default().
func Effective(l limits.Limits) (ratePerSec float64, burst int) {
	d := limits.Default()
	if l.StageRate <= 0 {
		l.StageRate = d.StageRate
	}
	if l.KeyRate <= 0 {
		l.KeyRate = d.KeyRate
	}
	if l.StageBurst <= 0 {
		l.StageBurst = d.StageBurst
	}
	if l.KeyBurst <= 0 {
		l.KeyBurst = d.KeyBurst
	}
	return min(l.StageRate, l.KeyRate), min(l.StageBurst, l.KeyBurst)
}

// PredictThrottled replays send times through a token bucket that starts
// full, exactly as golang.org/x/time/rate (and the local gateway) would see
// them, and returns how many would have been refused. The times need not be
// sorted. The result is deterministic for given inputs.
func PredictThrottled(sends []time.Time, ratePerSec float64, burst int) int {
	ts := slices.Clone(sends)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	lim := rate.NewLimiter(rate.Limit(ratePerSec), burst)
	refused := 0
	for _, t := range ts {
		if !lim.AllowN(t, 1) {
			refused++
		}
	}
	return refused
}
