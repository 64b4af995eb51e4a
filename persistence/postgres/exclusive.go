package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// lockCheckInterval is how often Exclusive checks that the connection
// holding its lock is still there.
const lockCheckInterval = time.Second

// Exclusive runs fn while holding the database-wide advisory lock key, on
// a connection of its own taken from pool (and closed at the end, which
// releases the lock): of all the callers with the same key, in every
// process, one runs fn at a time, and the others wait (until ctx ends).
// The lock lasts as long as that connection's session: if the session is
// lost (a network cut, a server restart), another caller may take the
// lock, so Exclusive cancels fn's context within about a second and then
// returns an error that is errors.Is(err, persistence.ErrConnection),
// whatever fn returned. Otherwise it returns fn's error.
func Exclusive(ctx context.Context, pool *pgxpool.Pool, key int64, fn func(ctx context.Context) error) error {
	pooled, err := pool.Acquire(ctx)
	if err != nil {
		return mapError("acquire a connection for a lock", err, nil)
	}
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if err := db.New().AdvisoryLock(ctx, conn, key); err != nil {
		return mapError("take the lock", err, nil)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan error, 1)
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		tick := time.NewTicker(lockCheckInterval)
		defer tick.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-tick.C:
			}
			pingCtx, stop := context.WithTimeout(runCtx, lockCheckInterval)
			err := conn.Ping(pingCtx)
			stop()
			if err != nil && runCtx.Err() == nil {
				lost <- err
				cancel()
				return
			}
		}
	}()
	err = fn(runCtx)
	cancel()
	<-checked
	select {
	case cause := <-lost:
		return &persistence.DatabaseError{Kind: persistence.ErrConnection, Err: fmt.Errorf("the session holding the lock ended: %w", cause)}
	default:
		return err
	}
}
