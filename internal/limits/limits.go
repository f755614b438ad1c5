// Package limits holds the API's throttling and quota definitions once, for
// every consumer: the local gateway enforces them, deploy hands them to
// Terraform, loadtest predicts 429s from them, and a test checks that the
// Terraform variable defaults equal them.
package limits

import (
	"fmt"
	"strings"

	"github.com/challengectl/challengectl/internal/clierr"
)

// Quota periods accepted by API Gateway usage plans.
const (
	PeriodDay   = "DAY"
	PeriodWeek  = "WEEK"
	PeriodMonth = "MONTH"
)

// Limits are the stage throttle and the per-key usage plan of one stage.
type Limits struct {
	StageRate   float64 `json:"stage_rate_limit"`  // requests per second, stage-wide
	StageBurst  int     `json:"stage_burst_limit"` // bucket size, stage-wide
	KeyRate     float64 `json:"key_rate_limit"`    // requests per second, per API key
	KeyBurst    int     `json:"key_burst_limit"`   // bucket size, per API key
	Quota       int     `json:"quota_limit"`       // requests per period, per API key
	QuotaPeriod string  `json:"quota_period"`      // DAY, WEEK or MONTH
}

// Default returns the limits of the original project: 100 req/s burst 50 on
// the stage and per key, 10,000 requests a month per key.
func Default() Limits {
	return Limits{
		StageRate:   100,
		StageBurst:  50,
		KeyRate:     100,
		KeyBurst:    50,
		Quota:       10000,
		QuotaPeriod: PeriodMonth,
	}
}

// Validate checks every field and names the flag to fix. The flag names are
// those of `challengectl local`; deploy uses the same names.
func (l Limits) Validate() error {
	switch {
	case l.StageRate <= 0:
		return clierr.Usage("--rate", fmt.Sprintf("stage rate limit must be positive, got %v", l.StageRate), "")
	case l.StageBurst <= 0:
		return clierr.Usage("--burst", fmt.Sprintf("stage burst limit must be positive, got %d", l.StageBurst), "")
	case l.KeyRate <= 0:
		return clierr.Usage("--key-rate", fmt.Sprintf("per-key rate limit must be positive, got %v", l.KeyRate), "")
	case l.KeyBurst <= 0:
		return clierr.Usage("--key-burst", fmt.Sprintf("per-key burst limit must be positive, got %d", l.KeyBurst), "")
	case l.Quota <= 0:
		return clierr.Usage("--quota", fmt.Sprintf("quota must be positive, got %d", l.Quota), "")
	}
	if _, err := NormalizePeriod(l.QuotaPeriod); err != nil {
		return err
	}
	return nil
}

// NormalizePeriod upper-cases and checks a quota period.
func NormalizePeriod(p string) (string, error) {
	up := strings.ToUpper(strings.TrimSpace(p))
	switch up {
	case PeriodDay, PeriodWeek, PeriodMonth:
		return up, nil
	}
	return "", clierr.Usage("--quota-period", fmt.Sprintf("%q is not a quota period", p), "use DAY, WEEK or MONTH")
}
