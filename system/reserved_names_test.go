package system_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// Applications named Order and User, whose default schemas "order" and
// "user" are SQL reserved words, work end to end on Postgres: the leader
// saves, and the follower, a separate process application (RunProcess),
// is woken by LISTEN/NOTIFY on the leader's schema. The test runs in a
// fresh database, so the fixed schema names cannot collide.
func TestReservedWordApplicationNames(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.NewDatabaseURL(t)}
	sys, err := system.New([]system.App{
		{Name: "Order", Registry: worlds.NewRegistry()},
		{Name: "User", Registry: counters.NewRegistry(), Policy: counters.Policy},
	}, []string{"Order", "User"})
	require.NoError(t, err)

	order := newApp(t, "Order", worlds.NewRegistry(), env)
	require.Equal(t, "order", order.Schema())
	user := newApp(t, "User", counters.NewRegistry(), env)
	require.Equal(t, "user", user.Schema())

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		// The poll interval outlasts the test: only notifications wake it.
		done <- system.RunProcess(runCtx, sys, "User", system.ProcessOptions{
			RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: time.Hour},
		})
	}()
	defer func() {
		stop()
		require.NoError(t, <-done)
	}()

	waitFor := func(what string, want int) {
		t.Helper()
		for {
			n, err := counters.GetCount(ctx, user, what)
			require.NoError(t, err)
			if n == want {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("count of %s is %d, want %d: %v", what, n, want, ctx.Err())
			case err := <-done:
				t.Fatalf("RunProcess ended early: %v", err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	require.NoError(t, makeItSo(ctx, order, "a", "b"))
	waitFor("b", 1)

	// Once the follower listens on the leader's channel, a new save
	// reaches it through NOTIFY alone.
	for {
		var listening bool
		require.NoError(t, order.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN %')`).Scan(&listening))
		if listening {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the follower never listened")
		case <-time.After(20 * time.Millisecond):
		}
	}
	require.NoError(t, makeItSo(ctx, order, "a"))
	waitFor("a", 2)

	max, err := order.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), max)
}
