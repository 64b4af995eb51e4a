package postgres_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testConfig returns a Config for a fresh schema of the test server.
func testConfig(t testing.TB) postgres.Config {
	t.Helper()
	return postgres.Config{
		ConnString:               pgtest.ServerURL(t),
		Schema:                   pgtest.NewSchemaName(t),
		PoolSize:                 20,
		CreateTable:              true,
		IdleInTransactionTimeout: 0,
	}
}

// openPool opens a pool on a freshly migrated schema, closed at cleanup.
func openPool(t testing.TB, cfg postgres.Config) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}
