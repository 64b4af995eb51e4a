package sqlite

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestDefaultLockTimeout(t *testing.T) {
	t.Parallel()
	_, timeout, err := Config{DBName: ":memory:"}.parse()
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, timeout)
	d, _, err := Config{DBName: "events.db"}.parse()
	require.NoError(t, err)
	require.Contains(t, d.dsn, "_busy_timeout=5000")
	require.Contains(t, d.dsn, "_txlock=immediate")
}

// A writer of the process waits for the others up to the lock timeout,
// then fails with a retryable ErrOperational.
func TestProcessWritersWaitUpToTheLockTimeout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const timeout = 200 * time.Millisecond
	d, err := Open(ctx, Config{DBName: ":memory:", LockTimeout: timeout, CreateTable: true})
	require.NoError(t, err)
	defer d.Close()
	d.writeLock <- struct{}{} // another writer of the process holds it
	start := time.Now()
	err = NewRecorder(d).InsertEvents(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1}})
	require.ErrorIs(t, err, persistence.ErrOperational)
	require.ErrorIs(t, err, errWriteLockTimeout)
	require.True(t, persistence.IsRetryable(err))
	require.GreaterOrEqual(t, time.Since(start), timeout)

	<-d.writeLock
	require.NoError(t, NewRecorder(d).InsertEvents(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1}}))
}
