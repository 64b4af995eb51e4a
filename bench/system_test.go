package bench

import (
	"context"
	"testing"
	"time"

	"github.com/eventsourcing-go/eventsourcing/system"
)

// The applications of the system benchmark.
const (
	leaderName   = "Upstream"
	followerName = "Tallies"
)

// upstreamEventsPerSave is how many events the leader records per save.
const upstreamEventsPerSave = 10

// BenchmarkSystem measures a leader → follower system on the concurrent
// runner end to end: one writer saves b.N upstream events in the leader
// (new items of 10 events per save) while the follower processes them,
// each notification with a get of its tally (at most 10 events) and a
// save with its tracking record; the clock stops when WaitCaughtUp
// returns. events/s counts upstream events processed.
func BenchmarkSystem(b *testing.B) {
	for _, store := range followerStores {
		b.Run(store, func(b *testing.B) { benchSystem(b, store) })
	}
}

func benchSystem(b *testing.B, store string) {
	ctx := b.Context()
	sys, err := system.New([]system.App{
		{Name: leaderName, Registry: registry()},
		{Name: followerName, Registry: tallyRegistry(), Policy: tally},
	}, []string{leaderName, followerName})
	if err != nil {
		b.Fatal(err)
	}
	runner := system.NewConcurrentRunner(sys, system.RunnerOptions{
		Env:    storeEnv(b, store, "UPSTREAM,TALLIES"),
		Lookup: noEnv,
	})
	if err := runner.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := runner.Stop(); err != nil {
			b.Error(err)
		}
	}()
	for _, name := range []string{leaderName, followerName} {
		if pool := runner.App(name).Pool(); pool != nil {
			warm(b, pool)
		}
	}
	leader := runner.App(leaderName)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()

	b.ResetTimer()
	for written := 0; written < b.N; written += upstreamEventsPerSave {
		it, err := newItem(min(upstreamEventsPerSave, b.N-written))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := leader.Save(ctx, it); err != nil {
			b.Fatal(err)
		}
	}
	if err := runner.WaitCaughtUp(waitCtx); err != nil {
		b.Fatal(err)
	}
	record(b, rowKey{opSystem, store, 1}, 1, func(r result) string {
		return thousands(float64(r.ops)/upstreamEventsPerSave/r.elapsed.Seconds()) + " leader saves/s of 10 events"
	})
}
