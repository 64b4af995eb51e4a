package system

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// ProcessOptions configures RunProcess.
type ProcessOptions struct {
	// RunnerOptions configure the applications; PollInterval is how often
	// to look for new events when no notification arrives: a fallback for
	// lost notifications and lost connections.
	RunnerOptions
	// Logger receives what RunProcess logs (the errors it retries, its
	// progress); nil means RunnerOptions.Logger, then slog.Default().
	Logger *slog.Logger
}

// RunProcess runs the process application name of sys in this OS process,
// against PostgreSQL or SQLite files, until ctx ends (then it returns
// nil). It builds the
// application and, to read their notification logs through the database,
// the applications it follows (or, for a leader whose
// <LEADER>_NOTIFICATION_LOG_URL is set, an httplog client of its log
// served over HTTP, so that the leader may be on another PostgreSQL
// server); processes what is pending; then waits until a leader may have
// new events, or PollInterval, and processes again, in the same loop as a
// ConcurrentRunner's followers. It watches a leader in a database with
// app.Application.Watch (LISTEN and NOTIFY on PostgreSQL; SQLite is
// checked every app.SQLiteWatchInterval), and a remote
// one with httplog.Client.Watch (long polls, which the log server answers
// as soon as the leader records events when it serves with a
// HandlerOptions.Watcher); a watch that fails is logged and started again
// after a delay that grows as the retries' below do, but is never longer
// than PollInterval, and the leader is polled meanwhile (only polled when
// the failure is not one to retry, such as a log server that cannot
// wait). Other processes
// run the leaders, and may run more instances of this application: each
// notification is still processed once.
//
// Only ctx ending stops it for the database's sake. Database errors, also
// while starting, are logged and retried after a delay that starts at
// RetryMin and doubles with each failure in a row, up to RetryMax, with
// jitter: a server that cannot be reached or does not answer (the driver's
// connect timeout is persistence.ErrConnection), operational errors, and
// errors that need someone to fix the database or the configuration (a
// rejected password, SQLSTATE class 28; a missing database, 3D000; a
// schema without the event store), which are logged at error level and
// retried after RetryMax; so is a policy error that wraps such a database
// error (the policy's own read failed). Any other policy error, an event
// it cannot decode, or an error about the data (persistence.ErrIntegrity,
// ErrData), ends RunProcess with that error; restarting resumes at the
// same notification.
// A bad configuration (config.ErrInvalid) ends it at once, and with
// the in-memory module it returns an error that is errors.Is(err,
// persistence.ErrNotSupported).
func RunProcess(ctx context.Context, sys *System, name string, opts ProcessOptions) error {
	spec, ok := sys.App(name)
	if !ok || spec.Policy == nil {
		return fmt.Errorf("run process %q: %w: not a process application of the system", name, ErrSystem)
	}
	if err := opts.checkDivision(); err != nil {
		return err
	}
	poll := opts.pollInterval()
	logger := opts.Logger
	if logger == nil {
		logger = opts.RunnerOptions.logger()
	}
	retry := newRetrier(opts.RunnerOptions)
	process, leaders, watchers, err := buildProcess(ctx, sys, name, opts.RunnerOptions)
	for err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if !persistence.IsRetryable(err) {
			return err
		}
		delay := retry.next(persistence.NeedsAttention(err))
		logRetry(ctx, logger, "starting failed; retrying", err, delay, "application", name)
		if !wait(ctx, delay) {
			return nil
		}
		process, leaders, watchers, err = buildProcess(ctx, sys, name, opts.RunnerOptions)
	}
	retry.reset()
	defer func() {
		process.Close()
		for _, l := range leaders {
			l.Close()
		}
	}()

	wake := newWakeups()
	watchCtx, stopWatching := context.WithCancel(ctx)
	var watching sync.WaitGroup
	defer func() { stopWatching(); watching.Wait() }()
	for leader, w := range watchers {
		wake.prompt(leader)
		watching.Add(1)
		go func() {
			defer watching.Done()
			watch(watchCtx, leader, w, wake, poll, newRetrier(opts.RunnerOptions), logger)
		}()
	}
	return follow(ctx, process, wake, opts.RunnerOptions, logger)
}

// watcher tells when a leader may have new events: *app.Application (its
// store's notifications) and *httplog.Client (its log server's answers).
// Both call wake on Watch's goroutine.
type watcher interface {
	Watch(ctx context.Context, wake func()) error
}

// buildProcess builds the process application name, the applications it
// follows in their databases, and the watchers of all its leaders, by
// name.
func buildProcess(ctx context.Context, sys *System, name string, opts RunnerOptions) (*ProcessApplication, []*app.Application, map[string]watcher, error) {
	options := func(n string) app.Options {
		spec, _ := sys.App(n)
		o := app.Options{Name: n, Registry: spec.Registry, Env: opts.Env, Lookup: opts.Lookup}
		if spec.Options != nil {
			spec.Options(&o)
		}
		return o
	}
	build := func(n string) (*app.Application, error) {
		a, err := app.New(ctx, options(n))
		if err != nil {
			return nil, fmt.Errorf("run process %s: %w", n, err)
		}
		if a.Module() == app.Memory {
			a.Close()
			return nil, fmt.Errorf("run process %s: %w: applications in separate processes need the postgres or the sqlite module", n, persistence.ErrNotSupported)
		}
		return a, nil
	}
	a, err := build(name)
	if err != nil {
		return nil, nil, nil, err
	}
	process := NewProcessApplication(a, sys.apps[name].Policy)
	process.SetPaging(opts.Paging)
	var leaders []*app.Application
	watchers := map[string]watcher{}
	for _, leaderName := range sys.Leaders(name) {
		client, err := followRemote(process, options(leaderName))
		if err != nil {
			a.Close()
			for _, l := range leaders {
				l.Close()
			}
			return nil, nil, nil, fmt.Errorf("run process %s: %w", name, err)
		}
		if client != nil {
			watchers[leaderName] = client
			continue
		}
		leader, err := build(leaderName)
		if err != nil {
			a.Close()
			for _, l := range leaders {
				l.Close()
			}
			return nil, nil, nil, err
		}
		process.Follow(leader)
		leaders = append(leaders, leader)
		watchers[leaderName] = leader
	}
	all := map[string]*app.Application{name: a}
	for _, l := range leaders {
		all[l.Name()] = l
	}
	if err := checkSeparateStores(all); err != nil {
		for _, x := range all {
			x.Close()
		}
		return nil, nil, nil, err
	}
	return process, leaders, watchers, nil
}

// watch prompts wake with leader whenever w says that it may have new
// events (see app.Application.Watch and httplog.Client.Watch), until ctx
// ends. A lost connection is logged and watched again after retry's
// delay, at most poll (its failures in a row count from the last watch
// that woke at its start); meanwhile the follower polls. An error that a
// retry cannot cure (persistence.IsRetryable), such as a log server that
// refuses to wait, is logged and ends the watch: the follower only polls.
func watch(ctx context.Context, leader string, w watcher, wake *wakeups, poll time.Duration, retry *retrier, logger *slog.Logger) {
	for {
		watched := false
		err := w.Watch(ctx, func() {
			watched = true
			wake.prompt(leader)
		})
		if ctx.Err() != nil {
			return
		}
		if !persistence.IsRetryable(err) {
			logger.Warn("cannot watch for new events; polling only", "upstream", leader, "error", err)
			return
		}
		if watched {
			retry.reset()
		}
		delay := min(retry.next(persistence.NeedsAttention(err)), poll)
		logger.Warn("watching for new events failed; polling meanwhile", "upstream", leader, "error", err, "retry", delay)
		if !wait(ctx, delay) {
			return
		}
	}
}

// The variables that make RunProcess follow a leader over HTTP, each
// prefixed with the leader's name (WORLDS_NOTIFICATION_LOG_URL).
const (
	// EnvNotificationLogURL is the URL at which the leader's notification
	// log is served (httplog.NewHandler). Set, RunProcess reads the leader
	// there instead of in a database, so that the leader may be on
	// another PostgreSQL server.
	EnvNotificationLogURL = "NOTIFICATION_LOG_URL"
	// EnvNotificationLogToken is the bearer token sent with the requests.
	// The client's TLS settings are read from the leader's variables too:
	// see httplog.ClientOptionsFromEnv.
	EnvNotificationLogToken = httplog.EnvClientToken
)

// followRemote makes process follow the leader of opts over HTTP, and
// returns the client it reads with, when the leader's
// NOTIFICATION_LOG_URL is set (else nil), configured by the leader's
// variables (httplog.ClientOptionsFromEnv). The leader's events are decoded
// with the mapper its options give (its registry, and its cipher and
// compressor settings).
func followRemote(process *ProcessApplication, opts app.Options) (*httplog.Client, error) {
	env := config.Environment{Name: opts.Name, Values: opts.Env, Lookup: opts.Lookup}
	url := env.String(EnvNotificationLogURL, "")
	if url == "" {
		return nil, nil
	}
	clientOpts, err := httplog.ClientOptionsFromEnv(env)
	if err != nil {
		return nil, err
	}
	client, err := httplog.NewClient(url, clientOpts)
	if err != nil {
		name, _, _ := env.Find(EnvNotificationLogURL)
		return nil, &config.Error{Var: name, Value: url, Reason: err.Error()}
	}
	mapper, err := app.NewMapper(opts)
	if err != nil {
		return nil, err
	}
	process.FollowLog(opts.Name, client, mapper)
	return client, nil
}
