package system_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// logServer serves a notification log on a fixed loopback address, and
// can be stopped and started again there.
type logServer struct {
	addr    string
	handler http.Handler
	srv     *http.Server
}

func (s *logServer) start(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", s.addr)
	require.NoError(t, err)
	s.addr = l.Addr().String()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
}

func (s *logServer) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.srv.Close())
}

// remoteFollower starts, in a database of its own, the Counters process
// application (RunProcess) following Worlds through the log served at
// url with token, polling every poll, and stops it at the end of t. It
// returns the follower's application, to check, and a condition that
// holds once n Worlds notifications are tracked.
func remoteFollower(t *testing.T, url, token string, poll time.Duration) (*app.Application, func(n int64) func() bool) {
	t.Helper()
	return remoteFollowerOf(t, counters.System(), url, token, poll)
}

// remoteFollowerOf is remoteFollower with the Counters application of sys.
func remoteFollowerOf(t *testing.T, sys *system.System, url, token string, poll time.Duration) (*app.Application, func(n int64) func() bool) {
	t.Helper()
	env := map[string]string{
		"PERSISTENCE_MODULE":            "postgres",
		"DATABASE_URL":                  pgtest.NewDatabaseURL(t),
		"COUNTERS_POSTGRES_SCHEMA":      pgtest.NewSchemaName(t),
		"WORLDS_NOTIFICATION_LOG_URL":   url,
		"WORLDS_NOTIFICATION_LOG_TOKEN": token,
	}
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema
	runCtx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- system.RunProcess(runCtx, sys, "Counters", system.ProcessOptions{
			RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: poll,
				RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond},
			Logger: slog.New(slog.DiscardHandler),
		})
	}()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done, "RunProcess ends cleanly")
	})
	return countersApp, func(n int64) func() bool {
		return func() bool { got, err := tracked(t.Context(), countersApp); return err == nil && got >= n }
	}
}

// The leader and the follower are in two databases; RunProcess follows the
// leader over HTTP by configuration alone (WORLDS_NOTIFICATION_LOG_URL),
// through the log server's stop and restart, and processes every
// notification exactly once. The follower's configuration does not name
// the leader's database.
func TestRunProcessFollowsALeaderInAnotherDatabaseOverHTTP(t *testing.T) {
	t.Parallel()
	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	want := writeWorlds(t, worldsApp, 10, 20)

	const token = "a secret of the test"
	handler, err := httplog.NewHandler(worldsApp.Log(), httplog.HandlerOptions{Tokens: []string{token}})
	require.NoError(t, err)
	server := &logServer{addr: "127.0.0.1:0", handler: handler}
	server.start(t)
	defer func() { _ = server.srv.Close() }()

	countersApp, trackedAtLeast := remoteFollower(t, "http://"+server.addr, token, 20*time.Millisecond)
	require.Eventually(t, trackedAtLeast(200), time.Minute, 10*time.Millisecond)
	requireExactlyOnce(t, worldsApp, countersApp, want)

	// The log server stops; the leader records more; the server starts again.
	server.stop(t)
	more := writeWorlds(t, worldsApp, 5, 20)
	for what, n := range more {
		want[what] += n
	}
	time.Sleep(200 * time.Millisecond) // the outage: the follower's reads fail and are retried
	server.start(t)
	require.Eventually(t, trackedAtLeast(300), time.Minute, 10*time.Millisecond)
	requireExactlyOnce(t, worldsApp, countersApp, want)
}

// A remote follower that polls once an hour is woken by its leader's log
// server (whose handler watches the leader) as soon as the leader records
// events, also after the log server restarted at once (the client's
// retries see it back) or after an outage longer than the client's
// retries (the follower watches again after a backoff): it processes them
// within seconds, exactly once.
func TestRemoteFollowerIsWokenByItsLeadersSaves(t *testing.T) {
	t.Parallel()
	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	want := writeWorlds(t, worldsApp, 2, 5)
	handler, err := httplog.NewHandler(worldsApp.Log(), httplog.HandlerOptions{Tokens: []string{"t"}, Watcher: worldsApp})
	require.NoError(t, err)
	server := &logServer{addr: "127.0.0.1:0", handler: handler}
	server.start(t)
	defer func() { _ = server.srv.Close() }()

	countersApp, trackedAtLeast := remoteFollower(t, "http://"+server.addr, "t", time.Hour)
	require.Eventually(t, trackedAtLeast(10), time.Minute, 10*time.Millisecond, "what was there at the start")
	for i, n := range []int64{15, 20, 25} {
		if i > 0 {
			server.stop(t)
		}
		for what, n := range writeWorlds(t, worldsApp, 1, 5) {
			want[what] += n
		}
		if i == 2 {
			time.Sleep(3 * time.Second) // longer than the client's 5 attempts take (at most 1.5 s)
		}
		if i > 0 {
			server.start(t)
		}
		require.Eventually(t, trackedAtLeast(n), 10*time.Second, 10*time.Millisecond, "woken (not polled, nor answered at the end of a wait of 15 s)")
	}
	requireExactlyOnce(t, worldsApp, countersApp, want)
}

// A log server that cannot wait (an older one, which answers 400 to
// GET /head?after=N&wait=D) is polled, and not asked to wait again.
func TestRemoteFollowerPollsALogServerThatCannotWait(t *testing.T) {
	t.Parallel()
	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	want := writeWorlds(t, worldsApp, 2, 5)
	handler, err := httplog.NewHandler(worldsApp.Log(), httplog.HandlerOptions{Tokens: []string{"t"}})
	require.NoError(t, err)
	var waits atomic.Int64
	server := &logServer{addr: "127.0.0.1:0", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("wait") {
			waits.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error": "the head takes no query parameters"}`))
			return
		}
		handler.ServeHTTP(w, r)
	})}
	server.start(t)
	defer func() { _ = server.srv.Close() }()

	countersApp, trackedAtLeast := remoteFollower(t, "http://"+server.addr, "t", 20*time.Millisecond)
	require.Eventually(t, trackedAtLeast(10), time.Minute, 10*time.Millisecond)
	for what, n := range writeWorlds(t, worldsApp, 2, 5) {
		want[what] += n
	}
	require.Eventually(t, trackedAtLeast(20), time.Minute, 10*time.Millisecond, "polled")
	requireExactlyOnce(t, worldsApp, countersApp, want)
	require.EqualValues(t, 1, waits.Load(), "asked to wait once")
}

// A bad URL for a remote leader is a configuration error naming the
// variable.
func TestRunProcessRefusesABadNotificationLogURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t),
		"COUNTERS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t), "WORLDS_NOTIFICATION_LOG_URL": "not a url"}
	err := system.RunProcess(t.Context(), counters.System(), "Counters", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv}, Logger: slog.New(slog.DiscardHandler)})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "WORLDS_NOTIFICATION_LOG_URL", cfgErr.Var)
}

// The network between a follower and its leader's log server is cut (a
// blackhole: requests hang until the client's timeout) while the leader
// records more; when it is restored the follower catches up, exactly once.
func TestRemoteFollowerThroughANetworkCut(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	want := writeWorlds(t, worldsApp, 5, 20)
	handler, err := httplog.NewHandler(worldsApp.Log(), httplog.HandlerOptions{Tokens: []string{"t"}})
	require.NoError(t, err)
	server := &logServer{addr: "127.0.0.1:0", handler: handler}
	server.start(t)
	defer func() { _ = server.srv.Close() }()
	cut := startProxy(t, server.addr)
	cut.Forward()

	countersApp, trackedAtLeast := remoteFollower(t, "http://"+cut.Addr(), "t", 20*time.Millisecond)
	require.Eventually(t, trackedAtLeast(100), time.Minute, 10*time.Millisecond)

	cut.Blackhole()
	more := writeWorlds(t, worldsApp, 3, 20)
	for what, n := range more {
		want[what] += n
	}
	time.Sleep(300 * time.Millisecond) // the cut: the follower's requests hang or fail
	got, err := tracked(ctx, countersApp)
	require.NoError(t, err)
	require.EqualValues(t, 100, got, "nothing read through the cut")
	cut.Forward()
	require.Eventually(t, trackedAtLeast(160), 2*time.Minute, 10*time.Millisecond)
	requireExactlyOnce(t, worldsApp, countersApp, want)
}
