package system

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Lag is how far a process application is behind an application it
// follows, and how fast it is catching up.
type Lag struct {
	// Upstream names the application followed.
	Upstream string
	// Tracked is the last upstream notification processed; when the
	// upstream log is divided in partitions (RunnerOptions.Partitions),
	// the lowest position of the partitions, up to which every
	// notification is processed.
	Tracked int64
	// Head is the upstream's largest notification ID.
	Head int64
	// Behind is Head-Tracked, at most how many notifications are left to
	// process (IDs may have gaps).
	Behind int64
	// Oldest is the time of the oldest notification not processed yet
	// (the time its event was created), and Age how long ago that was;
	// zero when caught up.
	Oldest time.Time
	Age    time.Duration
	// Processed counts the notifications this process application has
	// processed since it started, and Rate is how many it processed per
	// second over the last RateWindow (0 before a first page).
	Processed int64
	Rate      float64
}

// RateWindow is the span over which Lag.Rate is measured.
const RateWindow = time.Minute

// Lag reports how far p is behind the application leader that it
// follows: the position it tracked, the leader's head, the age of the
// oldest notification left, and its processing rate. It reads the
// leader's log through the reader p follows it with.
func (p *ProcessApplication) Lag(ctx context.Context, leader string) (Lag, error) {
	p.mu.Lock()
	up, ok := p.upstreams[leader]
	p.mu.Unlock()
	if !ok {
		return Lag{}, fmt.Errorf("%s does not follow %q", p.Name(), leader)
	}
	lag := Lag{Upstream: leader}
	lag.Processed, lag.Rate = up.progress.rate(time.Now())
	var err error
	if lag.Tracked, err = p.tracked(ctx, leader); err != nil {
		return Lag{}, err
	}
	if lag.Head, err = up.reader.MaxNotificationID(ctx); err != nil {
		return Lag{}, err
	}
	lag.Behind = max(0, lag.Head-lag.Tracked)
	if lag.Behind == 0 {
		return lag, nil
	}
	next, err := up.reader.ReadNotifications(ctx, lag.Tracked+1, 1)
	if err != nil || len(next) == 0 {
		return lag, err
	}
	oldest, err := up.mapper.Timestamp(next[0].StoredEvent)
	if err != nil {
		return lag, fmt.Errorf("%s following %s: notification %d: %w", p.Name(), leader, next[0].ID, err)
	}
	lag.Oldest, lag.Age = oldest, max(0, time.Since(oldest))
	return lag, nil
}

// progress counts the notifications processed from one upstream, and
// keeps samples of the count over the last RateWindow for the rate.
type progress struct {
	mu      sync.Mutex
	total   int64
	samples []sample // oldest first, each within RateWindow of the last
}

type sample struct {
	at    time.Time
	total int64
}

// add counts n notifications processed at now.
func (pr *progress) add(now time.Time, n int) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if len(pr.samples) == 0 {
		// The first page: the rate runs from its start, not its end.
		pr.samples = append(pr.samples, sample{at: now, total: 0})
	}
	pr.total += int64(n)
	pr.samples = append(pr.samples, sample{at: now, total: pr.total})
	i := 0
	for i < len(pr.samples)-2 && now.Sub(pr.samples[i+1].at) > RateWindow {
		i++
	}
	pr.samples = pr.samples[i:]
}

// rate returns the total and the notifications per second over the
// samples kept, as of now.
func (pr *progress) rate(now time.Time) (int64, float64) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if len(pr.samples) < 2 {
		return pr.total, 0
	}
	first, last := pr.samples[0], pr.samples[len(pr.samples)-1]
	span := max(now.Sub(first.at), last.at.Sub(first.at))
	if span <= 0 {
		return pr.total, 0
	}
	return pr.total, float64(last.total-first.total) / span.Seconds()
}
