package system

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/google/uuid"
)

// wakeups collects the leaders of a process application that may have new
// events, and wakes the loop that follows them (see follow). It is safe
// for concurrent use.
type wakeups struct {
	signal  chan struct{} // capacity 1: a wake-up is pending
	mu      sync.Mutex
	pending map[string]bool
}

func newWakeups() *wakeups {
	return &wakeups{signal: make(chan struct{}, 1), pending: map[string]bool{}}
}

// prompt notes that leaders may have new events and wakes the loop,
// without blocking.
func (w *wakeups) prompt(leaders ...string) {
	w.mu.Lock()
	for _, l := range leaders {
		w.pending[l] = true
	}
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// take returns the prompted leaders and forgets them.
func (w *wakeups) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	leaders := make([]string, 0, len(w.pending))
	for l := range w.pending {
		leaders = append(leaders, l)
	}
	clear(w.pending)
	return leaders
}

// follow is the one loop of every follower that runs on its own (in a
// ConcurrentRunner, or in RunProcess). Of several instances of p on one
// store, in any processes, one follows at a time (app.Application.Exclusive)
// and the others stand by, so that each notification is processed once;
// when the active instance stops or dies, or loses its connection, another
// takes over where the tracking records say. With opts.Partitions above 1,
// the instances divide the work instead (see followDivided). It returns
// nil when ctx ends, and an error that a retry cannot cure (see
// followLeaders).
func follow(ctx context.Context, p *ProcessApplication, w *wakeups, opts RunnerOptions, logger *slog.Logger) error {
	defer p.telemetry.observeLag(p)()
	if opts.Partitions > 1 {
		return followDivided(ctx, p, w, opts, logger)
	}
	retry := newRetrier(opts)
	for {
		err := p.Exclusive(ctx, "follow "+p.Name(), func(ctx context.Context) error {
			retry.reset()
			w.prompt(p.Upstreams()...) // whatever happened while standing by
			return followLeaders(ctx, p, w, opts, logger)
		})
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			continue // the exclusion was given up: take it again
		case persistence.IsRetryable(err):
			p.telemetry.retry(ctx, "")
			delay := retry.next(persistence.NeedsAttention(err))
			logRetry(ctx, logger, "processing failed; retrying", err, delay, "application", p.Name())
			if !wait(ctx, delay) {
				return nil
			}
		default:
			return err
		}
	}
}

// followDivided is follow for instances that divide p's upstream logs in
// opts.Partitions partitions: each instance holds leases on its share of
// the partitions (holdLeases) and processes only their notifications, so
// that instances process at once, each notification once.
func followDivided(ctx context.Context, p *ProcessApplication, w *wakeups, opts RunnerOptions, logger *slog.Logger) error {
	d, err := p.divide(opts.Partitions)
	if err != nil {
		return err
	}
	// The leases are released only once processing has stopped, so that
	// no other instance takes a partition up while a page of it is
	// recorded here.
	processCtx, stopProcessing := context.WithCancel(ctx)
	defer stopProcessing()
	leaseCtx, stopLeases := context.WithCancel(context.WithoutCancel(ctx))
	var leaseErr error
	leasesReleased := make(chan struct{})
	go func() {
		defer close(leasesReleased)
		if leaseErr = holdLeases(leaseCtx, p, d, uuid.New(), opts.leaseTime(), w, opts, logger); leaseErr != nil {
			stopProcessing()
		}
	}()
	err = followLeaders(processCtx, p, w, opts, logger)
	stopLeases()
	<-leasesReleased
	return errors.Join(err, leaseErr)
}

// followLeaders is the loop of follow while it holds p's exclusion (or
// its leases): it processes the leaders prompted on w, whatever prompts them (saves in
// this process, the database's notifications), and every leader each poll
// interval. An error a retry may cure (see persistence.IsRetryable) is
// logged on logger and retried after a backoff; any other ends the loop
// and is returned. It returns nil when ctx ends.
func followLeaders(ctx context.Context, p *ProcessApplication, w *wakeups, opts RunnerOptions, logger *slog.Logger) error {
	retry := newRetrier(opts)
	ticker := time.NewTicker(opts.pollInterval())
	defer ticker.Stop()
	report := &progressReport{every: opts.progressInterval(), logger: logger, last: map[string]time.Time{}}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.signal:
		case <-ticker.C:
			w.prompt(p.Upstreams()...)
		}
		failed := false
		var delay time.Duration
		for _, leader := range w.take() {
			n, err := p.PullAndProcess(ctx, leader)
			if n > 0 {
				report.log(ctx, p, leader)
			}
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return nil
			case persistence.IsRetryable(err):
				p.telemetry.retry(ctx, leader)
				if !failed {
					failed, delay = true, retry.next(persistence.NeedsAttention(err))
				}
				logRetry(ctx, logger, "processing failed; retrying", err, delay, "application", p.Name(), "upstream", leader)
				w.prompt(leader) // still pending
			default:
				return err
			}
		}
		if !failed {
			retry.reset()
		} else if !wait(ctx, delay) {
			return nil
		}
	}
}

// progressReport logs a follower's progress at most every so often per
// upstream.
type progressReport struct {
	every  time.Duration
	logger *slog.Logger
	last   map[string]time.Time // per upstream
}

func (r *progressReport) log(ctx context.Context, p *ProcessApplication, leader string) {
	if r.every < 0 || time.Since(r.last[leader]) < r.every {
		return
	}
	r.last[leader] = time.Now()
	lag, err := p.Lag(ctx, leader)
	if err != nil {
		return // the next round of processing meets and reports it
	}
	r.logger.LogAttrs(ctx, slog.LevelInfo, "progress", slog.String("application", p.Name()), slog.String("upstream", leader),
		slog.Int64("processed", lag.Processed), slog.Float64("rate", lag.Rate), slog.Int64("tracked", lag.Tracked),
		slog.Int64("head", lag.Head), slog.Int64("behind", lag.Behind), slog.Duration("age", lag.Age))
}
