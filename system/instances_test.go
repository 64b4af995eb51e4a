package system_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// Of several instances of a follower, on PostgreSQL or on one SQLite
// file, one processes at a time and the others stand by: each policy runs
// once per notification. When the active instance stops, a standby takes
// over where the tracking records say, and still runs each policy once.
func TestInstancesOfAFollowerStandBy(t *testing.T) {
	t.Parallel()
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testInstancesStandBy(t, postgresEnv(t))
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testInstancesStandBy(t, pgtest.SQLiteEnv(t, "WORLDS", "COUNTERS"))
	})
}

func testInstancesStandBy(t *testing.T, env map[string]string) {
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema
	want := writeWorlds(t, worldsApp, 20, 25)                         // 500 notifications

	type instance struct {
		runs   atomic.Int64
		cancel context.CancelFunc
		done   chan error
	}
	instances := make([]*instance, 3)
	for i := range instances {
		in := &instance{done: make(chan error, 1)}
		instances[i] = in
		policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			in.runs.Add(1)
			return counters.Policy(ctx, p, e, pe)
		}
		ctx, cancel := context.WithCancel(t.Context())
		in.cancel = cancel
		go func() {
			in.done <- system.RunProcess(ctx, countersWith(policy), "Counters", system.ProcessOptions{
				RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: 50 * time.Millisecond},
				Logger:        slog.New(slog.DiscardHandler),
			})
		}()
	}
	t.Cleanup(func() {
		for _, in := range instances {
			in.cancel()
			<-in.done
		}
	})
	runs := func() (total int64, active []int) {
		for i, in := range instances {
			if n := in.runs.Load(); n > 0 {
				total += n
				active = append(active, i)
			}
		}
		return total, active
	}
	require.Eventually(t, func() bool { n, _ := tracked(t.Context(), countersApp); return n == 500 }, time.Minute, 10*time.Millisecond)
	total, active := runs()
	require.EqualValues(t, 500, total, "each policy ran once")
	require.Len(t, active, 1, "one instance processed")
	requireExactlyOnce(t, worldsApp, countersApp, want)

	// The active instance stops; a standby takes over.
	first := active[0]
	instances[first].cancel()
	require.NoError(t, <-instances[first].done)
	instances[first].done <- nil // for the cleanup
	more := writeWorlds(t, worldsApp, 4, 25)
	for what, n := range more {
		want[what] += n
	}
	require.Eventually(t, func() bool { n, _ := tracked(t.Context(), countersApp); return n == 600 }, time.Minute, 10*time.Millisecond)
	total, active = runs()
	require.EqualValues(t, 600, total, "each policy ran once, across the takeover")
	require.Len(t, active, 2, "a standby took over")
	requireExactlyOnce(t, worldsApp, countersApp, want)
}
