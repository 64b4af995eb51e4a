package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// A pool of the caller's, configured by ConfigurePool, keeps the caller's
// own AfterConnect hook and records in the schema that Prepare migrates.
func TestConfigurePoolAndPrepare(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	cfg, err := pgxpool.ParseConfig(pgtest.ServerURL(t))
	require.NoError(t, err)
	var connected atomic.Int32
	cfg.AfterConnect = func(context.Context, *pgx.Conn) error { connected.Add(1); return nil }
	require.NoError(t, postgres.ConfigurePool(cfg, schema))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()

	_, err = postgres.Prepare(ctx, pool, false)
	require.ErrorIs(t, err, persistence.ErrProgramming, "not migrated, and not asked to")
	got, err := postgres.Prepare(ctx, pool, true)
	require.NoError(t, err)
	require.Equal(t, schema, got)
	require.Positive(t, connected.Load(), "the caller's AfterConnect still runs")

	ids, err := postgres.NewRecorder(pool).InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t", State: []byte("{}")}})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, ids)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "stored_events"}.Sanitize()).Scan(&n))
	require.Equal(t, 1, n, "recorded in the schema")

	var cfgErr *config.Error
	require.ErrorAs(t, postgres.ConfigurePool(cfg, "pg_catalog"), &cfgErr, "a reserved schema is refused")
	plain, err := pgxpool.New(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	defer plain.Close()
	_, err = postgres.Prepare(ctx, plain, true)
	require.ErrorAs(t, err, &cfgErr, "a pool whose search_path is not one schema")
	require.Contains(t, err.Error(), "ConfigurePool")
}
