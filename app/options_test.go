package app_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// Typed options win over the environment, and select Postgres by
// themselves.
func TestTypedOptionsWinOverEnvironment(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	key, err := codec.CreateAESKey(16)
	require.NoError(t, err)
	a, err := app.New(ctx, app.Options{
		Name: "Worlds", Registry: registry(),
		DatabaseURL: pgtest.ServerURL(t), Schema: schema, CipherKey: key,
		Env:    map[string]string{"PERSISTENCE_MODULE": "memory", "POSTGRES_SCHEMA": "elsewhere", "CIPHER_KEY": "not base64!"},
		Lookup: noEnv,
	})
	require.NoError(t, err)
	defer a.Close()
	require.Equal(t, app.Postgres, a.Module(), "DatabaseURL selects Postgres over the environment's module")
	require.Equal(t, schema, a.Schema())
	w := createWorld(t, a, "dinosaurs")
	s, err := a.Log().Section(ctx, "1,10")
	require.NoError(t, err)
	require.NotContains(t, string(s.Items[1].State), "dinosaurs", "encrypted with Options.CipherKey")
	got, err := app.NewRepository[World](a).Get(ctx, w.ID())
	require.NoError(t, err)
	require.Equal(t, []string{"dinosaurs"}, got.History)

	// A bad typed value is an error naming the option, not the variable.
	_, err = app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), CipherKey: "not base64!", Lookup: noEnv})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.CipherKey", cfgErr.Var)
	_, err = app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Module: "mongodb", Lookup: noEnv})
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.Module", cfgErr.Var)
}

// An application records with the caller's own pool (and its tracer),
// migrates its schema, and leaves the pool open when closed.
func TestCallersOwnPool(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	cfg, err := pgxpool.ParseConfig(pgtest.ServerURL(t))
	require.NoError(t, err)
	tracer := &countingTracer{}
	cfg.ConnConfig.Tracer = tracer
	require.NoError(t, postgres.ConfigurePool(cfg, schema))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()

	a, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Pool: pool, Lookup: noEnv})
	require.NoError(t, err)
	require.Equal(t, app.Postgres, a.Module())
	require.Equal(t, schema, a.Schema())
	require.Same(t, pool, a.Pool())
	before := tracer.queries.Load()
	w := createWorld(t, a, "dinosaurs")
	require.Greater(t, tracer.queries.Load(), before, "the save went through the caller's pool")
	a.Close()
	require.NoError(t, pool.Ping(ctx), "Close leaves the caller's pool open")

	// Another application on the same schema, opened from a URL, reads it.
	b, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), DatabaseURL: pgtest.ServerURL(t), Schema: schema, Lookup: noEnv})
	require.NoError(t, err)
	defer b.Close()
	got, err := app.NewRepository[World](b).Get(ctx, w.ID())
	require.NoError(t, err)
	require.Equal(t, []string{"dinosaurs"}, got.History)
	require.Equal(t, a.Store(), b.Store(), "the same schema of the same database is the same store")

	// A pool without the schema as search_path, a schema that disagrees,
	// or the memory module with a pool, are refused.
	plain, err := pgxpool.New(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	defer plain.Close()
	_, err = app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Pool: plain, Lookup: noEnv})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Contains(t, err.Error(), "ConfigurePool")
	_, err = app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Pool: pool, Schema: "other", Lookup: noEnv})
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.Schema", cfgErr.Var)
	_, err = app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Pool: pool, Module: app.Memory, Lookup: noEnv})
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.Module", cfgErr.Var)
}

// countingTracer counts the queries of a pool.
type countingTracer struct{ queries atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Two in-memory applications are two stores.
func TestMemoryStoresAreDistinct(t *testing.T) {
	t.Parallel()
	a, err := app.New(t.Context(), app.Options{Name: "A", Registry: registry(), Lookup: noEnv})
	require.NoError(t, err)
	defer a.Close()
	b, err := app.New(t.Context(), app.Options{Name: "A", Registry: registry(), Lookup: noEnv})
	require.NoError(t, err)
	defer b.Close()
	require.NotEqual(t, a.Store(), b.Store())
}

// Watch in memory wakes once when it starts and after each save of its
// application, not of another's, and returns nil when its context ends.
func TestWatchInMemory(t *testing.T) {
	t.Parallel()
	a, err := app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv})
	require.NoError(t, err)
	defer a.Close()
	other, err := app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv})
	require.NoError(t, err)
	defer other.Close()

	woken := make(chan struct{}, 10)
	watchCtx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Watch(watchCtx, func() { woken <- struct{}{} }) }()
	awake := func() {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatal("not woken")
		}
	}
	awake() // once when it starts
	createWorld(t, other)
	createWorld(t, a)
	awake()
	require.Empty(t, woken, "woken once, by its own application's save")
	stop()
	require.NoError(t, <-done, "Watch returns nil when its context ends")
}

// The SQLite options are typed too; a lock timeout the variable could not
// say is refused, naming the option.
func TestSQLiteOptions(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "worlds.db")
	a, err := app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, SQLiteDBName: name, SQLiteLockTimeout: 2 * time.Second})
	require.NoError(t, err)
	require.Equal(t, app.SQLite, a.Module())
	require.Equal(t, "sqlite:"+name, a.Store())
	a.Close()
	for _, bad := range []time.Duration{1500 * time.Millisecond, -time.Second} {
		_, err := app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, SQLiteDBName: name, SQLiteLockTimeout: bad})
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr, bad)
		require.Equal(t, "app.Options.SQLiteLockTimeout", cfgErr.Var, bad)
	}
	// With a PostgreSQL URL too, the module must be said.
	_, err = app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, SQLiteDBName: name, DatabaseURL: "postgres://u@127.0.0.1:1/db"})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, app.EnvPersistenceModule, cfgErr.Var)
	require.ErrorContains(t, err, "app.Options.SQLiteDBName")
	// Nor is a store of the other module ignored when the module is said.
	_, err = app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, Module: app.Postgres, SQLiteDBName: name})
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.SQLiteDBName", cfgErr.Var)
	_, err = app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, Module: app.SQLite, SQLiteDBName: name, DatabaseURL: "postgres://u@127.0.0.1:1/db"})
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.DatabaseURL", cfgErr.Var)
}

// On SQLite, Watch sees saves made through another connection to the
// file (another process's, say), and its own.
func TestWatchSQLite(t *testing.T) {
	t.Parallel()
	opts := app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, SQLiteDBName: filepath.Join(t.TempDir(), "worlds.db")}
	a, err := app.New(t.Context(), opts)
	require.NoError(t, err)
	defer a.Close()
	require.Equal(t, app.SQLite, a.Module(), "SQLiteDBName implies the module")
	other, err := app.New(t.Context(), opts)
	require.NoError(t, err)
	defer other.Close()

	woken := make(chan struct{}, 10)
	watchCtx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Watch(watchCtx, func() { woken <- struct{}{} }) }()
	awake := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatalf("not woken %s", what)
		}
	}
	awake("when it starts")
	createWorld(t, other)
	awake("by the other connection's save")
	createWorld(t, a)
	awake("by its own save")
	stop()
	require.NoError(t, <-done, "Watch returns nil when its context ends")
}

// A projection writes its read model and the tracking record in one
// transaction of its own: both commit, or neither.
func TestSaveTrackedTxWithReadModel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := postgresApp(t, app.Options{})
	_, err := a.Pool().Exec(ctx, "CREATE TABLE world_names (id uuid PRIMARY KEY, name text NOT NULL)")
	require.NoError(t, err)

	project := func(id uuid.UUID, name string, tracking persistence.Tracking, commit bool) error {
		tx, err := a.Pool().Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		if _, err := tx.Exec(ctx, "INSERT INTO world_names VALUES ($1, $2)", id, name); err != nil {
			return err
		}
		if _, err := a.SaveTrackedTx(ctx, tx, tracking, nil); err != nil {
			return err
		}
		if commit {
			return tx.Commit(ctx)
		}
		return nil
	}
	names := func() int {
		var n int
		require.NoError(t, a.Pool().QueryRow(ctx, "SELECT count(*) FROM world_names").Scan(&n))
		return n
	}
	upstream := persistence.Tracking{ApplicationName: "Worlds", NotificationID: 1}
	require.NoError(t, project(uuid.New(), "earth", upstream, false))
	require.Zero(t, names(), "rolled back: no read model row")
	tracked, err := a.Recorder().MaxTrackingID(ctx, "Worlds")
	require.NoError(t, err)
	require.Zero(t, tracked, "rolled back: no tracking record")

	require.NoError(t, project(uuid.New(), "earth", upstream, true))
	require.Equal(t, 1, names())
	tracked, err = a.Recorder().MaxTrackingID(ctx, "Worlds")
	require.NoError(t, err)
	require.EqualValues(t, 1, tracked)

	err = project(uuid.New(), "mars", upstream, true)
	require.True(t, persistence.IsConflict(err), "the same notification again: %v", err)
	var conflict *persistence.TrackingConflictError
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, 1, names(), "nothing of the repeated projection was committed")
}

// SaveTx records the snapshots due in the caller's transaction: they roll
// back with it.
func TestSaveTxSnapshotsInTransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := postgresApp(t, app.Options{SnapshottingIntervals: map[string]int64{"test:World": 2}})
	save := func(commit bool) *World {
		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "earth"})
		require.NoError(t, err)
		require.NoError(t, domain.Trigger(w, SomethingHappened{What: "dinosaurs"}))
		tx, err := a.Pool().Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		_, err = a.SaveTx(ctx, tx, w)
		require.NoError(t, err)
		if commit {
			require.NoError(t, tx.Commit(ctx))
		}
		return w
	}
	rolledBack := save(false)
	require.Empty(t, snapshotVersions(t, a, rolledBack.ID()), "the snapshot rolled back with the events")
	committed := save(true)
	require.Equal(t, []int64{2}, snapshotVersions(t, a, committed.ID()))
}

// Watch wakes a follower in another process when events are recorded.
func TestWatchWakesOnEventsOfAnotherApplication(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	writer := postgresApp(t, app.Options{})
	watcher, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), DatabaseURL: pgtest.ServerURL(t), Schema: writer.Schema(), Lookup: noEnv})
	require.NoError(t, err)
	defer watcher.Close()

	woken := make(chan struct{}, 10)
	watchCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- watcher.Watch(watchCtx, func() { woken <- struct{}{} }) }()
	<-woken // once when it starts listening
	createWorld(t, writer)
	<-woken
	stop()
	require.NoError(t, <-done, "Watch returns nil when its context ends")
}

// postgresApp returns an application on a schema of its own.
func postgresApp(t *testing.T, opts app.Options) *app.Application {
	t.Helper()
	opts.Name, opts.Registry, opts.Lookup = "Worlds", registry(), noEnv
	opts.DatabaseURL, opts.Schema = pgtest.ServerURL(t), pgtest.NewSchemaName(t)
	a, err := app.New(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// The local log is a NotificationReader: reads from a position, with a
// bounded limit and a topic filter, and its head.
func TestNotificationLogAsReader(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		var reader app.NotificationReader = a.Log()
		head, err := reader.MaxNotificationID(ctx)
		require.NoError(t, err)
		require.Zero(t, head, "an empty log")
		createWorld(t, a, "dinosaurs", "trucks")
		createWorld(t, a, "internet")

		all, err := reader.ReadNotifications(ctx, 1, app.MaxReadLimit)
		require.NoError(t, err)
		require.Len(t, all, 5, "more than a section at once")
		from3, err := reader.ReadNotifications(ctx, 3, 2)
		require.NoError(t, err)
		require.Equal(t, []int64{3, 4}, []int64{from3[0].ID, from3[1].ID})
		happened, err := reader.ReadNotifications(ctx, 1, 10, "test:World.SomethingHappened")
		require.NoError(t, err)
		require.Len(t, happened, 3)
		for _, n := range happened {
			require.Equal(t, "test:World.SomethingHappened", n.Topic)
		}
		head, err = reader.MaxNotificationID(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 5, head)
		for _, bad := range []int{0, -1, app.MaxReadLimit + 1} {
			_, err := reader.ReadNotifications(ctx, 1, bad)
			require.Error(t, err, "limit %d", bad)
		}
	})
}
