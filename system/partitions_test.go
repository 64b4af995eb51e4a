package system_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func TestPartitionOf(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	require.Equal(t, 0, system.PartitionOf(id, 1))
	require.Equal(t, 0, system.PartitionOf(id, 0))
	// The hash is part of the contract: recorded positions depend on it.
	require.Equal(t, 12, system.PartitionOf(id, 16)) // FNV-1a 64 of the 16 bytes, mod 16
	require.Equal(t, 6, system.PartitionOf(id, 7))
	require.Equal(t, system.PartitionOf(id, 16), system.PartitionOf(id, 16))
	counts := make([]int, 16)
	for range 1600 {
		counts[system.PartitionOf(uuid.New(), 16)]++
	}
	for k, n := range counts {
		require.Greater(t, n, 40, "partition %d of 16 gets its share of 1,600 random IDs: %v", k, counts)
	}
	// Time-ordered IDs spread too.
	clear(counts)
	for range 1600 {
		counts[system.PartitionOf(uuid.Must(uuid.NewV7()), 16)]++
	}
	for k, n := range counts {
		require.Greater(t, n, 40, "partition %d of 16 gets its share of 1,600 v7 IDs: %v", k, counts)
	}
}

// countPerWorld counts what happens in each world on a counter of its
// own, named after the world's ID: what one partition's notifications
// change, no other partition's do, so divided instances never conflict.
func countPerWorld(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
	if _, ok := e.Data.(worlds.SomethingHappened); !ok {
		return nil
	}
	name := e.OriginatorID.String()
	counter, err := app.NewRepository[counters.Counter](p.Application).Get(ctx, counters.CounterID(name))
	if errors.Is(err, app.ErrAggregateNotFound) {
		counter, err = counters.NewCounter(name)
	}
	if err != nil {
		return err
	}
	if err := counter.Increment(); err != nil {
		return err
	}
	pe.Save(counter)
	return nil
}

// writePerWorld records worlds×perWorld notifications in Worlds and
// returns the count each world's counter must reach.
func writePerWorld(t *testing.T, worldsApp *app.Application, numWorlds, perWorld int) map[string]int {
	t.Helper()
	want := map[string]int{}
	for i := range numWorlds {
		w, err := worlds.NewWorld(fmt.Sprintf("world %d", i+1))
		require.NoError(t, err)
		for j := 1; j < perWorld; j++ {
			require.NoError(t, w.MakeItSo(fmt.Sprintf("thing %d", j)))
		}
		_, err = worldsApp.Save(t.Context(), w)
		require.NoError(t, err)
		want[w.ID().String()] = perWorld - 1
	}
	return want
}

// requireEachOnce checks the per-world counters against want and that
// every notification of Worlds is tracked exactly once, in the partition
// of its world.
func requireEachOnce(t *testing.T, worldsApp, countersApp *app.Application, want map[string]int, partitions int) {
	t.Helper()
	ctx := t.Context()
	for name, n := range want {
		got, err := counters.GetCount(ctx, countersApp, name)
		require.NoError(t, err)
		require.Equal(t, n, got, name)
	}
	max, err := worldsApp.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	var rows, low, high int64
	require.NoError(t, countersApp.Pool().QueryRow(ctx,
		"SELECT count(*), min(notification_id), max(notification_id) FROM tracking WHERE application_name = 'Worlds'").Scan(&rows, &low, &high))
	require.Equal(t, max, rows, "one tracking record per notification: no holes, no repeats")
	require.Equal(t, []int64{1, max}, []int64{low, high})
	ns, err := worldsApp.Recorder().SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 1 << 30})
	require.NoError(t, err)
	for _, n := range ns {
		var partition int
		require.NoError(t, countersApp.Pool().QueryRow(ctx,
			"SELECT partition FROM tracking WHERE application_name = 'Worlds' AND notification_id = $1", n.ID).Scan(&partition))
		require.Equal(t, system.PartitionOf(n.OriginatorID, partitions), partition, "notification %d", n.ID)
	}
	events, err := countersApp.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	total := 0
	for _, n := range want {
		total += n + 1 // created, then incremented
	}
	require.EqualValues(t, total, events, "no event was recorded twice")
}

// dividedInstance is an instance of Counters, counting per world, run by
// RunProcess with the upstream log divided in partitions.
type dividedInstance struct {
	runs   atomic.Int64
	cancel context.CancelFunc
	done   chan error
}

func startDivided(t *testing.T, env map[string]string, partitions int, lease time.Duration) *dividedInstance {
	in := &dividedInstance{done: make(chan error, 1)}
	policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		in.runs.Add(1)
		return countPerWorld(ctx, p, e, pe)
	}
	ctx, cancel := context.WithCancel(t.Context())
	in.cancel = cancel
	go func() {
		in.done <- system.RunProcess(ctx, countersWith(policy), "Counters", system.ProcessOptions{
			RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: 50 * time.Millisecond,
				Partitions: partitions, LeaseTime: lease},
			Logger: slog.New(slog.DiscardHandler),
		})
	}()
	return in
}

// Instances that divide the upstream log in partitions process at once,
// each policy once per notification; when one stops, the others take its
// partitions over and still run each policy once.
func TestDividedInstancesProcessEachNotificationOnce(t *testing.T) {
	t.Parallel()
	env := postgresEnv(t)
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema
	want := writePerWorld(t, worldsApp, 40, 25)                       // 1,000 notifications

	const partitions = 8
	instances := make([]*dividedInstance, 4)
	for i := range instances {
		instances[i] = startDivided(t, env, partitions, 3*time.Second)
	}
	t.Cleanup(func() {
		for _, in := range instances {
			in.cancel()
			<-in.done
		}
	})
	runs := func() (total int64, active int) {
		for _, in := range instances {
			if n := in.runs.Load(); n > 0 {
				total += n
				active++
			}
		}
		return total, active
	}
	// Instances that start together may take partitions from each other
	// as they join; the runs are counted once the shares have settled.
	require.Eventually(t, func() bool { n, _ := tracked(t.Context(), countersApp); return n == 1000 }, time.Minute, 10*time.Millisecond)
	requireEachOnce(t, worldsApp, countersApp, want, partitions)
	settle(t, countersApp, partitions, len(instances))

	before, _ := runs()
	more := writePerWorld(t, worldsApp, 40, 25)
	for k, n := range more {
		want[k] = n
	}
	require.Eventually(t, func() bool { n, _ := tracked(t.Context(), countersApp); return n == 2000 }, time.Minute, 10*time.Millisecond)
	total, active := runs()
	require.EqualValues(t, 1000, total-before, "each policy ran once")
	require.Equal(t, 4, active, "every instance processed")
	requireEachOnce(t, worldsApp, countersApp, want, partitions)

	// An instance stops: it releases its partitions, the others take them.
	instances[0].cancel()
	require.NoError(t, <-instances[0].done)
	instances[0].done <- nil // for the cleanup
	settle(t, countersApp, partitions, 3)
	before, _ = runs()
	more = writePerWorld(t, worldsApp, 40, 25)
	for k, n := range more {
		want[k] = n
	}
	require.Eventually(t, func() bool { n, _ := tracked(t.Context(), countersApp); return n == 3000 }, time.Minute, 10*time.Millisecond)
	total, _ = runs()
	require.EqualValues(t, 1000, total-before, "each policy ran once after the takeover")
	requireEachOnce(t, worldsApp, countersApp, want, partitions)
}

// settle waits until the live instances hold every partition in fair
// shares.
func settle(t *testing.T, countersApp *app.Application, partitions, instances int) {
	t.Helper()
	share := (partitions + instances - 1) / instances
	require.Eventually(t, func() bool {
		var owners, held, most int
		err := countersApp.Pool().QueryRow(t.Context(), `
			SELECT count(DISTINCT owner), count(owner), coalesce(max(n), 0) FROM partition_leases
			LEFT JOIN (SELECT owner AS o, count(*) AS n FROM partition_leases WHERE expires_at > now() GROUP BY owner) c ON c.o = owner
			WHERE owner IS NOT NULL AND expires_at > now()`).Scan(&owners, &held, &most)
		return err == nil && owners == instances && held == partitions && most <= share
	}, time.Minute, 20*time.Millisecond, "%d instances share %d partitions", instances, partitions)
}

// An instance that does not divide the log refuses to follow a log that
// others divided: it would skip their partitions' notifications.
func TestUndividedInstanceRefusesADividedLog(t *testing.T) {
	t.Parallel()
	env := postgresEnv(t)
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	newApp(t, "Counters", counters.NewRegistry(), env)
	writePerWorld(t, worldsApp, 2, 5)
	divided := startDivided(t, env, 4, time.Second)
	t.Cleanup(func() { divided.cancel(); <-divided.done })

	countersApp := newApp(t, "Counters", counters.NewRegistry(), env)
	require.Eventually(t, func() bool {
		n, err := countersApp.Recorder().(persistence.PartitionRecorder).PartitionCount(t.Context())
		return err == nil && n == 4
	}, time.Minute, 10*time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := system.RunProcess(ctx, countersWith(countPerWorld), "Counters", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv}, Logger: slog.New(slog.DiscardHandler),
	})
	var countErr *persistence.PartitionCountError
	require.ErrorAs(t, err, &countErr)
	require.Equal(t, persistence.PartitionCountError{Recorded: 4, Requested: 1}, *countErr)

	err = system.RunProcess(ctx, countersWith(countPerWorld), "Counters", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, Partitions: 8}, Logger: slog.New(slog.DiscardHandler),
	})
	require.ErrorAs(t, err, &countErr)
	require.Equal(t, persistence.PartitionCountError{Recorded: 4, Requested: 8}, *countErr)
}

// Dividing works on the in-memory store too: the one instance holds every
// partition.
func TestDividedOnTheMemoryStore(t *testing.T) {
	t.Parallel()
	runner := system.NewConcurrentRunner(countersWith(countPerWorld), system.RunnerOptions{
		Env: map[string]string{"PERSISTENCE_MODULE": "memory"}, Lookup: noEnv, Partitions: 4, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, runner.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, runner.Stop()) })
	worldsApp := runner.App("Worlds")
	want := map[string]int{}
	for i := range 20 {
		id, err := counters.CreateWorld(t.Context(), worldsApp, fmt.Sprint("world ", i))
		require.NoError(t, err)
		for j := range 1 + i%4 {
			require.NoError(t, counters.MakeItSo(t.Context(), worldsApp, id, fmt.Sprint("thing ", j)))
		}
		want[id.String()] = 1 + i%4
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, runner.WaitCaughtUp(ctx))
	for name, n := range want {
		got, err := counters.GetCount(ctx, runner.App("Counters"), name)
		require.NoError(t, err)
		require.Equal(t, n, got, name)
	}
	lag, err := runner.Process("Counters").Lag(ctx, "Worlds")
	require.NoError(t, err)
	require.Zero(t, lag.Behind)
}

// partitionsEnv, set to a partition count, makes the follower processes
// of the tests count per world, dividing the log with that count and
// leases of a second.
const partitionsEnv = "SYSTEM_TEST_PARTITIONS"

func dividedProcessOptions(partitions string) (*system.System, system.RunnerOptions) {
	n, _ := strconv.Atoi(partitions)
	return countersWith(countPerWorld), system.RunnerOptions{Partitions: n, LeaseTime: time.Second}
}

// Three follower processes divide the log in 6 partitions. While 2,000
// notifications are recorded and processed, one of them, at random, is
// killed with SIGKILL at random points and replaced, six times: the
// partitions of the killed one lag behind the others' until its leases
// expire and another instance takes them over from their positions. In
// the end every notification has been processed exactly once, and every
// partition has an owner.
func TestDividedFollowerProcessesKilledMidWorkResumeExactlyOnce(t *testing.T) {
	t.Parallel()
	env := postgresEnv(t)
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema
	env[partitionsEnv] = "6"

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 44))
	var output proctest.Output
	defer func() {
		if t.Failed() {
			t.Logf("the followers' output:\n%s", output.String())
		}
	}()
	deadline := time.Now().Add(3 * time.Minute)
	followers := []*exec.Cmd{startFollower(t, env, &output), startFollower(t, env, &output), startFollower(t, env, &output)}
	settle(t, countersApp, 6, 3)

	// The leader records while the followers process: one world of 20
	// notifications at a time.
	const numWorlds, perWorld = 100, 20
	const total = numWorlds * perWorld
	want := map[string]int{}
	written := make(chan error, 1)
	go func() {
		for i := range numWorlds {
			w, err := worlds.NewWorld(fmt.Sprintf("world %d", i+1))
			for j := 1; j < perWorld && err == nil; j++ {
				err = w.MakeItSo(fmt.Sprintf("thing %d", j))
			}
			if err == nil {
				_, err = worldsApp.Save(t.Context(), w)
			}
			if err != nil {
				written <- err
				return
			}
			want[w.ID().String()] = perWorld - 1
			time.Sleep(time.Duration(rand.IntN(10)) * time.Millisecond) // not rng: this goroutine's own
		}
		written <- nil
	}()

	for kill := 1; kill <= 6; kill++ {
		before := trackedCount(t, countersApp)
		if before >= total-100 {
			break
		}
		progress := int64(30 + rng.IntN(200))
		require.Eventually(t, func() bool {
			n, err := tracked(t.Context(), countersApp)
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond) // the kill lands at random points
			return err == nil && n >= min(before+progress, total-50)
		}, max(time.Until(deadline), time.Second), time.Millisecond, "the followers make progress after kill %d", kill-1)
		i := rng.IntN(len(followers))
		require.NoError(t, followers[i].Process.Kill())
		_ = followers[i].Wait()
		t.Logf("kill %d: follower %d, after %d of %d notifications", kill, i, trackedCount(t, countersApp), total)
		followers[i] = startFollower(t, env, &output)
	}
	require.NoError(t, <-written)
	require.Eventually(t, func() bool {
		n, err := tracked(t.Context(), countersApp)
		return err == nil && n >= total
	}, max(time.Until(deadline), time.Second), 20*time.Millisecond, "the followers catch up")
	settle(t, countersApp, 6, 3) // no partition left without an owner
	for _, f := range followers {
		require.NoError(t, f.Process.Signal(syscall.SIGTERM))
		require.NoError(t, f.Wait(), "a stopped follower exits cleanly")
	}
	requireEachOnce(t, worldsApp, countersApp, want, 6)
}
