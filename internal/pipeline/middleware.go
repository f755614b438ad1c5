package pipeline

import (
	"context"
	"log/slog"
	"time"
)

// Logging logs the start and the end of every step, with its duration.
func Logging(log *slog.Logger) Middleware {
	return func(step Step, next func(context.Context) error) func(context.Context) error {
		return func(ctx context.Context) error {
			log.Info("• " + step.String())
			start := time.Now()
			err := next(ctx)
			d := time.Since(start).Round(time.Millisecond)
			if err != nil {
				log.Debug("step ended", "step", step.String(), "duration", d, "error", err)
			} else {
				log.Debug("step done", "step", step.String(), "duration", d)
			}
			return err
		}
	}
}
