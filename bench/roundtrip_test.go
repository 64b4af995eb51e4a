package bench

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// TestGetRoundTrips counts what one Repository.Get of a 100-event
// aggregate sends to PostgreSQL: the statements (a pgx tracer) and the
// round trips (the writes on the connection; pgx writes once and then
// waits for the answer). Without snapshotting, a get on a connection that
// has prepared the statement is one statement in one round trip; the
// first get on a connection prepares it first (one more), and so does the
// pool's liveness ping of a connection idle for over a second. With
// snapshotting on, the latest snapshot is selected first: two statements.
func TestGetRoundTrips(t *testing.T) {
	t.Parallel()
	for _, snapshots := range []bool{false, true} {
		name := "no snapshots"
		if snapshots {
			name = "snapshotting on"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testGetRoundTrips(t, snapshots)
		})
	}
}

func testGetRoundTrips(t *testing.T, snapshots bool) {
	ctx := t.Context()
	var statements, writes atomic.Int64
	cfg, err := pgxpool.ParseConfig(pgtest.ServerURL(t))
	require.NoError(t, err)
	require.NoError(t, postgres.ConfigurePool(cfg, pgtest.NewSchemaName(t)))
	cfg.MaxConns = 1 // every get on the same connection
	cfg.ConnConfig.Tracer = statementCounter{&statements}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return writeCounter{c, &writes}, nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	a, err := app.New(ctx, app.Options{Name: "RoundTrips", Registry: registry(), Pool: pool, Lookup: noEnv,
		SnapshottingEnabled: snapshots})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	it, err := newItem(aggregateEvents)
	require.NoError(t, err)
	_, err = a.Save(ctx, it)
	require.NoError(t, err)
	repo := app.NewRepository[Item](a)

	get := func() (stmts, trips int64) {
		t.Helper()
		statements.Store(0)
		writes.Store(0)
		got, err := repo.Get(ctx, it.ID())
		require.NoError(t, err)
		require.Equal(t, int64(aggregateEvents), got.Version())
		return statements.Load(), writes.Load()
	}
	perGet := int64(1)
	if snapshots {
		perGet = 2
	}
	stmts, trips := get()
	require.Equal(t, perGet, stmts, "statements, first get on the connection")
	require.Equal(t, 2*perGet, trips, "round trips, first get on the connection (each statement prepared)")
	stmts, trips = get()
	require.Equal(t, perGet, stmts, "statements, statements prepared")
	require.Equal(t, perGet, trips, "round trips, statements prepared")
	time.Sleep(1100 * time.Millisecond) // past pgxpool's default ping threshold
	stmts, trips = get()
	require.Equal(t, perGet, stmts, "statements, connection idle for over a second")
	require.Equal(t, perGet+1, trips, "round trips, connection idle for over a second (pinged)")
}

// statementCounter is a pgx tracer that counts the statements sent.
type statementCounter struct{ n *atomic.Int64 }

func (c statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// writeCounter is a connection that counts its writes.
type writeCounter struct {
	net.Conn
	n *atomic.Int64
}

func (c writeCounter) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}
