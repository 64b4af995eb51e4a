package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// Of the callers of Exclusive with one key, one runs at a time while its
// session lasts; when the holder's session ends, its function's context
// is canceled, it gets a connection error, and a waiter runs.
func TestExclusive(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	defer pool.Close()
	key := time.Now().UnixNano() // no other test takes it

	var running, most atomic.Int32
	holderPID := make(chan int32, 1)
	holder := make(chan error, 1)
	go func() {
		holder <- postgres.Exclusive(ctx, pool, key, func(ctx context.Context) error {
			running.Add(1)
			defer running.Add(-1)
			most.Store(max(most.Load(), running.Load()))
			var pid int32
			// The lock's session is the one holding pg_locks' advisory lock.
			err := pool.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
				AND ((classid::bigint << 32) | objid::bigint) = $1`, key).Scan(&pid)
			if err != nil {
				return err
			}
			holderPID <- pid
			<-ctx.Done() // until the session is lost
			return nil
		})
	}()
	pid := <-holderPID

	waiter := make(chan error, 1)
	ran := make(chan struct{})
	go func() {
		waiter <- postgres.Exclusive(ctx, pool, key, func(ctx context.Context) error {
			running.Add(1)
			defer running.Add(-1)
			most.Store(max(most.Load(), running.Load()))
			close(ran)
			return nil
		})
	}()
	select {
	case <-ran:
		t.Fatal("the waiter ran while the holder held the lock")
	case <-time.After(300 * time.Millisecond):
	}

	require.EqualValues(t, 1, most.Load(), "never two at once while the holder's session lasts")

	// The session ends: the server releases the lock at once, and the
	// holder learns it within about a second (both may run meanwhile).
	_, err = pool.Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
	require.NoError(t, err)
	select {
	case err := <-holder:
		require.ErrorIs(t, err, persistence.ErrConnection, "the holder learns that its session ended")
	case <-time.After(10 * time.Second):
		t.Fatal("the holder's function was not canceled after its session ended")
	}
	select {
	case err := <-waiter:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not run after the holder's session ended")
	}
}
