package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

// The variables that select the persistence module.
const (
	// EnvPersistenceModule names the persistence module.
	EnvPersistenceModule = "PERSISTENCE_MODULE"
	// EnvInfrastructureFactory is the Python library's older spelling: the
	// topic of an infrastructure factory.
	EnvInfrastructureFactory = "INFRASTRUCTURE_FACTORY"
)

// Module is a persistence module.
type Module string

// The persistence modules.
const (
	// Memory keeps everything in memory: fast, not durable. The default.
	Memory Module = "memory"
	// Postgres records in PostgreSQL.
	Postgres Module = "postgres"
	// SQLite records in an SQLite database (SQLITE_DBNAME): a file, or in
	// memory, embedded in the process.
	SQLite Module = "sqlite"
)

// ModuleFromEnv returns the module named by PERSISTENCE_MODULE: "memory"
// (also the Python library's "popo" and "eventsourcing.popo"), "postgres"
// (also "eventsourcing.postgres") or "sqlite" (also
// "eventsourcing.sqlite"). INFRASTRUCTURE_FACTORY is accepted too, with
// the topics of these factories ("eventsourcing.popo:Factory",
// "eventsourcing.postgres:Factory", "eventsourcing.sqlite:Factory"); set
// together, the two variables must agree. Any other value gives a
// *config.Error naming the variable.
//
// When neither is set (or both are empty), a PostgreSQL connection
// variable that is set and not empty (DATABASE_URL, POSTGRES_HOST,
// POSTGRES_PORT, POSTGRES_DBNAME, POSTGRES_USER or POSTGRES_PASSWORD, with
// or without the application's prefix) selects "postgres", and
// SQLITE_DBNAME selects "sqlite" (both is a *config.Error: say which), so
// that pointing an application at a database is enough to persist its
// events; otherwise the module is "memory". An explicit memory module with a connection
// variable set is allowed, and logged once per process as a warning
// (slog.Default), since events kept in memory are lost.
func ModuleFromEnv(env config.Environment) (Module, error) {
	return moduleFromEnv(env, slog.Default())
}

func moduleFromEnv(env config.Environment, logger *slog.Logger) (Module, error) {
	name, v, _ := env.Find(EnvPersistenceModule)
	module, ok := moduleNames[strings.ToLower(strings.TrimSpace(v))]
	if !ok {
		return "", &config.Error{Var: name, Value: v, Reason: `"memory", "postgres" or "sqlite" is expected`}
	}
	if fName, f, _ := env.Find(EnvInfrastructureFactory); f != "" {
		byFactory, ok := factoryTopics[strings.TrimSpace(f)]
		if !ok {
			return "", &config.Error{Var: fName, Value: f,
				Reason: `"eventsourcing.popo:Factory", "eventsourcing.postgres:Factory" or "eventsourcing.sqlite:Factory" is expected (or set PERSISTENCE_MODULE to "memory", "postgres" or "sqlite"); no other infrastructure is available`}
		}
		if module != "" && module != byFactory {
			return "", &config.Error{Var: fName, Value: f,
				Reason: "disagrees with " + name + "=" + v + "; set one of them"}
		}
		module = byFactory
	}
	connection := connectionVariable(env)
	sqliteName, sqliteDB, _ := env.Find(sqlite.EnvDBName)
	switch {
	case module == "" && connection != "" && sqliteDB != "":
		return "", &config.Error{Var: EnvPersistenceModule,
			Reason: fmt.Sprintf("both %s (PostgreSQL) and %s (SQLite) are set: set %s to say which", connection, sqliteName, EnvPersistenceModule)}
	case module == "" && connection != "":
		return Postgres, nil
	case module == "" && sqliteDB != "":
		return SQLite, nil
	case module == "":
		return Memory, nil
	case module == Memory && connection != "":
		memoryWithConnection.Do(func() {
			logger.Warn("events are kept in memory and lost when the process ends, although a PostgreSQL connection variable is set",
				"module", string(module), "variable", connection)
		})
	}
	return module, nil
}

// moduleNames are the values of PERSISTENCE_MODULE, lower-cased; "" is
// unset.
var moduleNames = map[string]Module{
	"": "", "memory": Memory, "popo": Memory, "eventsourcing.popo": Memory,
	"postgres": Postgres, "postgresql": Postgres, "eventsourcing.postgres": Postgres,
	"sqlite": SQLite, "sqlite3": SQLite, "eventsourcing.sqlite": SQLite,
}

// factoryTopics are the values of INFRASTRUCTURE_FACTORY.
var factoryTopics = map[string]Module{
	"eventsourcing.popo:Factory":     Memory,
	"eventsourcing.postgres:Factory": Postgres,
	"eventsourcing.sqlite:Factory":   SQLite,
}

// memoryWithConnection logs the explicit memory module with a connection
// variable set once per process.
var memoryWithConnection sync.Once

// connectionVariable returns the name, as set (prefixed or not), of the
// first PostgreSQL connection variable set to a non-empty value in env, or
// "".
func connectionVariable(env config.Environment) string {
	for _, name := range []string{postgres.EnvDatabaseURL, postgres.EnvHost, postgres.EnvPort,
		postgres.EnvDBName, postgres.EnvUser, postgres.EnvPassword} {
		if found, value, _ := env.Find(name); value != "" {
			return found
		}
	}
	return ""
}

// infrastructure is what an application records with: the recorders of
// its persistence module, and what only that module can do (transactions,
// watching the store for other processes' events).
type infrastructure struct {
	module    Module
	recorder  persistence.ProcessRecorder
	snapshots persistence.AggregateRecorder
	// store names where the application records; see Application.Store.
	store string

	// With the Postgres module:
	pool        *pgxpool.Pool
	ownPool     bool // opened here, so closed here
	schema      string
	pgRecorder  *postgres.Recorder
	pgSnapshots *postgres.SnapshotRecorder

	// With the SQLite module:
	sqliteDB *sqlite.Database
}

// openInfrastructure builds the infrastructure of an application from
// opts.Pool or env. For the Postgres module it connects (unless given a
// pool), and applies the migrations to the application's schema unless
// CREATE_TABLE is false. observe is told of each group commit of the
// PostgreSQL and SQLite recorders.
func openInfrastructure(ctx context.Context, opts Options, env config.Environment, logger *slog.Logger, observe func(ctx context.Context, saves, events int)) (*infrastructure, error) {
	recorderOpts := []postgres.RecorderOption{postgres.ObserveBatches(observe)}
	module, err := moduleFromEnv(env, logger)
	if err != nil {
		return nil, err
	}
	if opts.SQLiteDBName != "" && (opts.Pool != nil || module == Postgres) {
		return nil, &config.Error{Var: "app.Options.SQLiteDBName", Value: opts.SQLiteDBName, Reason: "the application records in PostgreSQL"}
	}
	if module == SQLite && opts.DatabaseURL != "" {
		return nil, &config.Error{Var: "app.Options.DatabaseURL", Reason: "the application records in SQLite"}
	}
	if opts.Pool != nil {
		if opts.QueryTracer != nil {
			return nil, &config.Error{Var: "app.Options.QueryTracer", Reason: "Options.Pool keeps its own tracer: set it in the pool's configuration (ConnConfig.Tracer)"}
		}
		if module == Memory && opts.Module == Memory {
			return nil, &config.Error{Var: "app.Options.Module", Value: string(opts.Module), Reason: "Options.Pool is set: the postgres module is implied"}
		}
		createTable, err := env.Bool(postgres.EnvCreateTable, true)
		if err != nil {
			return nil, err
		}
		schema, err := postgres.Prepare(ctx, opts.Pool, createTable)
		if err != nil {
			return nil, err
		}
		if opts.Schema != "" && opts.Schema != schema {
			return nil, &config.Error{Var: "app.Options.Schema", Value: opts.Schema, Reason: fmt.Sprintf("Options.Pool records in schema %q", schema)}
		}
		return newPostgresInfrastructure(opts.Pool, schema, false, recorderOpts...), nil
	}
	if module == Memory {
		return &infrastructure{module: Memory, recorder: memory.NewRecorder(), snapshots: memory.NewAggregateRecorder(),
			store: fmt.Sprintf("memory:%p", &module)}, nil
	}
	if module == SQLite {
		return openSQLite(ctx, env, observe)
	}
	cfg, err := postgres.ConfigFromEnv(env)
	if err != nil {
		return nil, err
	}
	cfg.QueryTracer = opts.QueryTracer
	pool, err := postgres.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return newPostgresInfrastructure(pool, cfg.Schema, true, recorderOpts...), nil
}

// openSQLite opens the SQLite database that env names, and migrates it
// unless CREATE_TABLE is false.
func openSQLite(ctx context.Context, env config.Environment, observe sqlite.BatchObserver) (*infrastructure, error) {
	cfg, err := sqlite.ConfigFromEnv(env)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db.ObserveBatches(observe)
	return &infrastructure{module: SQLite, recorder: sqlite.NewRecorder(db), snapshots: sqlite.NewSnapshotRecorder(db),
		sqliteDB: db, store: sqliteStore(cfg.DBName, db)}, nil
}

// sqliteStore names the store of the SQLite database name opened as db:
// a file by its absolute path, a private in-memory database (":memory:")
// by db, whatever else (shared in-memory databases, URIs) by its name.
func sqliteStore(name string, db *sqlite.Database) string {
	switch {
	case name == ":memory:":
		return fmt.Sprintf("sqlite::memory:%p", db)
	case strings.HasPrefix(name, "file:"):
		return "sqlite:" + name
	}
	if abs, err := filepath.Abs(name); err == nil {
		name = abs
	}
	return "sqlite:" + name
}

func newPostgresInfrastructure(pool *pgxpool.Pool, schema string, own bool, recorderOpts ...postgres.RecorderOption) *infrastructure {
	c := pool.Config().ConnConfig
	rec, snaps := postgres.NewRecorder(pool, recorderOpts...), postgres.NewSnapshotRecorder(pool)
	return &infrastructure{
		module: Postgres, recorder: rec, snapshots: snaps, pool: pool, ownPool: own, schema: schema,
		pgRecorder: rec, pgSnapshots: snaps,
		store: fmt.Sprintf("postgres://%s:%d/%s?schema=%s", c.Host, c.Port, c.Database, schema),
	}
}

// insert records events, with the tracking records, if any, atomically:
// in tx when not nil (the Postgres module only: see Application.checkTx),
// else in a transaction of its own.
func (i *infrastructure) insert(ctx context.Context, tx pgx.Tx, events []persistence.StoredEvent, trackings []persistence.Tracking) ([]int64, error) {
	switch {
	case tx != nil:
		return i.pgRecorder.InsertTx(ctx, tx, events, trackings...)
	case len(trackings) == 1:
		return i.recorder.InsertTracked(ctx, events, trackings[0])
	case len(trackings) > 1:
		return i.recorder.InsertTrackedPage(ctx, events, trackings)
	default:
		return i.recorder.InsertNotifications(ctx, events)
	}
}

// insertSnapshots records snapshots, in tx when not nil; one recorded
// already is not an error.
func (i *infrastructure) insertSnapshots(ctx context.Context, tx pgx.Tx, snapshots []persistence.StoredEvent) error {
	if tx != nil {
		return i.pgSnapshots.InsertTx(ctx, tx, snapshots)
	}
	for _, s := range snapshots {
		if err := i.snapshots.InsertEvents(ctx, []persistence.StoredEvent{s}); err != nil && !persistence.IsConflict(err) {
			return err // a conflict is a snapshot recorded already
		}
	}
	return nil
}

// watch calls wake whenever events may have been recorded in the
// PostgreSQL store, by any process, until ctx ends or the connection it
// listens on is lost; see Application.Watch.
func (i *infrastructure) watch(ctx context.Context, wake func()) error {
	l, err := postgres.Listen(ctx, i.pool, i.schema)
	if err != nil {
		return err
	}
	defer l.Close(context.WithoutCancel(ctx))
	wake() // events recorded before LISTEN took effect
	for {
		if _, _, err := l.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wake()
	}
}

// close releases the connections the infrastructure opened.
func (i *infrastructure) close() {
	if i.ownPool {
		i.pool.Close()
	}
	if i.sqliteDB != nil {
		_ = i.sqliteDB.Close() // nothing is pending: every write commits before it returns
	}
}
