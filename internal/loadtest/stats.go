package loadtest

import (
	"math"
	"slices"
	"time"
)

// Latency summarises response times in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Percentile returns the nearest-rank percentile (0 < p <= 100) of sorted:
// the smallest value such that at least p% of the samples are at or below
// it. It is always one of the samples, never an interpolation, so a p99 of
// 100 samples is the 99th smallest. sorted must be ascending.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// Summarize computes the latency percentiles of the samples.
func Summarize(latencies []time.Duration) Latency {
	if len(latencies) == 0 {
		return Latency{}
	}
	s := slices.Clone(latencies)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Latency{
		P50:  ms(Percentile(s, 50)),
		P90:  ms(Percentile(s, 90)),
		P99:  ms(Percentile(s, 99)),
		Max:  ms(s[len(s)-1]),
		Mean: ms(sum / time.Duration(len(s))),
	}
}

func ms(d time.Duration) float64 {
	// Three decimals (microseconds) keep JSON readable without losing what
	// a loopback run can resolve.
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
