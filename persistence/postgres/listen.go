package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listener receives the notifications that the insert procedure sends,
// at commit, on the channel named after the schema whose events were
// recorded: a follower in another process can wake as soon as its leader
// records events, instead of polling. It holds one connection of its own.
// It is not safe for concurrent use.
type Listener struct {
	conn *pgx.Conn
}

// Listen returns a Listener of the schemas (which must be valid schema
// names) on a connection taken from pool, which it keeps until Close.
func Listen(ctx context.Context, pool *pgxpool.Pool, schemas ...string) (*Listener, error) {
	pooled, err := pool.Acquire(ctx)
	if err != nil {
		return nil, mapError("listen", err, nil)
	}
	conn := pooled.Hijack()
	for _, schema := range schemas {
		if err := ValidateSchema(schema); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		// LISTEN takes no parameters; the validated name is quoted.
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{schema}.Sanitize()); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, mapError("listen on "+schema, err, nil)
		}
	}
	return &Listener{conn: conn}, nil
}

// Wait blocks until events are recorded in one of the schemas, and returns
// that schema and the last notification ID the insert reported. It returns
// ctx's error when ctx ends, and an interface error when the connection is
// lost (make a new Listener then).
func (l *Listener) Wait(ctx context.Context) (schema string, lastID string, err error) {
	n, err := l.conn.WaitForNotification(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", mapError("wait for notification", err, nil)
	}
	return n.Channel, n.Payload, nil
}

// Close closes the Listener's connection.
func (l *Listener) Close(ctx context.Context) error {
	if err := l.conn.Close(ctx); err != nil {
		return fmt.Errorf("close listener: %w", err)
	}
	return nil
}
