package app_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// env returns an Environment with only values, ignoring the process env.
func env(name string, values map[string]string) config.Environment {
	return config.Environment{Name: name, Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

func TestModuleFromEnv(t *testing.T) {
	t.Parallel()
	cases := map[string]app.Module{
		"":                       app.Memory,
		"memory":                 app.Memory,
		"eventsourcing.popo":     app.Memory,
		"POSTGRES":               app.Postgres,
		"eventsourcing.postgres": app.Postgres,
		"sqlite":                 app.SQLite,
		"SQLite3":                app.SQLite,
		"eventsourcing.sqlite":   app.SQLite,
	}
	for value, want := range cases {
		got, err := app.ModuleFromEnv(env("", map[string]string{app.EnvPersistenceModule: value}))
		require.NoError(t, err, value)
		require.Equal(t, want, got, value)
	}
	got, err := app.ModuleFromEnv(env("", nil))
	require.NoError(t, err)
	require.Equal(t, app.Memory, got, "memory is the default")
}

func TestPersistenceModuleUnknownIsError(t *testing.T) {
	t.Parallel()
	_, err := openEnv(t, t.Context(), env("", map[string]string{app.EnvPersistenceModule: "eventsourcing.mongodb"}))
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, app.EnvPersistenceModule, cfgErr.Var)
	require.Contains(t, err.Error(), "PERSISTENCE_MODULE")
	require.Contains(t, err.Error(), "eventsourcing.mongodb")
}

func TestPersistenceModuleDefaultIsMemory(t *testing.T) {
	t.Parallel()
	infra, err := openEnv(t, t.Context(), env("App", nil))
	require.NoError(t, err)
	defer infra.Close()
	require.Equal(t, app.Memory, infra.Module())
	require.IsType(t, &memory.Recorder{}, infra.Recorder())
	require.IsType(t, &memory.AggregateRecorder{}, infra.Snapshots())
	require.Nil(t, infra.Pool())
}

func TestPersistenceModulePostgres(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	infra, err := openEnv(t, ctx, env("Worlds", map[string]string{
		app.EnvPersistenceModule: "postgres",
		"DATABASE_URL":           pgtest.ServerURL(t),
		"WORLDS_POSTGRES_SCHEMA": schema,
	}))
	require.NoError(t, err)
	defer infra.Close()
	require.Equal(t, app.Postgres, infra.Module())
	require.IsType(t, &postgres.Recorder{}, infra.Recorder())
	require.IsType(t, &postgres.SnapshotRecorder{}, infra.Snapshots())

	// The tables were created in the application's schema.
	var n int
	require.NoError(t, infra.Pool().QueryRow(ctx,
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&n))
	require.GreaterOrEqual(t, n, 3)
	ids, err := infra.Recorder().InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t", State: []byte("{}")}})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, ids)
}

func TestPostgresConfigErrorNamesVariable(t *testing.T) {
	t.Parallel()
	_, err := openEnv(t, t.Context(), env("", map[string]string{
		app.EnvPersistenceModule: "postgres",
		"POSTGRES_HOST":          "127.0.0.1",
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
		{"DATABASE_URL": "postgres://h/db", app.EnvPersistenceModule: ""},
	} {
		module, err := app.ModuleFromEnv(env("Dogs", values))
		require.NoError(t, err, values)
		require.Equal(t, app.Postgres, module, values)
	}
	for _, values := range []map[string]string{
		nil,
		{"DATABASE_URL": ""},
		{"POSTGRES_SCHEMA": "dogs", "POSTGRES_POOL_SIZE": "3"}, // not connection variables
		{"DATABASE_URL": "postgres://h/db", app.EnvPersistenceModule: "memory"},
	} {
		module, err := app.ModuleFromEnv(env("Dogs", values))
		require.NoError(t, err, values)
		require.Equal(t, app.Memory, module, values)
	}
}

func TestInfrastructureFactory(t *testing.T) {
	t.Parallel()
	for values, want := range map[[2]string]app.Module{
		{"eventsourcing.popo:Factory", ""}:             app.Memory,
		{"eventsourcing.postgres:Factory", ""}:         app.Postgres,
		{"eventsourcing.postgres:Factory", "postgres"}: app.Postgres,
		{"eventsourcing.popo:Factory", "popo"}:         app.Memory,
		{"eventsourcing.sqlite:Factory", ""}:           app.SQLite,
		{"eventsourcing.sqlite:Factory", "sqlite"}:     app.SQLite,
	} {
		module, err := app.ModuleFromEnv(env("", map[string]string{
			app.EnvInfrastructureFactory: values[0], app.EnvPersistenceModule: values[1]}))
		require.NoError(t, err, values)
		require.Equal(t, want, module, values)
	}
	for _, values := range [][2]string{
		{"eventsourcing.axonserver:Factory", ""},
		{"eventsourcing.postgres", ""},
		{"eventsourcing.sqlite:Factory", "postgres"},
		{"eventsourcing.popo:Factory", "postgres"},
	} {
		_, err := app.ModuleFromEnv(env("", map[string]string{
			app.EnvInfrastructureFactory: values[0], app.EnvPersistenceModule: values[1]}))
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr, values)
		require.Equal(t, app.EnvInfrastructureFactory, cfgErr.Var)
		require.ErrorIs(t, err, config.ErrInvalid)
	}
}

// An application given only DATABASE_URL records its events in
// PostgreSQL: another application on the same schema reads them.
func TestDatabaseURLAlonePersists(t *testing.T) {
	url, schema := pgtest.ServerURL(t), pgtest.NewSchemaName(t)
	values := map[string]string{"DATABASE_URL": url, "POSTGRES_SCHEMA": schema}
	infra, err := openEnv(t, t.Context(), env("", values))
	require.NoError(t, err)
	defer infra.Close()
	require.Equal(t, app.Postgres, infra.Module())
	_, err = infra.Recorder().InsertNotifications(t.Context(), []persistence.StoredEvent{
		{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t", State: []byte("{}")}})
	require.NoError(t, err)

	again, err := openEnv(t, t.Context(), env("", values))
	require.NoError(t, err)
	defer again.Close()
	max, err := again.Recorder().MaxNotificationID(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 1, max)
}

// openEnv builds an application of env, as app.New does for Options.Env.
func openEnv(t *testing.T, ctx context.Context, env config.Environment) (*app.Application, error) {
	t.Helper()
	return app.New(ctx, app.Options{Name: env.Name, Registry: registry(), Env: env.Values, Lookup: env.Lookup,
		SnapshottingEnabled: true})
}
