package integration

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// The divided instances of the tests below: Counters divides the Worlds
// log in partitions, with leases short enough to expire within a test.
const (
	partitions = 6
	leaseTime  = 2 * time.Second
)

// dividedSystem returns the Worlds → Counters system whose policy counts
// what happens in each world on a counter of its own (byWorld), so that
// what one partition's notifications change no other partition's do. It
// adds one to runs, if not nil, each time the policy runs.
func dividedSystem(runs *atomic.Int64) *system.System {
	policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		if runs != nil {
			runs.Add(1)
		}
		if h, ok := e.Data.(worlds.SomethingHappened); ok {
			e.Data = worlds.SomethingHappened{What: byWorld(e, h)}
		}
		return counters.Policy(ctx, p, e, pe)
	}
	sys, err := system.New([]system.App{
		{Name: counters.WorldsName, Registry: worlds.NewRegistry()},
		{Name: counters.CountersName, Registry: counters.NewRegistry(), Policy: policy},
	}, []string{counters.WorldsName, counters.CountersName})
	if err != nil {
		panic(err) // the definition above is valid
	}
	return sys
}

// byWorld names the counter of dividedSystem's policy: the world's ID.
func byWorld(e domain.Event, _ worlds.SomethingHappened) string { return e.OriginatorID.String() }

// dividedOptions runs an instance that divides the Worlds log, on env.
func dividedOptions(env map[string]string) system.RunnerOptions {
	return system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: 100 * time.Millisecond,
		Partitions: partitions, LeaseTime: leaseTime}
}

// settle waits until instances live instances of Counters hold every
// partition, on leases that have not expired, each no more than its fair
// share.
func settle(t *testing.T, countersApp *app.Application, instances int) {
	t.Helper()
	share := (partitions + instances - 1) / instances
	var held, owners, most int
	ok := eventually(time.Minute, 20*time.Millisecond, func() bool {
		err := countersApp.Pool().QueryRow(t.Context(), `
			SELECT count(*), count(DISTINCT owner), coalesce(max(n), 0)
			  FROM (SELECT owner, count(*) OVER (PARTITION BY owner) AS n FROM partition_leases
			         WHERE owner IS NOT NULL AND expires_at > now()) AS live`).Scan(&held, &owners, &most)
		return err == nil && held == partitions && owners == instances && most <= share
	})
	require.True(t, ok, "%d instances share %d partitions: last seen %d held by %d owners, at most %d each", instances, partitions, held, owners, most)
}

// requireEachOnceInItsPartition checks the per-world counts (see
// requireExactlyOnce), and that each notification of Worlds is tracked in
// the partition of its world.
func requireEachOnceInItsPartition(t *testing.T, worldsApp, countersApp *app.Application) {
	t.Helper()
	requireExactlyOnce(t, worldsApp, countersApp, wantCounts(t, worldsApp, byWorld))
	rows, err := countersApp.Pool().Query(t.Context(), "SELECT notification_id, partition FROM tracking WHERE application_name = 'Worlds'")
	require.NoError(t, err)
	in := map[int64]int{}
	for rows.Next() {
		var id int64
		var partition int
		require.NoError(t, rows.Scan(&id, &partition))
		in[id] = partition
	}
	require.NoError(t, rows.Err())
	eachNotification(t, worldsApp, func(n persistence.Notification) {
		require.Equal(t, system.PartitionOf(n.OriginatorID, partitions), in[n.ID], "the partition of notification %d", n.ID)
	})
}

// Three instances divide the Worlds log in 6 partitions, on leases of 2
// seconds, while writers save and the database restarts twice: once
// stopped cleanly, once killed. The instances meet the outages, whose
// lengths are of the order of the leases; they retry by themselves, claim
// the partitions again, and every notification is processed exactly
// once, in its partition, with exact counts; in the end every partition
// has a live owner.
func TestDividedInstancesSurviveDatabaseRestarts(t *testing.T) {
	s := newServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	env, worldsApp, countersApp := faultApps(t, s)

	f := newFollowers()
	for range 3 {
		f.start(ctx, dividedSystem(nil), dividedOptions(env))
	}
	settle(t, countersApp, 3)
	w := startWorldWriters(ctx, worldsApp, 4)
	w.progress(t, s, 60, "before the outages")
	f.waitTracked(t, countersApp, 1, 90*time.Second)
	restartUnderLoad(t, s, w)
	w.finish(t)
	require.Empty(t, w.writes.unexpected, "writers got only operational errors")

	f.waitTracked(t, countersApp, int64(len(notificationIDs(t, worldsApp))), 2*time.Minute)
	settle(t, countersApp, 3) // no partition is left without an owner
	t.Logf("the instances logged %d retries", f.stop(t))
	requireEachOnceInItsPartition(t, worldsApp, countersApp)
}

// Three instances divide the Worlds log in 6 partitions, on leases of 2
// seconds; the network between one of them and the database is cut (a
// proxy that stops forwarding and closes nothing) for longer than its
// leases. The two others take its partitions over and process everything
// recorded meanwhile; the cut instance processes nothing. Once the network
// is back (its silent connections reset), the cut instance reconnects by
// itself, gets its share back and processes again. Every notification is
// processed exactly once, in its partition, with exact counts.
func TestDividedInstanceCutOffLosesItsPartitions(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	env, worldsApp, countersApp := faultApps(t, s)
	proxy := newPartitionProxy(t, fmt.Sprintf("%s:%d", s.host, s.port))
	cutEnv := maps.Clone(env)
	cutEnv["DATABASE_URL"] = connURL("127.0.0.1", proxy.port(), pgDatabase)

	f := newFollowers()
	var cutRuns atomic.Int64
	f.start(ctx, dividedSystem(nil), dividedOptions(env))
	f.start(ctx, dividedSystem(nil), dividedOptions(env))
	f.start(ctx, dividedSystem(&cutRuns), dividedOptions(cutEnv))
	settle(t, countersApp, 3)
	notified := int64(0)
	write := func(numWorlds int) {
		t.Helper()
		writeWorlds(t, worldsApp, numWorlds, 10)
		notified += int64(numWorlds * 10)
		f.waitTracked(t, countersApp, notified, 2*time.Minute)
	}
	write(20)

	proxy.partition()
	settle(t, countersApp, 2) // the cut instance's leases expired; the others hold its partitions
	cutBefore := cutRuns.Load()
	write(40)
	require.Equal(t, cutBefore, cutRuns.Load(), "the cut instance processed nothing while cut off")

	proxy.restore()
	settle(t, countersApp, 3) // the cut instance holds its share again
	cutBefore = cutRuns.Load()
	write(40)
	require.Greater(t, cutRuns.Load(), cutBefore, "the cut instance processes again")

	t.Logf("the instances logged %d retries", f.stop(t))
	requireEachOnceInItsPartition(t, worldsApp, countersApp)
}
