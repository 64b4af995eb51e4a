package counters_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// noEnv keeps the process environment out of the tests.
func noEnv(string) (string, bool) { return "", false }

// postgresEnv configures both applications of the system on PostgreSQL,
// each in its own fresh schema.
func postgresEnv(t *testing.T) map[string]string {
	t.Helper()
	return pgtest.PostgresEnv(t, "WORLDS", "COUNTERS")
}

// eachStore runs test as parallel subtests on the in-memory default and on
// PostgreSQL (fresh schemas; skipped when no server can be had).
func eachStore(t *testing.T, test func(t *testing.T, opts system.RunnerOptions)) {
	t.Helper()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		test(t, system.RunnerOptions{Env: env, Lookup: noEnv})
	}, "WORLDS", "COUNTERS")
}

func startSingleThreaded(t *testing.T, opts system.RunnerOptions) *system.SingleThreadedRunner {
	t.Helper()
	runner := system.NewSingleThreadedRunner(counters.System(), opts)
	require.NoError(t, runner.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, runner.Stop()) })
	return runner
}

func startConcurrent(t *testing.T, opts system.RunnerOptions) *system.ConcurrentRunner {
	t.Helper()
	opts.PollInterval = 50 * time.Millisecond
	runner := system.NewConcurrentRunner(counters.System(), opts)
	require.NoError(t, runner.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, runner.Stop()) })
	return runner
}

// requireCounts checks the counts of the Counters application c; things
// not in want must count 0.
func requireCounts(t *testing.T, c *app.Application, want map[string]int) {
	t.Helper()
	for _, name := range append([]string{"spaceships"}, counters.Things...) {
		got, err := counters.GetCount(t.Context(), c, name)
		require.NoError(t, err)
		require.Equal(t, want[name], got, "count of %s", name)
	}
}

// seedScript runs the commands of the Python library's example on the
// Worlds application w in its order; after each step it calls step with
// the counts the example asserts then.
func seedScript(t *testing.T, w *app.Application, step func(want map[string]int)) {
	t.Helper()
	ctx := t.Context()
	var ids []uuid.UUID
	for i := range 3 {
		id, err := counters.CreateWorld(ctx, w, fmt.Sprintf("world %d", i+1))
		require.NoError(t, err)
		ids = append(ids, id)
	}
	step(map[string]int{})
	for _, id := range ids {
		require.NoError(t, counters.MakeItSo(ctx, w, id, "dinosaurs"))
	}
	step(map[string]int{"dinosaurs": 3})
	for _, id := range ids[:2] {
		require.NoError(t, counters.MakeItSo(ctx, w, id, "trucks"))
	}
	step(map[string]int{"dinosaurs": 3, "trucks": 2})
	require.NoError(t, counters.MakeItSo(ctx, w, ids[0], "internet"))
	step(map[string]int{"dinosaurs": 3, "trucks": 2, "internet": 1})
}

var seedCounts = map[string]int{"dinosaurs": 3, "trucks": 2, "internet": 1}

// requireExactlyOnce checks that Counters tracked every notification of
// Worlds and recorded one event per counter created or incremented.
func requireExactlyOnce(t *testing.T, w, c *app.Application, counts map[string]int) {
	t.Helper()
	ctx := t.Context()
	leader, err := w.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	tracked, err := c.Recorder().MaxTrackingID(ctx, counters.WorldsName)
	require.NoError(t, err)
	require.Equal(t, leader, tracked, "every notification of Worlds tracked")
	events := 0
	for _, n := range counts {
		events += 1 + n // CounterCreated and n CounterIncremented
	}
	// Count the events rather than read the last id: ids may have gaps.
	recorded, err := c.Recorder().SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 1 << 30})
	require.NoError(t, err)
	require.Len(t, recorded, events, "no event recorded twice; WorldCreated ignored")
}

func TestCounterAggregate(t *testing.T) {
	t.Parallel()
	c, err := counters.NewCounter("dinosaurs")
	require.NoError(t, err)
	require.Equal(t, domain.NameID("/counters/dinosaurs"), c.ID())
	require.Equal(t, counters.CounterID("dinosaurs"), c.ID())
	require.Equal(t, "dinosaurs", c.Name)
	require.Zero(t, c.Count)
	require.NoError(t, c.Increment())
	require.NoError(t, c.Increment())
	require.Equal(t, 2, c.Count)
	require.Equal(t, int64(3), c.Version())

	replayed, err := domain.Replay[counters.Counter](c.CollectEvents())
	require.NoError(t, err)
	require.Equal(t, 2, replayed.Count)
	require.Equal(t, "dinosaurs", replayed.Name)
	require.NotEqual(t, counters.CounterID("trucks"), c.ID())
}

func TestSystemIsWorldsThenCounters(t *testing.T) {
	t.Parallel()
	sys := counters.System()
	require.Equal(t, []string{"Worlds", "Counters"}, sys.Names())
	require.Equal(t, []string{"Counters"}, sys.Followers(counters.WorldsName))
	require.Equal(t, []string{"Worlds"}, sys.Leaders(counters.CountersName))
	require.True(t, sys.IsProcess(counters.CountersName))
	require.False(t, sys.IsProcess(counters.WorldsName))
}

// E7, single-threaded: the counts are up to date as soon as each command
// returns.
func TestSeedSingleThreaded(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts system.RunnerOptions) {
		runner := startSingleThreaded(t, opts)
		w, c := runner.App(counters.WorldsName), runner.App(counters.CountersName)
		seedScript(t, w, func(want map[string]int) { requireCounts(t, c, want) })
		requireExactlyOnce(t, w, c, seedCounts)
	})
}

// E7, concurrent: the same commands; the counts are right once Counters
// has caught up.
func TestSeedConcurrent(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		runner := startConcurrent(t, opts)
		w, c := runner.App(counters.WorldsName), runner.App(counters.CountersName)
		seedScript(t, w, func(map[string]int) {})
		require.NoError(t, runner.WaitCaughtUp(ctx))
		requireCounts(t, c, seedCounts)
		requireExactlyOnce(t, w, c, seedCounts)
		require.NoError(t, runner.Err())
	})
}

func TestMakeWorlds(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"dinosaurs", "trucks", "internet"}, counters.SeedHistory(0))
	require.Equal(t, []string{"dinosaurs", "trucks"}, counters.SeedHistory(1))
	require.Equal(t, []string{"dinosaurs"}, counters.SeedHistory(2))
	require.Equal(t, counters.SeedHistory(0), counters.SeedHistory(3))
	eachStore(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx := t.Context()
		runner := startSingleThreaded(t, opts)
		w, c := runner.App(counters.WorldsName), runner.App(counters.CountersName)
		ids, err := counters.MakeWorlds(ctx, w, 3)
		require.NoError(t, err)
		require.Len(t, ids, 3)
		for i, id := range ids {
			world, err := app.NewRepository[worlds.World](w).Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("world %d", i+1), world.Name)
			require.Equal(t, counters.SeedHistory(i), world.History)
		}
		requireCounts(t, c, seedCounts)

		// Seven more: worlds 4 to 10 repeat the pattern.
		_, err = counters.MakeWorlds(ctx, w, 7)
		require.NoError(t, err)
		requireCounts(t, c, map[string]int{"dinosaurs": 3 + 7, "trucks": 2 + 5, "internet": 1 + 3})

		_, err = counters.MakeWorlds(ctx, w, -1)
		require.Error(t, err)
		require.ErrorIs(t, counters.MakeItSo(ctx, w, uuid.New(), "dinosaurs"), app.ErrAggregateNotFound)
	})
}

// Several goroutines make worlds at once while Counters counts in its
// own goroutine: every event is counted once.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		runner := startConcurrent(t, opts)
		w, c := runner.App(counters.WorldsName), runner.App(counters.CountersName)
		const writers = 8
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = counters.MakeWorlds(ctx, w, 3)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.NoError(t, runner.WaitCaughtUp(ctx))
		want := map[string]int{"dinosaurs": 3 * writers, "trucks": 2 * writers, "internet": writers}
		requireCounts(t, c, want)
		requireExactlyOnce(t, w, c, want)
	})
}

func newApp(t *testing.T, name string, reg *codec.Registry, env map[string]string) *app.Application {
	t.Helper()
	a, err := app.New(t.Context(), app.Options{Name: name, Registry: reg, Env: env, Lookup: noEnv})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// waitForCounts checks the counts of the Counters application c every
// 20 ms until they are want, or fails the test after timeout.
func waitForCounts(t *testing.T, c *app.Application, want map[string]int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got := map[string]int{}
		for _, name := range counters.Things {
			n, err := counters.GetCount(t.Context(), c, name)
			require.NoError(t, err)
			if n != 0 {
				got[name] = n
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("counts %v after %v, want %v", got, timeout, want)
		case <-tick.C:
		}
	}
}

// The multi-process mode, in one test process: Counters runs as
// cmd/counters-process runs it (system.RunProcess), while the test writes
// worlds through its own Worlds application, as cmd/worlds-writer does,
// and reads the counts through its own Counters application. Only the
// database connects them.
func TestCountersProcessFollowsWorldsThroughPostgres(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := postgresEnv(t)
	w := newApp(t, counters.WorldsName, worlds.NewRegistry(), env)
	c := newApp(t, counters.CountersName, counters.NewRegistry(), env)

	// Worlds recorded before the process starts are processed when it
	// starts.
	_, err := counters.MakeWorlds(ctx, w, 3)
	require.NoError(t, err)

	// Its own context, not the test's: the cleanup below stops it.
	runCtx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- system.RunProcess(runCtx, counters.System(), counters.CountersName, system.ProcessOptions{
			// A poll interval long enough that the counts below arrive by
			// the Worlds schema's notifications, not by polling.
			RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: time.Minute},
			Logger:        slog.New(slog.DiscardHandler),
		})
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})
	waitForCounts(t, c, seedCounts, 30*time.Second)

	// Worlds recorded while it runs wake it up.
	_, err = counters.MakeWorlds(ctx, w, 3)
	require.NoError(t, err)
	want := map[string]int{"dinosaurs": 6, "trucks": 4, "internet": 2}
	waitForCounts(t, c, want, 30*time.Second)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "RunProcess returns nil when its context ends")
	case <-time.After(30 * time.Second):
		t.Fatal("RunProcess did not return after its context ended")
	}
	stopped = true
	requireExactlyOnce(t, w, c, want)
}

// RunProcess needs PostgreSQL: in memory the applications of separate
// processes could not share events.
func TestCountersProcessRefusesMemory(t *testing.T) {
	t.Parallel()
	err := system.RunProcess(t.Context(), counters.System(), counters.CountersName, system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Lookup: noEnv},
	})
	require.ErrorIs(t, err, persistence.ErrNotSupported)
}
