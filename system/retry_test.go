package system_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// proxy is a TCP proxy to a database server that a test can cut off: while
// blackholed it accepts connections and never answers, as a server behind
// a network blackhole does (the client's connect timeout fires).
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	forward bool
	conns   map[net.Conn]bool // every connection, value true if held unanswered
	wg      sync.WaitGroup
}

// startProxy listens on 127.0.0.1, blackholed; it stops at cleanup.
func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.Blackhole()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		forward := p.forward
		p.conns[client] = !forward
		p.mu.Unlock()
		if !forward {
			continue // hold it, silently
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[server] = false
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(server, client)
		go p.pipe(client, server)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Forward makes new connections reach the server, and drops those held
// unanswered (pgx waits up to 15 s for an answer to a cancel request sent
// while blackholed, holding up the close of its pool).
func (p *proxy) Forward() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forward = true
	for c, held := range p.conns {
		if held {
			c.Close()
			delete(p.conns, c)
		}
	}
}

// Blackhole cuts every connection and makes new ones go unanswered.
func (p *proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forward = false
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// runCounters runs the Counters process application with opts (and fast
// retries, no process environment) until ctx ends, logging to the Output
// it returns; the channel gets what RunProcess returns.
func runCounters(ctx context.Context, opts system.RunnerOptions) (*proctest.Output, <-chan error) {
	logs := &proctest.Output{}
	returned := make(chan error, 1)
	opts.Lookup = noEnv
	go func() {
		returned <- system.RunProcess(ctx, counters.System(), "Counters", system.ProcessOptions{
			RunnerOptions: fastRetries(opts),
			Logger:        slog.New(slog.NewTextHandler(logs, nil)),
		})
	}()
	return logs, returned
}

// waitForLogs waits up to 30 s until logs holds n lines containing msg,
// failing t if RunProcess returns first.
func waitForLogs(t *testing.T, logs *proctest.Output, returned <-chan error, msg string, n int) {
	t.Helper()
	waitUntil(t, logs, returned, fmt.Sprintf("waiting for %d %q", n, msg), func() bool {
		return strings.Count(logs.String(), msg) >= n
	})
}

// waitUntil checks done every 10 ms until it holds, failing t after 30 s
// or if RunProcess returns first (what says what it was waiting for).
func waitUntil(t *testing.T, logs *proctest.Output, returned <-chan error, what string, done func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case err := <-returned:
			t.Fatalf("RunProcess returned %v before its context ended, while %s; log:\n%s", err, what, logs.String())
		case <-deadline:
			t.Fatalf("timed out after 30 s while %s; log:\n%s", what, logs.String())
		case <-tick.C:
		}
	}
}

// fastRetries retries after 10 ms doubling up to 50 ms.
func fastRetries(opts system.RunnerOptions) system.RunnerOptions {
	opts.RetryMin, opts.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	return opts
}

// A follower process started against a server that accepts connections
// and never answers (the connect timeout fires inside the driver) keeps
// retrying until its own context is canceled, and then returns nil. Not
// parallel, so that goleak sees only its goroutines.
func TestRunProcessRetriesAgainstASilentServer(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the proxy stops
	silent := startProxy(t, "")                        // never forwards
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, returned := runCounters(ctx, system.RunnerOptions{Env: map[string]string{
		"PERSISTENCE_MODULE": "postgres", "POSTGRES_CONNECT_TIMEOUT": "1",
		"DATABASE_URL": "postgres://u@" + silent.Addr() + "/db?sslmode=disable",
	}})
	waitForLogs(t, logs, returned, "starting failed; retrying", 3)
	require.Contains(t, logs.String(), "connection failure")
	cancel()
	select {
	case err := <-returned:
		require.NoError(t, err, "stopping is not an error")
	case <-time.After(30 * time.Second):
		t.Fatal("RunProcess did not return after its context was canceled")
	}
}

// A follower process started while its database is unreachable (a
// blackhole) starts once it is reachable and processes the leader's
// events; cut off again mid-run, it retries, then catches up. Every
// notification is processed exactly once.
func TestRunProcessResumesWhenTheDatabaseBecomesReachable(t *testing.T) {
	t.Parallel()
	env := postgresEnv(t)
	u, err := url.Parse(env["DATABASE_URL"])
	require.NoError(t, err)
	p := startProxy(t, u.Host)
	viaProxy := *u
	viaProxy.Host = p.Addr()
	processEnv := map[string]string{"COUNTERS_DATABASE_URL": viaProxy.String(), "POSTGRES_CONNECT_TIMEOUT": "1"}
	for k, v := range env {
		processEnv[k] = v
	}

	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema, directly
	want := writeWorlds(t, worldsApp, 5, 10)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, returned := runCounters(ctx, system.RunnerOptions{Env: processEnv, PollInterval: 100 * time.Millisecond})
	waitUntil(t, logs, returned, "unreachable at start", func() bool { return strings.Count(logs.String(), "starting failed; retrying") >= 2 })
	require.Zero(t, trackedCount(t, countersApp))

	p.Forward()
	waitUntil(t, logs, returned, "catching up", func() bool { return trackedCount(t, countersApp) == 50 })
	requireExactlyOnce(t, worldsApp, countersApp, want)

	// Cut off mid-run: the follower's connections fail and new ones time out.
	p.Blackhole()
	failures := strings.Count(logs.String(), "processing failed; retrying")
	more := writeWorlds(t, worldsApp, 3, 10)
	for what, n := range more {
		want[what] += n
	}
	waitUntil(t, logs, returned, "cut off mid-run", func() bool {
		return strings.Count(logs.String(), "processing failed; retrying") >= failures+2
	})
	require.Equal(t, int64(50), trackedCount(t, countersApp))

	p.Forward()
	waitUntil(t, logs, returned, "catching up again", func() bool { return trackedCount(t, countersApp) == 80 })
	requireExactlyOnce(t, worldsApp, countersApp, want)

	cancel()
	select {
	case err := <-returned:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("RunProcess did not return after its context was canceled")
	}
}

// A permanent error (here a database that does not exist, SQLSTATE
// 3D000) is retried too, but logged at error level on every attempt.
func TestRunProcessLogsPermanentErrorsAtErrorLevel(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.ServerURL(t))
	require.NoError(t, err)
	u.Path = "/no_such_database"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, returned := runCounters(ctx, system.RunnerOptions{Env: map[string]string{
		"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": u.String(),
	}})
	waitForLogs(t, logs, returned, "level=ERROR", 2)
	require.Contains(t, logs.String(), "3D000")
	require.NotContains(t, logs.String(), "level=WARN", "a permanent error is not a warning")
	cancel()
	require.NoError(t, <-returned)
}

// A follower of a ConcurrentRunner whose database is cut off mid-run
// retries (logging to slog.Default) instead of stopping the runner, and
// catches up exactly once when the database is back; Stop leaves no
// goroutine behind. Not parallel: it replaces the default logger.
func TestConcurrentRunnerFollowerRetriesDatabaseErrors(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after every other cleanup
	var logs proctest.Output
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(previous) })

	env := postgresEnv(t)
	u, err := url.Parse(env["DATABASE_URL"])
	require.NoError(t, err)
	p := startProxy(t, u.Host)
	p.Forward()
	viaProxy := *u
	viaProxy.Host = p.Addr()
	runnerEnv := map[string]string{"COUNTERS_DATABASE_URL": viaProxy.String(), "POSTGRES_CONNECT_TIMEOUT": "1"}
	for k, v := range env {
		runnerEnv[k] = v
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	runner := system.NewConcurrentRunner(counters.System(),
		fastRetries(system.RunnerOptions{Env: runnerEnv, Lookup: noEnv, PollInterval: 100 * time.Millisecond}))
	require.NoError(t, runner.Start(ctx))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			runner.Stop()
		}
	})
	worldsApp := runner.App("Worlds")
	want := writeWorlds(t, worldsApp, 5, 10)
	require.NoError(t, runner.WaitCaughtUp(ctx))

	p.Blackhole()
	more := writeWorlds(t, worldsApp, 3, 10) // prompts the follower, which fails
	for what, n := range more {
		want[what] += n
	}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for strings.Count(logs.String(), "processing failed; retrying") < 2 {
		select {
		case <-runner.Stopped():
			t.Fatalf("the runner stopped: %v", runner.Err())
		case <-deadline:
			t.Fatalf("fewer than 2 retries in 30 s; log:\n%s", logs.String())
		case <-tick.C:
		}
	}
	require.NoError(t, runner.Err())

	p.Forward()
	require.NoError(t, runner.WaitCaughtUp(ctx))
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env)
	requireExactlyOnce(t, worldsApp, countersApp, want)
	stopped = true
	require.NoError(t, runner.Stop())
}

// startRefusingServer listens on 127.0.0.1 and answers every connection as
// PostgreSQL answers a wrong password: an ErrorResponse with SQLSTATE 28P01
// to the startup message. It returns its address and a count of the logins
// it refused; it stops at cleanup. (The test cluster trusts every login, so
// it cannot refuse a password itself.)
func startRefusingServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var refused atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				backend := pgproto3.NewBackend(conn, conn)
				msg, err := backend.ReceiveStartupMessage()
				if err != nil {
					return
				}
				startup, ok := msg.(*pgproto3.StartupMessage)
				if !ok {
					return
				}
				backend.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "28P01",
					Message: fmt.Sprintf("password authentication failed for user %q", startup.Parameters["user"])})
				if backend.Flush() == nil {
					refused.Add(1)
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), &refused
}

// A follower process whose password is refused (28P01) keeps retrying,
// logging the refusal at error level on each attempt, until its own
// context is canceled: a wrong password is fixed without restarting it.
func TestRunProcessRetriesAWrongPassword(t *testing.T) {
	t.Parallel()
	addr, refused := startRefusingServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, returned := runCounters(ctx, system.RunnerOptions{Env: map[string]string{
		"PERSISTENCE_MODULE": "postgres",
		"DATABASE_URL":       "postgres://app:wrong@" + addr + "/db?sslmode=disable",
	}})
	waitForLogs(t, logs, returned, "level=ERROR", 3)
	require.Contains(t, logs.String(), "28P01")
	require.NotContains(t, logs.String(), "level=WARN", "a refused password is not a warning")
	require.NotContains(t, logs.String(), "wrong", "the password is not logged")
	require.GreaterOrEqual(t, refused.Load(), int64(3), "each attempt logged in again")
	for _, m := range regexp.MustCompile(`level=ERROR .*retry_in=(\S+)`).FindAllStringSubmatch(logs.String(), -1) {
		wait, err := time.ParseDuration(m[1])
		require.NoError(t, err)
		require.GreaterOrEqual(t, wait, 25*time.Millisecond, "each retry waits the longest delay (50 ms here, with equal jitter)")
	}
	cancel()
	select {
	case err := <-returned:
		require.NoError(t, err, "stopping is not an error")
	case <-time.After(30 * time.Second):
		t.Fatal("RunProcess did not return after its context was canceled")
	}
}
