package factory_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/factory"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// env returns an Environment with only values, ignoring the process env.
func env(name string, values map[string]string) config.Environment {
	return config.Environment{Name: name, Values: values, Lookup: func(string) (string, bool) { return "", false }}
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
	var cfgErr *config.Error
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
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "POSTGRES_DBNAME", cfgErr.Var)
}

func TestConnectionVariableSelectsPostgres(t *testing.T) {
	t.Parallel()
	for _, values := range []map[string]string{
		{"DATABASE_URL": "postgres://h/db"},
		{"POSTGRES_HOST": "h"},
		{"POSTGRES_DBNAME": "db"},
		{"POSTGRES_USER": "u"},
		{"POSTGRES_PORT": "5433"},
		{"POSTGRES_PASSWORD": "secret"},
		{"DOGS_DATABASE_URL": "postgres://h/db"},
		{"DATABASE_URL": "postgres://h/db", factory.EnvPersistenceModule: ""},
	} {
		module, err := factory.ModuleFromEnv(env("Dogs", values))
		require.NoError(t, err, values)
		require.Equal(t, factory.Postgres, module, values)
	}
	for _, values := range []map[string]string{
		nil,
		{"DATABASE_URL": ""},
		{"POSTGRES_SCHEMA": "dogs", "POSTGRES_POOL_SIZE": "3"}, // not connection variables
		{"DATABASE_URL": "postgres://h/db", factory.EnvPersistenceModule: "memory"},
	} {
		module, err := factory.ModuleFromEnv(env("Dogs", values))
		require.NoError(t, err, values)
		require.Equal(t, factory.Memory, module, values)
	}
}

func TestInfrastructureFactory(t *testing.T) {
	t.Parallel()
	for values, want := range map[[2]string]factory.Module{
		{"eventsourcing.popo:Factory", ""}:             factory.Memory,
		{"eventsourcing.postgres:Factory", ""}:         factory.Postgres,
		{"eventsourcing.postgres:Factory", "postgres"}: factory.Postgres,
		{"eventsourcing.popo:Factory", "popo"}:         factory.Memory,
	} {
		module, err := factory.ModuleFromEnv(env("", map[string]string{
			factory.EnvInfrastructureFactory: values[0], factory.EnvPersistenceModule: values[1]}))
		require.NoError(t, err, values)
		require.Equal(t, want, module, values)
	}
	for _, values := range [][2]string{
		{"eventsourcing.sqlite:Factory", ""},
		{"eventsourcing.postgres", ""},
		{"eventsourcing.popo:Factory", "postgres"},
	} {
		_, err := factory.ModuleFromEnv(env("", map[string]string{
			factory.EnvInfrastructureFactory: values[0], factory.EnvPersistenceModule: values[1]}))
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr, values)
		require.Equal(t, factory.EnvInfrastructureFactory, cfgErr.Var)
		require.ErrorIs(t, err, config.ErrInvalid)
	}
}

// An application given only DATABASE_URL records its events in
// PostgreSQL: another application on the same schema reads them.
func TestDatabaseURLAlonePersists(t *testing.T) {
	url, schema := pgtest.ServerURL(t), pgtest.NewSchemaName(t)
	values := map[string]string{"DATABASE_URL": url, "POSTGRES_SCHEMA": schema}
	infra, err := factory.Open(context.Background(), env("", values))
	require.NoError(t, err)
	defer infra.Close()
	require.Equal(t, factory.Postgres, infra.Module)
	_, err = infra.Recorder.InsertNotifications(context.Background(), []persistence.StoredEvent{
		{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t", State: []byte("{}")}})
	require.NoError(t, err)

	again, err := factory.Open(context.Background(), env("", values))
	require.NoError(t, err)
	defer again.Close()
	max, err := again.Recorder.MaxNotificationID(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, max)
}
