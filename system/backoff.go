package system

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// The default bounds of the delay between retries after a database error;
// see RunnerOptions.RetryMin and RetryMax.
const (
	DefaultRetryMin = 100 * time.Millisecond
	DefaultRetryMax = 30 * time.Second
)

// backoff returns the delay before retry number attempt (0 for the first):
// base doubled attempt times, at most limit, then taken between half and
// all of that by jitter, which returns a number in [0, n] (out-of-range
// values are clamped): "equal jitter", so that many retriers spread out
// but none retries at once.
func backoff(attempt int, base, limit time.Duration, jitter func(n int64) int64) time.Duration {
	d := limit
	if attempt >= 0 && attempt < maxAttempt && base <= limit>>attempt {
		d = base << attempt // no overflow: at most limit
	}
	half := int64(d / 2)
	j := min(max(jitter(int64(d)-half), 0), int64(d)-half)
	return time.Duration(half + j)
}

// maxAttempt is where the attempts stop counting: any delay is capped
// long before.
const maxAttempt = 62

// retrier counts the failures in a row and gives the delay before the
// next retry. It is not safe for concurrent use.
type retrier struct {
	base, limit time.Duration
	jitter      func(n int64) int64
	attempt     int
}

func newRetrier(opts RunnerOptions) *retrier {
	r := &retrier{base: opts.RetryMin, limit: opts.RetryMax, jitter: func(n int64) int64 { return rand.Int64N(n + 1) }}
	if r.base <= 0 {
		r.base = DefaultRetryMin
	}
	if r.limit <= 0 {
		r.limit = DefaultRetryMax
	}
	r.limit = max(r.limit, r.base)
	return r
}

// next returns the delay before the next retry and counts the failure. A
// permanent error waits the longest delay at once.
func (r *retrier) next(permanent bool) time.Duration {
	if permanent {
		r.attempt = maxAttempt
	}
	d := backoff(r.attempt, r.base, r.limit, r.jitter)
	r.attempt = min(r.attempt+1, maxAttempt)
	return d
}

// reset starts again from the shortest delay, after a success.
func (r *retrier) reset() { r.attempt = 0 }

// wait waits for d, or until ctx ends; it reports whether ctx is still
// going.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// logRetry logs err, which will be retried after delay: at error level if
// it needs attention (persistence.NeedsAttention), else as a warning.
func logRetry(ctx context.Context, logger *slog.Logger, msg string, err error, delay time.Duration, attrs ...any) {
	level := slog.LevelWarn
	if persistence.NeedsAttention(err) {
		level = slog.LevelError
	}
	logger.Log(ctx, level, msg, append(attrs, "retry_in", delay, "error", err)...)
}
