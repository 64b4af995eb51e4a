package system_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperProcessEnv) != "" {
		os.Exit(runHelperProcess())
	}
	os.Exit(pgtest.Main(m))
}

func noEnv(string) (string, bool) { return "", false }

// stores runs fn on the in-memory module and on Postgres; on Postgres
// every application of the system gets its own fresh schema.
func stores(t *testing.T, fn func(t *testing.T, opts system.RunnerOptions)) {
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		fn(t, system.RunnerOptions{Env: env, Lookup: noEnv})
	}, "WORLDS", "COUNTERS", "A", "B", "C")
}

func TestSystemFromPipes(t *testing.T) {
	t.Parallel()
	reg := codec.NewRegistry()
	policy := func(context.Context, *system.ProcessApplication, domain.Event, *system.ProcessEvent) error {
		return nil
	}
	apps := []system.App{
		{Name: "A", Registry: reg}, {Name: "B", Registry: reg, Policy: policy},
		{Name: "C", Registry: reg, Policy: policy}, {Name: "D", Registry: reg},
	}
	sys, err := system.New(apps, []string{"A", "B", "C"}, []string{"D", "C"}, []string{"A", "C"})
	require.NoError(t, err)
	require.Equal(t, []string{"B", "C"}, sys.Followers("A"))
	require.Equal(t, []string{"C"}, sys.Followers("B"))
	require.Equal(t, []string{"B", "D", "A"}, sys.Leaders("C"))
	require.Empty(t, sys.Leaders("A"))
	require.True(t, sys.IsProcess("B"))
	require.False(t, sys.IsProcess("D"))

	for name, pipes := range map[string][][]string{
		"follower without policy": {{"A", "D"}},
		"unknown name":            {{"A", "X"}},
		"follows itself":          {{"B", "B"}},
	} {
		_, err := system.New(apps, pipes...)
		require.ErrorIs(t, err, system.ErrSystem, name)
	}
	_, err = system.New(append(apps, system.App{Name: "A", Registry: reg}))
	require.ErrorIs(t, err, system.ErrSystem, "duplicate name")
}

func TestProcessEventKeepsGenerationOrder(t *testing.T) {
	t.Parallel()
	a, err := worlds.NewWorld("a")
	require.NoError(t, err)
	b, err := worlds.NewWorld("b")
	require.NoError(t, err)
	pe := &system.ProcessEvent{}
	pe.Save(a)
	pe.Save(b)
	require.NoError(t, a.MakeItSo("later"))
	pe.Save(a)
	events := pe.Events()
	require.Len(t, events, 3)
	require.Equal(t, a.ID(), events[0].OriginatorID)
	require.Equal(t, b.ID(), events[1].OriginatorID)
	require.Equal(t, a.ID(), events[2].OriginatorID)
	require.Equal(t, int64(2), events[2].OriginatorVersion)
}

func TestSingleThreadedRunnerIsSynchronous(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx := t.Context()
		runner := system.NewSingleThreadedRunner(counters.System(), opts)
		require.NoError(t, runner.Start(ctx))
		defer runner.Stop()
		require.ErrorIs(t, runner.Start(ctx), system.ErrRunnerStarted)
		worldsApp, countersApp := runner.App("Worlds"), runner.App("Counters")
		require.NotNil(t, runner.Process("Counters"))
		require.Nil(t, runner.Process("Worlds"), "a leader only is not a process application")
		// No waiting: each command has been processed when Save returns.
		require.NoError(t, seedCounts(ctx, worldsApp, countersApp, func() error { return nil }))

		// Every upstream notification is tracked, including those the
		// policy ignored (the WorldCreated events).
		max, err := worldsApp.Recorder().MaxNotificationID(ctx)
		require.NoError(t, err)
		tracked, err := countersApp.Recorder().MaxTrackingID(ctx, "Worlds")
		require.NoError(t, err)
		require.Equal(t, max, tracked)
		for id := int64(1); id <= max; id++ {
			has, err := countersApp.Recorder().HasTrackingID(ctx, "Worlds", id)
			require.NoError(t, err)
			require.True(t, has, "notification %d tracked", id)
		}
	})
}

func TestConcurrentRunnerEventuallyConsistent(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		runner := system.NewConcurrentRunner(counters.System(), opts)
		require.NoError(t, runner.Start(ctx))
		require.ErrorIs(t, runner.Start(ctx), system.ErrRunnerStarted)
		worldsApp, countersApp := runner.App("Worlds"), runner.App("Counters")
		require.NoError(t, seedCounts(ctx, worldsApp, countersApp, func() error { return runner.WaitCaughtUp(ctx) }))
		require.NoError(t, runner.Stop())
	})
}

// Many writers on the leader while the follower processes concurrently.
func TestConcurrentRunnerManyWriters(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		opts.PollInterval = 50 * time.Millisecond
		runner := system.NewConcurrentRunner(counters.System(), opts)
		require.NoError(t, runner.Start(ctx))
		defer runner.Stop()
		worldsApp, countersApp := runner.App("Worlds"), runner.App("Counters")
		const writers, worldsEach = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < worldsEach; j++ {
					if err := makeItSo(ctx, worldsApp, "a", "b"); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.NoError(t, runner.WaitCaughtUp(ctx))
		for _, name := range []string{"a", "b"} {
			n, err := counters.GetCount(ctx, countersApp, name)
			require.NoError(t, err)
			require.Equal(t, writers*worldsEach, n, name)
		}
	})
}

func TestConcurrentRunnerStopLeaksNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := t.Context()
	runner := system.NewConcurrentRunner(counters.System(), system.RunnerOptions{Lookup: noEnv})
	require.NoError(t, runner.Start(ctx))
	require.NoError(t, makeItSo(ctx, runner.App("Worlds"), "x"))
	require.NoError(t, runner.WaitCaughtUp(ctx))
	require.NoError(t, runner.Stop())
}

var errPolicy = errors.New("policy failed")

// failOn returns a policy that fails for the thing named bad while fail
// is set, and counts otherwise.
func failOn(bad string, fail *atomic.Bool) system.Policy {
	return func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		if h, ok := e.Data.(worlds.SomethingHappened); ok && h.What == bad && fail.Load() {
			return errPolicy
		}
		return counters.Policy(ctx, p, e, pe)
	}
}

func TestSingleThreadedRunnerPolicyErrorAndRecovery(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx := t.Context()
		var fail atomic.Bool
		fail.Store(true)
		runner := system.NewSingleThreadedRunner(countersWith(failOn("bad", &fail)), opts)
		require.NoError(t, runner.Start(ctx))
		defer runner.Stop()
		worldsApp, countersApp := runner.App("Worlds"), runner.App("Counters")

		err := makeItSo(ctx, worldsApp, "good", "bad", "good")
		var notify *app.NotifyError
		require.ErrorAs(t, err, &notify, "the leader's events are recorded; the follower failed")
		var policyErr *system.PolicyError
		require.ErrorAs(t, err, &policyErr)
		require.ErrorIs(t, err, errPolicy)
		require.Equal(t, "Worlds", policyErr.Upstream)
		n, err := counters.GetCount(ctx, countersApp, "good")
		require.NoError(t, err)
		require.Equal(t, 1, n)

		// The runner was not left stuck: once the policy works, the next
		// prompt processes the failed notification and what followed.
		fail.Store(false)
		require.NoError(t, makeItSo(ctx, worldsApp, "good"))
		for name, want := range map[string]int{"good": 2, "bad": 1} {
			n, err := counters.GetCount(ctx, countersApp, name)
			require.NoError(t, err)
			require.Equal(t, want, n, name)
		}
	})
}

func TestConcurrentRunnerReportsPolicyError(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var fail atomic.Bool
		fail.Store(true)
		runner := system.NewConcurrentRunner(countersWith(failOn("bad", &fail)), opts)
		require.NoError(t, runner.Start(ctx))
		require.NoError(t, makeItSo(ctx, runner.App("Worlds"), "bad"))
		select {
		case <-runner.Stopped():
		case <-ctx.Done():
			t.Fatal("the runner did not stop on the policy error")
		}
		var policyErr *system.PolicyError
		require.ErrorAs(t, runner.Err(), &policyErr)
		require.ErrorIs(t, runner.WaitCaughtUp(ctx), errPolicy)
		require.ErrorIs(t, runner.Stop(), errPolicy)
	})
}

// A leader prompts its followers only when it records new events.
func TestLeaderPromptsOnlyWhenEventsSaved(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, err := app.New(ctx, app.Options{Name: "Worlds", Registry: worlds.NewRegistry(), Lookup: noEnv})
	require.NoError(t, err)
	var calls atomic.Int32
	a.OnRecorded(func(context.Context, []int64) error { calls.Add(1); return nil })
	w, err := worlds.NewWorld("a")
	require.NoError(t, err)
	_, err = a.Save(ctx, w)
	require.NoError(t, err)
	_, err = a.Save(ctx, w) // nothing pending
	require.NoError(t, err)
	require.Equal(t, int32(1), calls.Load())
}

// A → B → C: B copies A's events into its own aggregates, C counts B's.
func TestThreeStagePipeline(t *testing.T) {
	t.Parallel()
	copyWorld := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		h, ok := e.Data.(worlds.SomethingHappened)
		if !ok {
			return nil
		}
		w, err := worlds.NewWorld("copy")
		if err != nil {
			return err
		}
		if err := w.MakeItSo(h.What + "!"); err != nil {
			return err
		}
		pe.Save(w)
		return nil
	}
	stores(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx := t.Context()
		sys, err := system.New([]system.App{
			{Name: "A", Registry: worlds.NewRegistry()},
			{Name: "B", Registry: worlds.NewRegistry(), Policy: copyWorld},
			{Name: "C", Registry: counters.NewRegistry(), Policy: counters.Policy},
		}, []string{"A", "B", "C"})
		require.NoError(t, err)
		runner := system.NewSingleThreadedRunner(sys, opts)
		require.NoError(t, runner.Start(ctx))
		defer runner.Stop()
		require.NoError(t, makeItSo(ctx, runner.App("A"), "x", "y", "x"))
		for name, want := range map[string]int{"x!": 2, "y!": 1, "x": 0} {
			n, err := counters.GetCount(ctx, runner.App("C"), name)
			require.NoError(t, err)
			require.Equal(t, want, n, name)
		}
	})
}

// The plain POSTGRES_SCHEMA would put every application of a system in one
// schema, mixing their events: refused.
func TestApplicationsMustNotShareASchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	opts := system.RunnerOptions{Lookup: noEnv, Env: map[string]string{
		"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t),
	}}
	err := system.NewSingleThreadedRunner(counters.System(), opts).Start(ctx)
	require.ErrorIs(t, err, system.ErrSystem)
	require.Contains(t, err.Error(), "COUNTERS_POSTGRES_SCHEMA and WORLDS_POSTGRES_SCHEMA")
	err = system.NewConcurrentRunner(counters.System(), opts).Start(ctx)
	require.ErrorIs(t, err, system.ErrSystem)
	err = system.RunProcess(ctx, counters.System(), "Counters", system.ProcessOptions{RunnerOptions: opts})
	require.ErrorIs(t, err, system.ErrSystem)
}

// A conflict that no other instance explains (here a policy that creates
// the same aggregate for every event) is reported, not retried for ever.
func TestPersistentConflictIsAnError(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx := t.Context()
		fixed := uuid.New()
		createAgain := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
			c, err := domain.Create[counters.Counter](fixed, counters.CounterCreated{Name: "always the same"})
			if err != nil {
				return err
			}
			pe.Save(c)
			return nil
		}
		runner := system.NewSingleThreadedRunner(countersWith(createAgain), opts)
		require.NoError(t, runner.Start(ctx))
		defer runner.Stop()
		err := makeItSo(ctx, runner.App("Worlds"), "x")
		var conflict *persistence.ConcurrencyError
		require.ErrorAs(t, err, &conflict)
		require.ErrorContains(t, err, "giving up after 11 conflicts at notification 2")
	})
}
