package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
)

// ErrRunnerStarted is returned by Start on a runner that was started before.
var ErrRunnerStarted = errors.New("runner already started")

// RunnerOptions configures how a runner builds the applications.
type RunnerOptions struct {
	// Env holds configuration for every application, overriding the
	// process environment; prefix a variable with an application's name
	// (COUNTERS_POSTGRES_SCHEMA) to set it for that application only.
	Env map[string]string
	// Lookup reads the process environment; nil means os.LookupEnv.
	Lookup func(string) (string, bool)
	// PollInterval is how often a follower of a ConcurrentRunner, or of
	// RunProcess, looks for new events when nobody prompted it
	// (DefaultPollInterval when zero).
	PollInterval time.Duration
	// Logger receives what the followers of a ConcurrentRunner and of
	// RunProcess log: the errors they retry, and their progress
	// (slog.Default() when nil; ProcessOptions.Logger wins for RunProcess).
	Logger *slog.Logger
	// ProgressInterval is how often, at most, a follower logs its
	// progress (processed notifications, rate and lag; see
	// ProcessApplication.Lag) at info level while it processes
	// notifications (DefaultProgressInterval when zero; negative: never).
	ProgressInterval time.Duration
	// Paging bounds the pages in which the process applications process
	// notifications (see Paging; the zero value is the default).
	Paging Paging
	// Partitions, above 1, divides the upstream logs of each process
	// application in that many partitions, by a hash of the originator ID
	// (PartitionOf), among the instances that run it (a ConcurrentRunner's
	// follower, or RunProcess, in any processes): each instance holds
	// leases on its share of the partitions (persistence.PartitionRecorder)
	// and processes only their notifications, so that instances work at
	// once, each notification once. Every instance must be given the same
	// count, which cannot change once the first instance recorded it
	// (persistence.ErrPartitionCount). 0 or 1: the logs are not divided;
	// one instance processes and the others stand by. See docs/system.md.
	// A count below 0 or above MaxPartitions is a *config.Error, and so is
	// any count above 1 for a SingleThreadedRunner.
	Partitions int
	// LeaseTime is how long an instance's leases on partitions last
	// (DefaultLeaseTime when zero; negative is a *config.Error): the
	// partitions of an instance that died are taken over after it. Leases
	// are renewed every third of it.
	LeaseTime time.Duration
	// RetryMin and RetryMax bound the delay before RunProcess, or a
	// follower of a ConcurrentRunner, retries after a database error: the
	// delay starts at RetryMin and doubles with each failure in a row up
	// to RetryMax, each delay taken at random between half and all of it
	// (DefaultRetryMin, 100 ms, and DefaultRetryMax, 30 s, when zero).
	RetryMin, RetryMax time.Duration
}

// DefaultProgressInterval is how often, at most, a follower logs its
// progress by default.
const DefaultProgressInterval = 10 * time.Second

func (o RunnerOptions) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o RunnerOptions) progressInterval() time.Duration {
	if o.ProgressInterval == 0 {
		return DefaultProgressInterval
	}
	return o.ProgressInterval
}

// MaxPartitions is the most partitions a follower's logs may be divided
// in (RunnerOptions.Partitions).
const MaxPartitions = 1024

// checkDivision returns a *config.Error for a partition count or lease
// time that cannot be honoured.
func (o RunnerOptions) checkDivision() error {
	if o.Partitions < 0 || o.Partitions > MaxPartitions {
		return &config.Error{Var: "system.RunnerOptions.Partitions", Value: strconv.Itoa(o.Partitions),
			Reason: fmt.Sprintf("0 to %d partitions are expected", MaxPartitions)}
	}
	if o.LeaseTime < 0 {
		return &config.Error{Var: "system.RunnerOptions.LeaseTime", Value: o.LeaseTime.String(), Reason: "a lease time cannot be negative"}
	}
	return nil
}

func (o RunnerOptions) leaseTime() time.Duration {
	if o.LeaseTime > 0 {
		return o.LeaseTime
	}
	return DefaultLeaseTime
}

func (o RunnerOptions) pollInterval() time.Duration {
	if o.PollInterval > 0 {
		return o.PollInterval
	}
	return DefaultPollInterval
}

// apps builds the applications of a system. Process applications follow
// their leaders.
type apps struct {
	byName    map[string]*app.Application
	processes map[string]*ProcessApplication
}

func buildApps(ctx context.Context, sys *System, opts RunnerOptions) (*apps, error) {
	built := &apps{byName: map[string]*app.Application{}, processes: map[string]*ProcessApplication{}}
	for _, name := range sys.names {
		spec := sys.apps[name]
		o := app.Options{Name: name, Registry: spec.Registry, Env: opts.Env, Lookup: opts.Lookup}
		if spec.Options != nil {
			spec.Options(&o)
		}
		a, err := app.New(ctx, o)
		if err != nil {
			built.close()
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		built.byName[name] = a
		if spec.Policy != nil {
			built.processes[name] = NewProcessApplication(a, spec.Policy)
			built.processes[name].SetPaging(opts.Paging)
		}
	}
	if err := checkSeparateStores(built.byName); err != nil {
		built.close()
		return nil, err
	}
	for follower, leaders := range sys.leaders {
		for _, leader := range leaders {
			built.processes[follower].Follow(built.byName[leader])
		}
	}
	return built, nil
}

// checkSeparateStores returns an error (errors.Is ErrSystem) if two of the
// applications record in the same store (see app.Application.Store):
// their events would mix, and a follower would read its own events as its
// leader's. It happens when the plain POSTGRES_SCHEMA is set for a whole
// system.
func checkSeparateStores(apps map[string]*app.Application) error {
	seen := map[string]string{}
	for name, a := range apps {
		if other, ok := seen[a.Store()]; ok {
			first, second := min(name, other), max(name, other)
			return fmt.Errorf("%w: %s and %s would both record in the schema %q; give each its own, with %s_POSTGRES_SCHEMA and %s_POSTGRES_SCHEMA rather than POSTGRES_SCHEMA",
				ErrSystem, first, second, a.Schema(), envPrefix(first), envPrefix(second))
		}
		seen[a.Store()] = name
	}
	return nil
}

func envPrefix(name string) string { return strings.ToUpper(config.SnakeCase(name)) }

func (b *apps) close() {
	for _, a := range b.byName {
		a.Close()
	}
}

// SingleThreadedRunner runs a system synchronously: when a command saves
// events in a leader, every follower processes them, and their followers
// in turn, before Save returns; a policy error is returned by that Save as
// a *app.NotifyError wrapping the *PolicyError. It suits tests and
// in-memory systems. Commands must not be run concurrently; use
// ConcurrentRunner for that.
type SingleThreadedRunner struct {
	sys  *System
	opts RunnerOptions

	mu          sync.Mutex
	apps        *apps
	queue       []string // leaders with new events to process
	dispatching bool
}

// NewSingleThreadedRunner returns a runner of sys that builds its
// applications with opts.
func NewSingleThreadedRunner(sys *System, opts RunnerOptions) *SingleThreadedRunner {
	return &SingleThreadedRunner{sys: sys, opts: opts}
}

// Start builds the applications, connects leaders to followers and
// processes whatever the followers have not processed yet (with durable
// persistence, events recorded before this start). It returns
// ErrRunnerStarted when called twice, and the errors of app.New and of
// processing. Its followers process in the callers' goroutines, so it
// cannot divide their logs among instances: RunnerOptions.Partitions above
// 1 is refused (a *config.Error).
func (r *SingleThreadedRunner) Start(ctx context.Context) error {
	if err := r.opts.checkDivision(); err != nil {
		return err
	}
	if r.opts.Partitions > 1 {
		return &config.Error{Var: "system.RunnerOptions.Partitions", Value: strconv.Itoa(r.opts.Partitions),
			Reason: "the single-threaded runner processes in the callers' goroutines and divides nothing; use a ConcurrentRunner or RunProcess"}
	}
	r.mu.Lock()
	if r.apps != nil {
		r.mu.Unlock()
		return ErrRunnerStarted
	}
	built, err := buildApps(ctx, r.sys, r.opts)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	r.apps = built
	r.mu.Unlock()
	for leader := range r.sys.followers {
		leader := leader
		built.byName[leader].OnRecorded(func(ctx context.Context, _ []int64) error { return r.prompt(ctx, leader) })
	}
	for leader := range r.sys.followers {
		if err := r.prompt(ctx, leader); err != nil {
			return err
		}
	}
	return nil
}

// prompt queues leader and, unless already dispatching (a follower's own
// new events prompt from within), processes the queue until it is empty.
func (r *SingleThreadedRunner) prompt(ctx context.Context, leader string) error {
	r.mu.Lock()
	r.queue = append(r.queue, leader)
	if r.dispatching {
		r.mu.Unlock()
		return nil
	}
	r.dispatching = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.dispatching = false
		r.queue = nil
		r.mu.Unlock()
	}()
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.mu.Unlock()
			return nil
		}
		next := r.queue[0]
		r.queue = r.queue[1:]
		built := r.apps
		r.mu.Unlock()
		for _, follower := range r.sys.followers[next] {
			if _, err := built.processes[follower].PullAndProcess(ctx, next); err != nil {
				return err
			}
		}
	}
}

// App returns the running application of that name, or nil.
func (r *SingleThreadedRunner) App(name string) *app.Application {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apps == nil {
		return nil
	}
	return r.apps.byName[name]
}

// Process returns the running process application of that name, or nil.
func (r *SingleThreadedRunner) Process(name string) *ProcessApplication {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apps == nil {
		return nil
	}
	return r.apps.processes[name]
}

// Stop closes the applications. The runner cannot be started again.
func (r *SingleThreadedRunner) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apps != nil {
		r.apps.close()
	}
	return nil
}
