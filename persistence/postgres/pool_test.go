package postgres_test

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// poolTestWait bounds every wait of these tests: generous, so that a slow
// machine does not fail them, yet they never wait for ever.
const poolTestWait = 30 * time.Second

// poolTestPID returns the server process ID of the connection that serves
// one query of pool.
func poolTestPID(t *testing.T, pool *pgxpool.Pool) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), poolTestWait)
	defer cancel()
	var pid int32
	require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
	return pid
}

// poolTestBackendGone reports whether the server process pid has ended.
func poolTestBackendGone(t *testing.T, pid int32) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), poolTestWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var alive bool
	require.NoError(t, conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&alive))
	return !alive
}

// The pool's maximum is POSTGRES_POOL_SIZE + POSTGRES_MAX_OVERFLOW.
func TestOpenPoolMaxConnsIsSizePlusOverflow(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow, cfg.PoolTimeout = 2, 3, 5*time.Second
	pool := openPool(t, cfg)
	require.Equal(t, int32(5), pool.Config().MaxConns)

	ctx, cancel := context.WithTimeout(t.Context(), poolTestWait)
	defer cancel()
	var conns []*pgxpool.Conn
	for range 5 {
		conn, err := pool.Acquire(ctx)
		require.NoError(t, err)
		conns = append(conns, conn)
	}
	_, err := pool.Acquire(ctx)
	require.ErrorIs(t, err, persistence.ErrOperational, "a sixth connection is over the maximum")
	for _, conn := range conns {
		conn.Release()
	}
}

// Sequential operations on a pool with an overflow reuse one connection:
// the overflow does not make the pool open (and close) connections.
func TestOpenPoolOverflowReusesConnection(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow = 1, 2
	pool := openPool(t, cfg)
	first := poolTestPID(t, pool)
	opened := pool.Stat().NewConnsCount()
	for range 200 {
		require.Equal(t, first, poolTestPID(t, pool))
	}
	require.Equal(t, opened, pool.Stat().NewConnsCount())
}

// With every connection in use, an operation fails after
// POSTGRES_POOL_TIMEOUT with an operational error, instead of waiting
// until its context ends.
func TestOpenPoolTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow, cfg.PoolTimeout = 1, 0, time.Second
	pool := openPool(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), poolTestWait)
	defer cancel()
	held, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer held.Release()

	_, err = postgres.NewRecorder(pool).MaxNotificationID(ctx)
	require.ErrorIs(t, err, persistence.ErrOperational)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, postgres.EnvPoolTimeout)
	require.NoError(t, ctx.Err(), "the caller's context has not ended")

	_, err = pool.Exec(ctx, "SELECT 1")
	require.ErrorIs(t, err, persistence.ErrOperational)

	held.Release()
	_, err = postgres.NewRecorder(pool).MaxNotificationID(ctx)
	require.NoError(t, err, "the pool serves again once a connection is free")
}

// A caller's deadline shorter than POSTGRES_POOL_TIMEOUT ends the wait with
// the caller's own error, not the pool's.
func TestOpenPoolTimeoutCallerDeadlineFirst(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow, cfg.PoolTimeout = 1, 0, time.Hour
	pool := openPool(t, cfg)
	held, err := pool.Acquire(t.Context())
	require.NoError(t, err)
	defer held.Release()

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = pool.Exec(ctx, "SELECT 1")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, persistence.ErrOperational)

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = pool.Exec(ctx, "SELECT 1")
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, persistence.ErrOperational)
}

// A connection older than POSTGRES_CONN_MAX_AGE is replaced.
func TestOpenConnMaxAge(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow, cfg.ConnMaxAge = 1, 0, 2*time.Second
	pool := openPool(t, cfg)
	require.Equal(t, 2*time.Second, pool.Config().MaxConnLifetime)
	first := poolTestPID(t, pool)
	require.Eventually(t, func() bool { return poolTestPID(t, pool) != first },
		poolTestWait, 100*time.Millisecond, "the pool's one connection is replaced once 2 s old")
	require.Eventually(t, func() bool { return poolTestBackendGone(t, first) },
		poolTestWait, 100*time.Millisecond, "the old connection is closed")
}

// POSTGRES_CONN_MAX_AGE=0 uses each connection once.
func TestOpenConnUseOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow, cfg.ConnUseOnce = 1, 0, true
	pool := openPool(t, cfg)
	first := poolTestPID(t, pool)
	second := poolTestPID(t, pool)
	require.NotEqual(t, first, second)
	require.Eventually(t, func() bool { return poolTestBackendGone(t, first) },
		poolTestWait, 100*time.Millisecond, "the used connection is closed")
}

// Without POSTGRES_CONN_MAX_AGE a connection is reused.
func TestOpenConnReused(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow = 1, 0
	pool := openPool(t, cfg)
	require.Equal(t, poolTestPID(t, pool), poolTestPID(t, pool))
}

// With POSTGRES_PRE_PING a connection ended by the server since its last
// use is replaced before the next operation, which succeeds.
func TestOpenPrePing(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow, cfg.PrePing = 1, 0, true
	pool := openPool(t, cfg)
	first := poolTestPID(t, pool)

	ctx, cancel := context.WithTimeout(t.Context(), poolTestWait)
	defer cancel()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	var ended bool
	// Wait (up to 20 s) until the process has ended.
	require.NoError(t, admin.QueryRow(ctx, "SELECT pg_terminate_backend($1, 20000)", first).Scan(&ended))
	require.True(t, ended)

	second := poolTestPID(t, pool)
	require.NotEqual(t, first, second)
}

// Pool settings out of range in a Config built in code are refused by
// Open, naming the variable that sets them.
func TestOpenRefusesOutOfRangePoolConfig(t *testing.T) {
	t.Parallel()
	base := postgres.Config{ConnString: pgtest.ServerURL(t), Schema: pgtest.NewSchemaName(t), PoolSize: 5, CreateTable: true}
	requireOpenRefuses(t, base, []configChange{
		{"max overflow -1", func(c *postgres.Config) { c.MaxOverflow = -1 }, postgres.EnvMaxOverflow},
		{"size + overflow beyond int32", func(c *postgres.Config) { c.MaxOverflow = math.MaxInt32 - 4 }, postgres.EnvMaxOverflow},
		{"overflow without pool size", func(c *postgres.Config) { c.PoolSize, c.MaxOverflow = 0, 1 }, postgres.EnvMaxOverflow},
		{"pool timeout -1ns", func(c *postgres.Config) { c.PoolTimeout = -1 }, postgres.EnvPoolTimeout},
		{"pool timeout beyond a year", func(c *postgres.Config) { c.PoolTimeout = 366 * 24 * time.Hour }, postgres.EnvPoolTimeout},
		{"pool timeout 1ns", func(c *postgres.Config) { c.PoolTimeout = time.Nanosecond }, postgres.EnvPoolTimeout},
		{"pool timeout 999ms", func(c *postgres.Config) { c.PoolTimeout = 999 * time.Millisecond }, postgres.EnvPoolTimeout},
		{"conn max age -1s", func(c *postgres.Config) { c.ConnMaxAge = -time.Second }, postgres.EnvConnMaxAge},
		{"conn max age beyond a year", func(c *postgres.Config) { c.ConnMaxAge = 366 * 24 * time.Hour }, postgres.EnvConnMaxAge},
		{"conn max age 1ns", func(c *postgres.Config) { c.ConnMaxAge = time.Nanosecond }, postgres.EnvConnMaxAge},
		{"conn max age with use once", func(c *postgres.Config) { c.ConnMaxAge, c.ConnUseOnce = time.Second, true }, postgres.EnvConnMaxAge},
	})
}

// The largest pool settings in range are accepted.
func TestOpenLargestPoolSettings(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PoolSize, cfg.MaxOverflow = 5, math.MaxInt32-5
	cfg.PoolTimeout, cfg.ConnMaxAge = 365*24*time.Hour, 365*24*time.Hour
	pool := openPool(t, cfg)
	require.Equal(t, int32(math.MaxInt32), pool.Config().MaxConns)
	_, err := postgres.NewRecorder(pool).MaxNotificationID(t.Context())
	require.NoError(t, err)
}

// queryCounter is a pgx.QueryTracer that counts the queries it sees.
type queryCounter struct{ started, ended atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.started.Add(1)
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {
	q.ended.Add(1)
}

// Config.QueryTracer sees the pool's queries, alone and beside the pool
// timeout, which still bounds the wait for a connection.
func TestOpenQueryTracer(t *testing.T) {
	t.Parallel()
	for _, poolTimeout := range []time.Duration{0, time.Second} {
		t.Run(fmt.Sprintf("pool timeout %s", poolTimeout), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			tracer := &queryCounter{}
			cfg.PoolSize, cfg.MaxOverflow, cfg.PoolTimeout, cfg.QueryTracer = 1, 0, poolTimeout, tracer
			pool := openPool(t, cfg)
			ctx, cancel := context.WithTimeout(t.Context(), poolTestWait)
			defer cancel()
			before := tracer.started.Load()
			_, err := postgres.NewRecorder(pool).MaxNotificationID(ctx)
			require.NoError(t, err)
			require.Equal(t, before+1, tracer.started.Load())
			require.Equal(t, tracer.started.Load(), tracer.ended.Load())
			if poolTimeout == 0 {
				return
			}
			held, err := pool.Acquire(ctx)
			require.NoError(t, err)
			defer held.Release()
			_, err = pool.Exec(ctx, "SELECT 1")
			require.ErrorIs(t, err, persistence.ErrOperational, "the pool timeout still applies")
		})
	}
}
