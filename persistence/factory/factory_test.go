package factory_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/factory"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// env returns an Environment with only values, ignoring the process env.
func env(name string, values map[string]string) persistence.Environment {
	return persistence.Environment{Name: name, Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

func TestModuleFromEnv(t *testing.T) {
	t.Parallel()
	cases := map[string]factory.Module{
		"":                       factory.Memory,
		"memory":                 factory.Memory,
		"eventsourcing.popo":     factory.Memory,
		"POSTGRES":               factory.Postgres,
		"eventsourcing.postgres": factory.Postgres,
	}
	for value, want := range cases {
		got, err := factory.ModuleFromEnv(env("", map[string]string{factory.EnvPersistenceModule: value}))
		require.NoError(t, err, value)
		require.Equal(t, want, got, value)
	}
	got, err := factory.ModuleFromEnv(env("", nil))
	require.NoError(t, err)
	require.Equal(t, factory.Memory, got, "memory is the default")
}

func TestPersistenceModuleUnknownIsError(t *testing.T) {
	t.Parallel()
	_, err := factory.Open(context.Background(), env("", map[string]string{factory.EnvPersistenceModule: "eventsourcing.sqlite"}))
	var cfgErr *persistence.ConfigError
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, factory.EnvPersistenceModule, cfgErr.Var)
	require.Contains(t, err.Error(), "PERSISTENCE_MODULE")
	require.Contains(t, err.Error(), "eventsourcing.sqlite")
}

func TestPersistenceModuleDefaultIsMemory(t *testing.T) {
	t.Parallel()
	infra, err := factory.Open(context.Background(), env("App", nil))
	require.NoError(t, err)
	defer infra.Close()
	require.Equal(t, factory.Memory, infra.Module)
	require.IsType(t, &memory.Recorder{}, infra.Recorder)
	require.IsType(t, &memory.AggregateRecorder{}, infra.Snapshots)
	require.Nil(t, infra.Pool)
}

func TestPersistenceModulePostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := pgtest.NewSchemaName(t)
	infra, err := factory.Open(ctx, env("Worlds", map[string]string{
		factory.EnvPersistenceModule: "postgres",
		"DATABASE_URL":               pgtest.ServerURL(t),
		"WORLDS_POSTGRES_SCHEMA":     schema,
	}))
	require.NoError(t, err)
	defer infra.Close()
	require.Equal(t, factory.Postgres, infra.Module)
	require.IsType(t, &postgres.Recorder{}, infra.Recorder)
	require.IsType(t, &postgres.SnapshotRecorder{}, infra.Snapshots)

	// The tables were created in the application's schema.
	var n int
	require.NoError(t, infra.Pool.QueryRow(ctx,
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&n))
	require.GreaterOrEqual(t, n, 3)
	ids, err := infra.Recorder.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t", State: []byte("{}")}})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, ids)
}

func TestPostgresConfigErrorNamesVariable(t *testing.T) {
	t.Parallel()
	_, err := factory.Open(context.Background(), env("", map[string]string{
		factory.EnvPersistenceModule: "postgres",
		"POSTGRES_HOST":              "127.0.0.1",
	}))
	var cfgErr *persistence.ConfigError
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "POSTGRES_DBNAME", cfgErr.Var)
}

func TestImplyPostgres(t *testing.T) {
	t.Parallel()
	implied := factory.ImplyPostgres(env("", map[string]string{"DATABASE_URL": "postgres://h/db"}))
	module, err := factory.ModuleFromEnv(implied)
	require.NoError(t, err)
	require.Equal(t, factory.Postgres, module)

	explicit := factory.ImplyPostgres(env("", map[string]string{"DATABASE_URL": "postgres://h/db", factory.EnvPersistenceModule: "memory"}))
	module, err = factory.ModuleFromEnv(explicit)
	require.NoError(t, err)
	require.Equal(t, factory.Memory, module, "an explicit module wins")

	values := map[string]string{}
	unchanged := factory.ImplyPostgres(env("", values))
	module, err = factory.ModuleFromEnv(unchanged)
	require.NoError(t, err)
	require.Equal(t, factory.Memory, module)
	require.Empty(t, values, "the caller's values are not modified")
}
