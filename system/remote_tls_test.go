package system_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/testtls"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// RunProcess follows a leader in another database whose log server
// admits client certificates and no token (mutual TLS, configured as
// serve configures it), by configuration alone: the CA that signed the
// server's certificate and the follower's certificate and key, each a
// <LEADER>_NOTIFICATION_LOG_ variable. It processes every notification
// exactly once, and is woken by the leader's later saves.
func TestRunProcessFollowsALeaderOverMutualTLS(t *testing.T) {
	t.Parallel()
	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	want := writeWorlds(t, worldsApp, 5, 20)

	serverCA, clientCA := testtls.NewCA(t, "servers' CA"), testtls.NewCA(t, "followers' CA")
	serverEnv := map[string]string{"NOTIFICATION_LOG_CLIENT_CA": clientCA.File()}
	serverEnv["NOTIFICATION_LOG_TLS_CERT"], serverEnv["NOTIFICATION_LOG_TLS_KEY"] = serverCA.Issue(t, "leader", true)
	tlsConfig, err := httplog.ServerTLSFromEnv(config.Environment{Name: "Worlds", Values: serverEnv, Lookup: noEnv})
	require.NoError(t, err)
	handler, err := httplog.NewHandler(worldsApp.Log(), httplog.HandlerOptions{AllowClientCertificates: true, Watcher: worldsApp})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = tlsConfig
	srv.StartTLS()
	defer srv.Close()

	env := map[string]string{
		"PERSISTENCE_MODULE":          "postgres",
		"DATABASE_URL":                pgtest.NewDatabaseURL(t),
		"COUNTERS_POSTGRES_SCHEMA":    pgtest.NewSchemaName(t),
		"WORLDS_NOTIFICATION_LOG_URL": srv.URL,
		"WORLDS_NOTIFICATION_LOG_CA":  serverCA.File(),
	}
	env["WORLDS_NOTIFICATION_LOG_CERT"], env["WORLDS_NOTIFICATION_LOG_KEY"] = clientCA.Issue(t, "counters", false)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env)
	runCtx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- system.RunProcess(runCtx, counters.System(), "Counters", system.ProcessOptions{
			RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: time.Hour,
				RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond},
			Logger: slog.New(slog.DiscardHandler),
		})
	}()
	defer func() {
		stop()
		require.NoError(t, <-done, "RunProcess ends cleanly")
	}()
	trackedAtLeast := func(n int64) func() bool {
		return func() bool { got, err := tracked(t.Context(), countersApp); return err == nil && got >= n }
	}

	require.Eventually(t, trackedAtLeast(100), time.Minute, 10*time.Millisecond)
	requireExactlyOnce(t, worldsApp, countersApp, want)
	for what, n := range writeWorlds(t, worldsApp, 2, 10) {
		want[what] += n
	}
	require.Eventually(t, trackedAtLeast(120), 10*time.Second, 10*time.Millisecond, "woken over mutual TLS (it polls once an hour)")
	requireExactlyOnce(t, worldsApp, countersApp, want)
}

// A TLS file that RunProcess cannot read is a configuration error naming
// its variable, and ends RunProcess at once.
func TestRunProcessRefusesAnUnreadableTLSFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.pem")
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t),
		"COUNTERS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t), "WORLDS_NOTIFICATION_LOG_URL": "https://127.0.0.1:1",
		"WORLDS_NOTIFICATION_LOG_CA": missing}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // ends a RunProcess that started (then nil)
	defer cancel()
	err := system.RunProcess(ctx, counters.System(), "Counters", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv}, Logger: slog.New(slog.DiscardHandler)})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "WORLDS_NOTIFICATION_LOG_CA", cfgErr.Var)
	require.Equal(t, missing, cfgErr.Value)
}
