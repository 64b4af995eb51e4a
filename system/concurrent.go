package system

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
)

// DefaultPollInterval is how often a follower of a ConcurrentRunner looks
// for new events when nobody prompted it.
const DefaultPollInterval = time.Second

// ConcurrentRunner runs each process application of a system in its own
// goroutine. A leader's Save prompts its followers without waiting for
// them, so followers are eventually consistent with their leaders; each
// also polls every RunnerOptions.PollInterval, in case events were
// recorded elsewhere.
// A database error that a retry may cure (see RunProcess) is logged on
// RunnerOptions.Logger and retried after a backoff (RunnerOptions.RetryMin and
// RetryMax); any other processing error, such as a policy error, stops
// the runner, and Err and Stop return it.
type ConcurrentRunner struct {
	sys  *System
	opts RunnerOptions

	mu      sync.Mutex
	apps    *apps
	workers map[string]*worker
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	err     error
	stopped chan struct{} // closed when the runner stops (by Stop or an error)
}

// worker runs one process application.
type worker struct {
	process *ProcessApplication
	wake    *wakeups
}

// NewConcurrentRunner returns a runner of sys that builds its applications
// with opts.
func NewConcurrentRunner(sys *System, opts RunnerOptions) *ConcurrentRunner {
	return &ConcurrentRunner{sys: sys, opts: opts, stopped: make(chan struct{})}
}

// Start builds the applications and starts one goroutine per process
// application, which first catches up with its leaders. It returns
// ErrRunnerStarted when called twice and the errors of app.New. ctx bounds
// only the start; Stop ends the goroutines.
func (r *ConcurrentRunner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apps != nil {
		return ErrRunnerStarted
	}
	if err := r.opts.checkDivision(); err != nil {
		return err
	}
	built, err := buildApps(ctx, r.sys, r.opts)
	if err != nil {
		return err
	}
	r.apps = built
	r.workers = map[string]*worker{}
	for name, p := range built.processes {
		w := &worker{process: p, wake: newWakeups()}
		w.wake.prompt(r.sys.leaders[name]...) // catch up first
		r.workers[name] = w
	}
	for leader, followers := range r.sys.followers {
		leader, followers := leader, followers
		built.byName[leader].OnRecorded(func(context.Context, []int64) error {
			for _, f := range followers {
				r.workers[f].wake.prompt(leader)
			}
			return nil
		})
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for _, w := range r.workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := follow(runCtx, w.process, w.wake, r.opts, r.opts.logger()); err != nil {
				r.fail(err)
			}
		}()
	}
	return nil
}

// fail records the first error and stops every worker.
func (r *ConcurrentRunner) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
		close(r.stopped)
	}
	r.cancel()
}

// Err returns the error that stopped the runner, or nil.
func (r *ConcurrentRunner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Stopped returns a channel closed when a processing error stops the
// runner.
func (r *ConcurrentRunner) Stopped() <-chan struct{} { return r.stopped }

// App returns the running application of that name, or nil.
func (r *ConcurrentRunner) App(name string) *app.Application {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apps == nil {
		return nil
	}
	return r.apps.byName[name]
}

// Process returns the running process application of that name, or nil.
func (r *ConcurrentRunner) Process(name string) *ProcessApplication {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apps == nil {
		return nil
	}
	return r.apps.processes[name]
}

// WaitCaughtUp waits until every process application has processed every
// notification its leaders had recorded when it was called, or the runner
// stopped (returning its error), or ctx ended.
func (r *ConcurrentRunner) WaitCaughtUp(ctx context.Context) error {
	r.mu.Lock()
	built := r.apps
	r.mu.Unlock()
	if built == nil {
		return errors.New("runner not started")
	}
	targets := map[[2]string]int64{}
	for follower, leaders := range r.sys.leaders {
		for _, leader := range leaders {
			max, err := built.byName[leader].Log().MaxNotificationID(ctx)
			if err != nil {
				return err
			}
			targets[[2]string{follower, leader}] = max
		}
	}
	for {
		behind := false
		for key, target := range targets {
			tracked, err := built.processes[key[0]].tracked(ctx, key[1])
			if err != nil {
				return err
			}
			behind = behind || tracked < target
		}
		if !behind {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.stopped:
			return r.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Stop stops the goroutines, waits for them to end and closes the
// applications. It returns the error that stopped the runner, if any.
func (r *ConcurrentRunner) Stop() error {
	r.mu.Lock()
	cancel, built := r.cancel, r.apps
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
	if built != nil {
		built.close()
	}
	return r.Err()
}
