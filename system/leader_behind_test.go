package system_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// A follower whose tracked position is past its leader's last
// notification (the leader's events were removed and its ids started
// again) stops with a LeaderBehindError instead of skipping the leader's
// new notifications.
func TestFollowerStopsWhenItsLeaderIsBehind(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		ctx := t.Context()
		leaderEnv := map[string]string{}
		for k, v := range env {
			leaderEnv[k] = v
		}
		switch env["PERSISTENCE_MODULE"] {
		case "postgres":
			env["WORLDS_POSTGRES_SCHEMA"] = pgtest.NewSchemaName(t)
			leaderEnv["WORLDS_POSTGRES_SCHEMA"] = pgtest.NewSchemaName(t) // the leader after its reset
		case "sqlite":
			env["WORLDS_SQLITE_DBNAME"] = filepath.Join(t.TempDir(), "worlds.db")
			leaderEnv["WORLDS_SQLITE_DBNAME"] = filepath.Join(t.TempDir(), "worlds-reset.db")
		}
		countersApp := system.NewProcessApplication(newApp(t, "Counters", counters.NewRegistry(), env), counters.Policy)
		worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
		countersApp.Follow(worldsApp)
		require.NoError(t, makeItSo(ctx, worldsApp, "a", "b", "c", "d"))
		processed, err := countersApp.PullAndProcess(ctx, "Worlds")
		require.NoError(t, err)
		require.Equal(t, 5, processed)

		// The leader starts again from notification 1.
		reset := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
		require.NoError(t, makeItSo(ctx, reset, "e"))
		again := system.NewProcessApplication(countersApp.Application, counters.Policy)
		again.Follow(reset)
		processed, err = again.PullAndProcess(ctx, "Worlds")
		require.Zero(t, processed)
		require.ErrorIs(t, err, system.ErrLeaderBehind)
		var behind *system.LeaderBehindError
		require.True(t, errors.As(err, &behind))
		require.Equal(t, system.LeaderBehindError{Application: "Counters", Upstream: "Worlds", Tracked: 5, LeaderMax: 2}, *behind)
	})
}

// The concurrent runner stops with the error rather than retrying it.
func TestConcurrentRunnerStopsWhenTheLeaderIsBehind(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := postgresEnv(t)
	sys := counters.System()
	runner := system.NewConcurrentRunner(sys, system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: 50 * time.Millisecond})
	require.NoError(t, runner.Start(ctx))
	worldsApp := runner.App("Worlds")
	require.NoError(t, makeItSo(ctx, worldsApp, "a", "b"))
	require.NoError(t, runner.WaitCaughtUp(ctx))
	// Empty the leader's log behind the follower's back.
	_, err := worldsApp.Pool().Exec(ctx, "TRUNCATE stored_events RESTART IDENTITY")
	require.NoError(t, err)
	require.NoError(t, makeItSo(ctx, worldsApp, "c")) // notifications 1 and 2; the follower tracked 3
	select {
	case <-runner.Stopped():
	case <-time.After(time.Minute):
		t.Fatal("the runner did not stop")
	}
	require.ErrorIs(t, runner.Err(), system.ErrLeaderBehind)
	require.ErrorIs(t, runner.Stop(), system.ErrLeaderBehind)
}
