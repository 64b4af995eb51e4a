package postgres_test

import (
	"context"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// reservedWordSchemas are schema names that are SQL reserved words: the
// default schemas of applications named Order, User and Select.
var reservedWordSchemas = []string{"order", "user", "select"}

// Schemas whose names are reserved words work end to end: migrations (run
// twice, so the version table is found again), save, read, the notification
// log, and LISTEN on the channel the insert procedure notifies. Each runs in
// a fresh database, so the fixed names cannot collide with other runs.
func TestOpenReservedWordSchemas(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabaseURL(t)
	for _, schema := range reservedWordSchemas {
		t.Run(schema, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cfg := postgres.Config{ConnString: dbURL, Schema: schema, PoolSize: 3, CreateTable: true}
			pool := openPool(t, cfg)
			openPool(t, cfg) // migrations found applied

			listener, err := postgres.Listen(ctx, pool, schema)
			require.NoError(t, err)
			t.Cleanup(func() { listener.Close(context.Background()) })

			rec := postgres.NewRecorder(pool)
			id := uuid.New()
			ids, err := rec.InsertNotifications(ctx, []persistence.StoredEvent{ev(id, 1), ev(id, 2)})
			require.NoError(t, err)
			require.Equal(t, []int64{1, 2}, ids)

			events, err := rec.SelectEvents(ctx, id, persistence.EventQuery{})
			require.NoError(t, err)
			require.Len(t, events, 2)
			notes, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
			require.NoError(t, err)
			require.Len(t, notes, 2)
			maxID, err := rec.MaxNotificationID(ctx)
			require.NoError(t, err)
			require.Equal(t, int64(2), maxID)

			waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			channel, lastID, err := listener.Wait(waitCtx)
			require.NoError(t, err)
			require.Equal(t, schema, channel)
			require.Equal(t, "2", lastID)

			var table string
			require.NoError(t, pool.QueryRow(ctx,
				"SELECT to_regclass($1)::text", `"`+schema+`".`+postgres.VersionTable).Scan(&table))
			require.NotEmpty(t, table, "the version table lives in the schema")
		})
	}
}

// The migrator round-trips on a schema named by a reserved word, and a
// second migrator finds its version table.
func TestMigratorReservedWordSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := postgres.Config{ConnString: pgtest.NewDatabaseURL(t), Schema: "order"}
	m, err := postgres.NewMigrator(cfg)
	require.NoError(t, err)
	defer m.Close()
	versions := migrateTestVersions(t)
	latest := versions[len(versions)-1]

	res, err := m.Up(ctx)
	require.NoError(t, err)
	require.Len(t, res, len(versions))
	_, err = m.DownTo(ctx, 0)
	require.NoError(t, err)
	_, err = m.Up(ctx)
	require.NoError(t, err)

	again, err := postgres.NewMigrator(cfg)
	require.NoError(t, err)
	defer again.Close()
	v, err := again.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, latest, v)
	st, err := again.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st, len(versions))
	res, err = again.Up(ctx)
	require.NoError(t, err)
	require.Empty(t, res)
}

// Schema names beginning with pg_ are refused before anything connects.
func TestOpenRefusesPgSchemas(t *testing.T) {
	t.Parallel()
	for _, schema := range []string{"pg_x", "pg_catalog"} {
		cfg := postgres.Config{ConnString: "postgres://u@127.0.0.1:1/db", Schema: schema, CreateTable: true}
		_, err := postgres.Open(t.Context(), cfg)
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr, schema)
		require.Equal(t, postgres.EnvSchema, cfgErr.Var)
		_, err = postgres.NewMigrator(cfg)
		require.ErrorAs(t, err, &cfgErr, schema)
		require.Equal(t, postgres.EnvSchema, cfgErr.Var)
	}
}

// Out-of-range numbers in a Config built in code are refused by Open, as
// ConfigFromEnv refuses them, instead of being truncated or failing at
// connect.
func TestOpenRefusesOutOfRangeConfig(t *testing.T) {
	t.Parallel()
	base := postgres.Config{ConnString: pgtest.ServerURL(t), Schema: pgtest.NewSchemaName(t), CreateTable: true}
	requireOpenRefuses(t, base, []configChange{
		{"pool size 2^32+1", func(c *postgres.Config) { c.PoolSize = 1<<32 + 1 }, postgres.EnvPoolSize},
		{"pool size -1", func(c *postgres.Config) { c.PoolSize = -1 }, postgres.EnvPoolSize},
		{"connect timeout 2h", func(c *postgres.Config) { c.ConnectTimeout = 2 * time.Hour }, postgres.EnvConnectTimeout},
		{"connect timeout -1s", func(c *postgres.Config) { c.ConnectTimeout = -time.Second }, postgres.EnvConnectTimeout},
		{"lock timeout 2^31 ms", func(c *postgres.Config) { c.LockTimeout = (math.MaxInt32 + 1) * time.Millisecond }, postgres.EnvLockTimeout},
		{"lock timeout -1s", func(c *postgres.Config) { c.LockTimeout = -time.Second }, postgres.EnvLockTimeout},
		{"idle in tx timeout 2^31 ms", func(c *postgres.Config) { c.IdleInTransactionTimeout = (math.MaxInt32 + 1) * time.Millisecond }, postgres.EnvIdleInTxTimeout},
	})
}

// The largest values in range are accepted by the server.
func TestOpenLargestTimeouts(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.LockTimeout = math.MaxInt32 * time.Millisecond
	cfg.IdleInTransactionTimeout = math.MaxInt32 * time.Millisecond
	pool := openPool(t, cfg)
	var lock string
	require.NoError(t, pool.QueryRow(t.Context(), "SHOW lock_timeout").Scan(&lock))
	require.NotEqual(t, "0", lock)
}

// A connect_timeout in DATABASE_URL reaches the pool; the
// POSTGRES_CONNECT_TIMEOUT default does not replace it.
func TestOpenKeepsURLConnectTimeout(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.ServerURL(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	for _, variable := range []string{"", "7"} {
		values := map[string]string{
			postgres.EnvDatabaseURL: u.String(),
			postgres.EnvSchema:      pgtest.NewSchemaName(t),
		}
		if variable != "" {
			values[postgres.EnvConnectTimeout] = variable
		}
		cfg, err := postgres.ConfigFromEnv(configTestEnv("", values))
		require.NoError(t, err)
		pool := openPool(t, cfg)
		require.Equal(t, 2*time.Second, pool.Config().ConnConfig.ConnectTimeout, "POSTGRES_CONNECT_TIMEOUT=%q", variable)
	}
}

// configChange changes a valid Config into one that names wantVar in its
// ConfigError.
type configChange struct {
	name    string
	change  func(*postgres.Config)
	wantVar string
}

// requireOpenRefuses checks that Open refuses base with each change with a
// *config.Error naming the change's variable.
func requireOpenRefuses(t *testing.T, base postgres.Config, changes []configChange) {
	t.Helper()
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			tt.change(&cfg)
			pool, err := postgres.Open(t.Context(), cfg)
			if err == nil {
				pool.Close()
			}
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr)
			require.Equal(t, tt.wantVar, cfgErr.Var)
		})
	}
}
