package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// helperProcessEnv, when set, makes the test binary run the Counters
// process application (system.RunProcess) instead of the tests: the worker
// process that TestWorkerKilledMidBatchResumesExactlyOnce kills. It is
// configured by the environment (DATABASE_URL, *_POSTGRES_SCHEMA).
const helperProcessEnv = "INTEGRATION_COUNTERS_PROCESS"

func runHelperProcess() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := system.RunProcess(ctx, counters.System(), "Counters", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: map[string]string{"PERSISTENCE_MODULE": "postgres"}, PollInterval: 200 * time.Millisecond,
			Paging: system.Paging{Size: workerPageSize}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "counters process:", err)
		return 1
	}
	return 0
}

// workerPageSize is the worker's page size: pages of 7 notifications end
// in the middle of the upstream batches of 20, so that kills interrupt
// pages (whose work is lost and done again) at every point of a batch.
const workerPageSize = 7

// startWorker starts the Counters process application as a separate OS
// process (this test binary, see TestMain) configured by env.
func startWorker(t *testing.T, env map[string]string, output *proctest.Output) *exec.Cmd {
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

// tracked returns how many Worlds notifications Counters tracked.
func tracked(ctx context.Context, countersApp *app.Application) (int64, error) {
	var n int64
	err := countersApp.Pool().QueryRow(ctx, "SELECT count(*) FROM tracking WHERE application_name = 'Worlds'").Scan(&n)
	return n, err
}

// A process application's worker, in its own OS process on the container,
// is killed with SIGKILL in the middle of its work, five times: it records
// pages of 7 notifications, so a kill interrupts a page (uncommitted) that
// lies anywhere in the upstream batches (each world is one batch of 20
// notifications). Each restart
// resumes after the last tracked notification; in the end every
// notification is tracked exactly once and every count is exact, so no
// notification was processed twice or skipped.
func TestWorkerKilledMidBatchResumesExactlyOnce(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	env := map[string]string{
		"PERSISTENCE_MODULE":       "postgres",
		"DATABASE_URL":             s.URL(),
		"WORLDS_POSTGRES_SCHEMA":   s.newSchema(t),
		"COUNTERS_POSTGRES_SCHEMA": s.newSchema(t),
	}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), env)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env) // migrates its schema
	want := writeWorlds(t, worldsApp, 100, 20)
	total, err := worldsApp.Recorder().MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2000), total)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var output proctest.Output
	deadline := time.Now().Add(3 * time.Minute)
	kills, midBatch := 0, 0
	for kills < 5 {
		before := trackedCount(t, countersApp)
		if before >= total-100 {
			break
		}
		progress := int64(50 + rng.IntN(250))
		cmd := startWorker(t, env, &output)
		for trackedCount(t, countersApp) < min(before+progress, total-50) && time.Now().Before(deadline) {
			// A random pause between polls, on purpose: the kill lands at
			// random points of the worker's work.
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		kills++
		at := trackedCount(t, countersApp)
		if at%20 != 0 {
			midBatch++
		}
		t.Logf("kill %d: after %d of %d notifications (%d into a batch of 20)", kills, at, total, at%20)
	}
	require.GreaterOrEqual(t, kills, 3, "the worker was killed several times")
	require.Positive(t, midBatch, "at least one kill fell in the middle of a batch")

	// The last worker also meets new batches while it runs.
	cmd := startWorker(t, env, &output)
	more := writeWorlds(t, worldsApp, 5, 20)
	for what, n := range more {
		want[what] += n
	}
	total += 100
	if !eventually(max(time.Until(deadline), time.Second), 20*time.Millisecond, func() bool {
		n, err := tracked(t.Context(), countersApp)
		return err == nil && n >= total
	}) {
		t.Fatalf("the worker did not catch up; its output:\n%s", output.String())
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "a stopped worker exits cleanly; output:\n%s", output.String())
	requireExactlyOnce(t, worldsApp, countersApp, want)
}
