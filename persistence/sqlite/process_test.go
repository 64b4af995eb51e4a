package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

// writerProcessEnv, set, makes this test binary a writer process: it
// records one event in the database SQLITE_DBNAME names, waiting up to
// SQLITE_LOCK_TIMEOUT seconds for the lock, and prints the outcome.
const writerProcessEnv = "EVENTSOURCING_SQLITE_TEST_WRITER"

func TestMain(m *testing.M) {
	if os.Getenv(writerProcessEnv) != "" {
		fmt.Println(writeOnce())
		os.Exit(0)
	}
	if os.Getenv(holderProcessEnv) != "" {
		fmt.Println(holdExclusive())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writeOnce records one event and says how it went: "recorded", "busy"
// for an error that wraps persistence.ErrOperational, or the error.
func writeOnce() string {
	ctx := context.Background()
	cfg, err := sqlite.ConfigFromEnv(config.Environment{}) // the process environment
	if err != nil {
		return err.Error()
	}
	d, err := sqlite.Open(ctx, cfg)
	if err != nil {
		return err.Error()
	}
	defer d.Close()
	_, err = sqlite.NewRecorder(d).InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	switch {
	case err == nil:
		return "recorded"
	case errors.Is(err, persistence.ErrOperational) && persistence.IsRetryable(err):
		return "busy"
	}
	return err.Error()
}

// A writer in another process waits for this one's write lock up to its
// lock timeout, and then fails with a retryable error; when the lock is
// released during the wait, it records.
func TestWriterInAnotherProcess(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d := open(t, sqlite.Config{DBName: path})
	conn, err := sqlite.SQLDB(d).Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	env := map[string]string{"SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "1", "CREATE_TABLE": "false"}
	run := func() (string, time.Duration) {
		var out proctest.Output
		start := time.Now()
		cmd := proctest.StartSelf(t, writerProcessEnv, env, &out)
		require.NoError(t, cmd.Wait(), out.String())
		return strings.TrimSpace(out.String()), time.Since(start)
	}

	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)
	outcome, took := run()
	require.Equal(t, "busy", outcome)
	require.GreaterOrEqual(t, took, time.Second)

	released := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, err := conn.ExecContext(ctx, "COMMIT")
		released <- err
	}()
	outcome, _ = run()
	require.NoError(t, <-released)
	require.Equal(t, "recorded", outcome)
	max, err := sqlite.NewRecorder(d).MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), max, "only the second process's write is recorded")
}
