package system_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// helperProcessEnv, when set, makes the test binary run the Counters
// process application (system.RunProcess) instead of the tests: the
// follower process of the multi-process tests.
const helperProcessEnv = "SYSTEM_TEST_COUNTERS_PROCESS"

func runHelperProcess() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	sys, opts := counters.System(), system.RunnerOptions{}
	if partitions := os.Getenv(partitionsEnv); partitions != "" {
		sys, opts = dividedProcessOptions(partitions)
	}
	opts.PollInterval = 200 * time.Millisecond // the store is the test's: its environment names it
	err := system.RunProcess(ctx, sys, "Counters", system.ProcessOptions{RunnerOptions: opts})
	if err != nil {
		fmt.Fprintln(os.Stderr, "counters process:", err)
		return 1
	}
	return 0
}

// postgresEnv returns the configuration of Worlds and Counters on fresh
// schemas of the test server.
func postgresEnv(t *testing.T) map[string]string {
	t.Helper()
	return pgtest.PostgresEnv(t, "WORLDS", "COUNTERS")
}

func newApp(t *testing.T, name string, reg *codec.Registry, env map[string]string) *app.Application {
	t.Helper()
	a, err := app.New(t.Context(), app.Options{Name: name, Registry: reg, Env: env, Lookup: noEnv})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// writeWorlds records worlds×perWorld notifications in Worlds (each world
// saved at once) and returns the counts the Counters must reach.
func writeWorlds(t *testing.T, worldsApp *app.Application, numWorlds, perWorld int) map[string]int {
	t.Helper()
	want := map[string]int{}
	for i := 0; i < numWorlds; i++ {
		w, err := worlds.NewWorld(fmt.Sprintf("world %d", i+1))
		require.NoError(t, err)
		for j := 1; j < perWorld; j++ {
			what := fmt.Sprintf("thing-%d", (i*7+j)%25)
			require.NoError(t, w.MakeItSo(what))
			want[what]++
		}
		_, err = worldsApp.Save(t.Context(), w)
		require.NoError(t, err)
	}
	return want
}

// requireExactlyOnce checks the counters against want and that every
// notification of Worlds is tracked exactly once.
func requireExactlyOnce(t *testing.T, worldsApp, countersApp *app.Application, want map[string]int) {
	t.Helper()
	ctx := t.Context()
	for what, n := range want {
		got, err := counters.GetCount(ctx, countersApp, what)
		require.NoError(t, err)
		require.Equal(t, n, got, what)
	}
	requireTrackedOnce(t, worldsApp, countersApp)
	// One CounterIncremented per SomethingHappened, one CounterCreated per counter.
	// Count the events rather than read the last id: a conflict between two
	// instances may leave a gap in the ids.
	events, err := countersApp.Recorder().SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 1 << 30})
	require.NoError(t, err)
	total := 0
	for _, n := range want {
		total += n
	}
	require.Len(t, events, total+len(want), "no event was recorded twice")
}

// requireTrackedOnce checks that Counters tracked every notification of
// Worlds once: no holes, no repeats.
func requireTrackedOnce(t *testing.T, worldsApp, countersApp *app.Application) {
	t.Helper()
	ctx := t.Context()
	max, err := worldsApp.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	if countersApp.Pool() == nil { // SQLite: each notification, one by one
		for id := int64(1); id <= max; id++ {
			has, err := countersApp.Recorder().HasTrackingID(ctx, "Worlds", id)
			require.NoError(t, err)
			require.True(t, has, "notification %d tracked", id)
		}
		last, err := countersApp.Recorder().MaxTrackingID(ctx, "Worlds")
		require.NoError(t, err)
		require.Equal(t, max, last, "nothing tracked past the leader's last notification")
		return
	}
	var rows, low, high int64
	require.NoError(t, countersApp.Pool().QueryRow(ctx,
		"SELECT count(*), min(notification_id), max(notification_id) FROM tracking WHERE application_name = 'Worlds'").Scan(&rows, &low, &high))
	require.Equal(t, max, rows, "one tracking record per notification: no holes, no repeats")
	require.Equal(t, []int64{1, max}, []int64{low, high})
}

// Two instances of the same process application race on the same
// upstream: one wins each notification, the other re-reads its position,
// and every notification is processed exactly once.
func TestTwoInstancesOfAFollowerProcessEachNotificationOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	env := postgresEnv(t)
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	want := writeWorlds(t, worldsApp, 20, 20)

	var wg sync.WaitGroup
	var instances []*app.Application
	errs := make([]error, 2)
	for i := range errs {
		countersApp := newApp(t, "Counters", counters.NewRegistry(), env)
		instances = append(instances, countersApp)
		p := system.NewProcessApplication(countersApp, counters.Policy)
		p.Follow(worldsApp)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = p.PullAndProcess(ctx, "Worlds")
		}(i)
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	requireExactlyOnce(t, worldsApp, instances[0], want)
}

// A process application that restarts resumes after the last tracked
// notification: nothing is processed twice.
func TestPullAndProcessResumesFromTracking(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := postgresEnv(t)
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	want := writeWorlds(t, worldsApp, 3, 10)

	first := system.NewProcessApplication(newApp(t, "Counters", counters.NewRegistry(), env), counters.Policy)
	first.Follow(worldsApp)
	n, err := first.PullAndProcess(ctx, "Worlds")
	require.NoError(t, err)
	require.Equal(t, 30, n)

	more := writeWorlds(t, worldsApp, 2, 10)
	for what, n := range more {
		want[what] += n
	}
	second := system.NewProcessApplication(newApp(t, "Counters", counters.NewRegistry(), env), counters.Policy)
	second.Follow(worldsApp)
	n, err = second.PullAndProcess(ctx, "Worlds")
	require.NoError(t, err)
	require.Equal(t, 20, n, "only the new notifications")
	n, err = second.PullAndProcess(ctx, "Worlds")
	require.NoError(t, err)
	require.Zero(t, n)
	requireExactlyOnce(t, worldsApp, second.Application, want)
}

// startFollower starts the Counters process application as a separate
// OS process (this test binary, see TestMain) against env.
func startFollower(t *testing.T, env map[string]string, output *proctest.Output) *exec.Cmd {
	t.Helper()
	return proctest.StartSelf(t, helperProcessEnv, env, output)
}

// trackedCount returns how many Worlds notifications Counters tracked.
func trackedCount(t *testing.T, countersApp *app.Application) int64 {
	t.Helper()
	n, err := tracked(t.Context(), countersApp)
	require.NoError(t, err)
	return n
}

// tracked returns how many Worlds notifications Counters tracked, for a
// condition of require.Eventually (which must not fail t itself).
func tracked(ctx context.Context, countersApp *app.Application) (int64, error) {
	if countersApp.Pool() == nil { // SQLite, where the followers do not divide their logs: no gaps
		return countersApp.Recorder().MaxTrackingID(ctx, "Worlds")
	}
	var n int64
	err := countersApp.Pool().QueryRow(ctx, "SELECT count(*) FROM tracking WHERE application_name = 'Worlds'").Scan(&n)
	return n, err
}

// The follower runs in its own OS process, woken by the leader's
// notifications (on SQLite, checking the leader's file), and is killed
// with SIGKILL at random points while it processes 2,000 notifications,
// on PostgreSQL and on SQLite files. After restarts every notification has
// been processed exactly once.
func TestFollowerProcessKilledMidWorkResumesExactlyOnce(t *testing.T) {
	t.Parallel()
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testFollowerProcessKilled(t, postgresEnv(t))
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testFollowerProcessKilled(t, pgtest.SQLiteEnv(t, "WORLDS", "COUNTERS"))
	})
}

func testFollowerProcessKilled(t *testing.T, env map[string]string) {
	ctx := t.Context()
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema
	want := writeWorlds(t, worldsApp, 100, 20)
	total, err := worldsApp.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2000), total)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42))
	var output proctest.Output
	deadline := time.Now().Add(3 * time.Minute)
	kills := 0
	for kills < 5 {
		before := trackedCount(t, countersApp)
		if before >= total-100 {
			break
		}
		// Kill after a random amount of progress, mid-way.
		progress := int64(50 + rng.IntN(250))
		cmd := startFollower(t, env, &output)
		for trackedCount(t, countersApp) < min(before+progress, total-50) && time.Now().Before(deadline) {
			// A random pause between polls, on purpose: the kill lands at
			// random points of the follower's work.
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		kills++
		t.Logf("kill %d: after %d of %d notifications", kills, trackedCount(t, countersApp), total)
	}
	require.GreaterOrEqual(t, kills, 3, "the follower was killed mid-work several times")

	// While the last follower runs, the leader records more: it is woken.
	cmd := startFollower(t, env, &output)
	more := writeWorlds(t, worldsApp, 5, 20)
	for what, n := range more {
		want[what] += n
	}
	total += 100
	defer func() {
		if t.Failed() {
			t.Logf("the follower's output:\n%s", output.String())
		}
	}()
	require.Eventually(t, func() bool {
		n, err := tracked(t.Context(), countersApp)
		return err == nil && n >= total
	}, max(time.Until(deadline), time.Second), 20*time.Millisecond, "the follower catches up")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "a stopped follower exits cleanly; output:\n%s", output.String())
	requireExactlyOnce(t, worldsApp, countersApp, want)
}

// A follower process started while its database is unreachable keeps
// trying (logging each failure) until it is stopped.
func TestRunProcessRetriesWhileTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	var logs proctest.Output
	err := system.RunProcess(ctx, counters.System(), "Counters", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Lookup: noEnv, PollInterval: 100 * time.Millisecond, Env: map[string]string{
			"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": "postgres://u@127.0.0.1:1/db?connect_timeout=1",
		}},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err, "stopping is not an error")
	require.GreaterOrEqual(t, strings.Count(logs.String(), "starting failed; retrying"), 2)
}

// Two follower processes run at once, one active and one standing by, on
// PostgreSQL or on SQLite files; one of them, at random, is killed with
// SIGKILL at random points while they process 2,000 notifications, and
// replaced, six times. Whenever the active one dies the other takes over
// (on SQLite, the kernel releases the dead one's file lock); in the end
// every notification has been processed exactly once.
func TestStandbyFollowerProcessesKilledMidWorkResumeExactlyOnce(t *testing.T) {
	t.Parallel()
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testStandbyFollowersKilled(t, postgresEnv(t))
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testStandbyFollowersKilled(t, pgtest.SQLiteEnv(t, "WORLDS", "COUNTERS"))
	})
}

func testStandbyFollowersKilled(t *testing.T, env map[string]string) {
	ctx := t.Context()
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema
	want := writeWorlds(t, worldsApp, 100, 20)
	total, err := worldsApp.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 43))
	var output proctest.Output
	defer func() {
		if t.Failed() {
			t.Logf("the followers' output:\n%s", output.String())
		}
	}()
	deadline := time.Now().Add(3 * time.Minute)
	followers := []*exec.Cmd{startFollower(t, env, &output), startFollower(t, env, &output)}
	for kill := 1; kill <= 6; kill++ {
		before := trackedCount(t, countersApp)
		if before >= total-100 {
			break
		}
		progress := int64(30 + rng.IntN(200))
		require.Eventually(t, func() bool {
			n, err := tracked(t.Context(), countersApp)
			// A random pause between polls, on purpose: the kill lands at
			// random points of the followers' work.
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
			return err == nil && n >= min(before+progress, total-50)
		}, max(time.Until(deadline), time.Second), time.Millisecond, "the followers make progress after kill %d", kill-1)
		i := rng.IntN(len(followers))
		require.NoError(t, followers[i].Process.Kill())
		_ = followers[i].Wait()
		t.Logf("kill %d: follower %d, after %d of %d notifications", kill, i, trackedCount(t, countersApp), total)
		followers[i] = startFollower(t, env, &output)
	}
	require.Eventually(t, func() bool {
		n, err := tracked(t.Context(), countersApp)
		return err == nil && n >= total
	}, max(time.Until(deadline), time.Second), 20*time.Millisecond, "the followers catch up")
	for _, f := range followers {
		require.NoError(t, f.Process.Signal(syscall.SIGTERM))
		require.NoError(t, f.Wait(), "a stopped follower exits cleanly")
	}
	requireExactlyOnce(t, worldsApp, countersApp, want)
}
