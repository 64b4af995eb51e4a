package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// queryCapture is a pgx tracer that keeps the SQL and the arguments of
// the last query started.
type queryCapture struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (c *queryCapture) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sql, c.args = d.SQL, d.Args
	return ctx
}

func (c *queryCapture) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// sqlLiteral renders an argument of the notification queries as an SQL
// literal.
func sqlLiteral(t *testing.T, arg any) string {
	t.Helper()
	switch v := arg.(type) {
	case *uuid.UUID:
		if v == nil {
			return "NULL"
		}
		return "'" + v.String() + "'"
	case *int64:
		if v == nil {
			return "NULL"
		}
		return fmt.Sprint(*v)
	case int64, int32:
		return fmt.Sprint(v)
	case []string:
		if len(v) > 0 {
			t.Fatalf("topics %q: only none are rendered", v)
		}
		return "'{}'"
	}
	t.Fatalf("no literal for %T", arg)
	return ""
}

// A read of the notifications of one correlation id runs a statement whose
// generic plan (the plan PostgreSQL may keep for a prepared statement from
// its sixth execution on, as pgx prepares every statement) reads
// stored_events_correlation_idx, rather than filtering the log from start.
func TestCorrelatedReadUsesTheIndex(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := testConfig(t)
	capture := &queryCapture{}
	cfg.QueryTracer = capture
	pool := openPool(t, cfg)
	// 20,000 events, each correlation id on 10 of them, every fifth
	// without one.
	_, err := pool.Exec(ctx, `INSERT INTO stored_events (originator_id, originator_version, topic, state, correlation_id)
		SELECT gen_random_uuid(), 1, 't:E', '\x00'::bytea,
		       CASE WHEN g % 5 = 0 THEN NULL ELSE ('00000000-0000-0000-0000-' || lpad(to_hex(g % 2000), 12, '0'))::uuid END
		FROM generate_series(1, 20000) g`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "ANALYZE stored_events")
	require.NoError(t, err)

	correlationID := uuid.MustParse("00000000-0000-0000-0000-000000000007")
	ns, err := postgres.NewRecorder(pool).SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100, CorrelationID: correlationID})
	require.NoError(t, err)
	require.Len(t, ns, 10)
	for _, n := range ns {
		require.Equal(t, correlationID, n.CorrelationID)
	}

	capture.mu.Lock()
	query, args := capture.sql, capture.args
	capture.mu.Unlock()
	literals := make([]string, len(args))
	for i, a := range args {
		literals[i] = sqlLiteral(t, a)
	}
	// On a connection of this test's own pool, closed at its end.
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "PREPARE correlated AS "+query)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan")
	require.NoError(t, err)
	var lines []string
	rows, err := conn.Query(ctx, "EXPLAIN (COSTS OFF) EXECUTE correlated("+strings.Join(literals, ", ")+")", pgx.QueryExecModeSimpleProtocol)
	require.NoError(t, err)
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		lines = append(lines, line)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, strings.Join(lines, "\n"), "Index Scan using stored_events_correlation_idx", "the generic plan of\n%s", query)
}
