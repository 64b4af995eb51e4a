package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Open connects to the database of cfg and returns a pool whose
// connections use cfg.Schema as search_path and the lock and
// idle-in-transaction timeouts of cfg. When cfg.CreateTable is set it
// first applies the migrations to cfg.Schema (creating the schema if
// needed). The pool holds at most cfg.PoolSize+cfg.MaxOverflow
// connections and applies the pool settings of cfg (see Config). It
// checks that the server answers and that the schema holds
// the event store at its latest migration before returning (an error that
// is errors.Is(err, persistence.ErrProgramming) otherwise).
//
// A malformed connection string gives a *config.Error naming
// DATABASE_URL, and a schema or number out of range (see Config) one
// naming the variable that sets it; an unreachable server gives an error that is
// errors.Is(err, persistence.ErrConnection). The caller closes the pool.
func Open(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.ConnString)
	if err != nil {
		return nil, &config.Error{Var: EnvDatabaseURL, Value: Redact(cfg.ConnString), Reason: badConnString}
	}
	if cfg.PoolSize > 0 {
		poolCfg.MaxConns = int32(cfg.PoolSize + cfg.MaxOverflow)
	}
	if cfg.ConnMaxAge > 0 {
		poolCfg.MaxConnLifetime = cfg.ConnMaxAge
	}
	if cfg.PrePing {
		poolCfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	}
	if cfg.ConnUseOnce {
		poolCfg.AfterRelease = func(*pgx.Conn) bool { return false }
	}
	if cfg.ConnectTimeout > 0 {
		poolCfg.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	}
	if err := ConfigurePool(poolCfg, cfg.Schema); err != nil {
		return nil, err
	}
	params := poolCfg.ConnConfig.RuntimeParams
	params["lock_timeout"] = milliseconds(cfg.LockTimeout)
	params["idle_in_transaction_session_timeout"] = milliseconds(cfg.IdleInTransactionTimeout)
	// ParseConfig leaves the tracer nil: it is cfg's, the pool timeout's,
	// or both.
	switch {
	case cfg.PoolTimeout > 0 && cfg.QueryTracer != nil:
		poolCfg.ConnConfig.Tracer = multitracer.New(acquireTimeout(cfg.PoolTimeout), cfg.QueryTracer)
	case cfg.PoolTimeout > 0:
		poolCfg.ConnConfig.Tracer = acquireTimeout(cfg.PoolTimeout)
	case cfg.QueryTracer != nil:
		poolCfg.ConnConfig.Tracer = cfg.QueryTracer
	}
	where := fmt.Sprintf("open schema %s at %s", cfg.Schema, Redact(cfg.ConnString))
	if cfg.CreateTable {
		// Before the pool exists, so that a failed migration leaves
		// nothing open.
		if err := migrateUp(ctx, poolCfg.ConnConfig.Copy(), cfg.Schema); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, mapError(where, err, nil)
	}
	if err := checkReady(ctx, pool, where); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// ConfigurePool prepares cfg, the configuration of a pool of the caller's
// (with its own tracer, hooks and limits), for recording in schema: it
// sets the connections' search_path to schema, and reads and writes UUIDs
// in binary form (chained after cfg.AfterConnect, if any). Then use the
// pool with Prepare, or give it to app.Options.Pool. A schema name that is
// not valid gives a *config.Error.
func ConfigurePool(cfg *pgxpool.Config, schema string) error {
	if err := ValidateSchema(schema); err != nil {
		return err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	previous := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if previous != nil {
			if err := previous(ctx, conn); err != nil {
				return err
			}
		}
		return registerUUID(ctx, conn)
	}
	return nil
}

// Prepare readies a pool of the caller's, configured by ConfigurePool, and
// returns its schema: with createTable it first applies the migrations to
// the schema (on a connection of its own, configured like the pool's);
// then it checks that the schema holds the event store at its latest
// migration (an error that is errors.Is(err, persistence.ErrProgramming)
// otherwise). A pool whose search_path is not one schema gives a
// *config.Error. The pool stays the caller's to close.
func Prepare(ctx context.Context, pool *pgxpool.Pool, createTable bool) (string, error) {
	connCfg := pool.Config().ConnConfig
	schema, err := schemaOf(connCfg.RuntimeParams["search_path"])
	if err != nil {
		return "", err
	}
	where := "prepare schema " + schema
	if createTable {
		if err := migrateUp(ctx, connCfg.Copy(), schema); err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
	}
	return schema, checkReady(ctx, pool, where)
}

// schemaOf returns the schema that searchPath, as set by ConfigurePool,
// names.
func schemaOf(searchPath string) (string, error) {
	bad := &config.Error{Var: "search_path", Value: searchPath,
		Reason: "the pool's search_path must name the application's schema alone: configure the pool with postgres.ConfigurePool"}
	if len(searchPath) < 2 || searchPath[0] != '"' || searchPath[len(searchPath)-1] != '"' {
		return "", bad
	}
	schema := strings.ReplaceAll(searchPath[1:len(searchPath)-1], `""`, `"`)
	if (pgx.Identifier{schema}).Sanitize() != searchPath || ValidateSchema(schema) != nil {
		return "", bad
	}
	return schema, nil
}

// checkReady checks that pool's schema holds the event store at its latest
// migration.
func checkReady(ctx context.Context, pool *pgxpool.Pool, where string) error {
	ready, err := db.New().EventStoreReady(ctx, pool)
	if err != nil {
		return mapError(where, err, nil)
	}
	if !ready {
		return fmt.Errorf("%s: %w: the schema has no event store at the latest migration: run `migrate up` (cmd/migrate) or set CREATE_TABLE=true",
			where, persistence.ErrProgramming)
	}
	return nil
}

// acquireTimeout bounds the wait of pgxpool's Acquire for a connection
// (Config.PoolTimeout). It is a pgxpool.AcquireTracer, as that is the one
// hook given Acquire's context: the context it returns is used for the
// wait only (and for the pre-acquire ping), never for the operation that
// follows. pgx wants a tracer to be a pgx.QueryTracer: it traces no query.
type acquireTimeout time.Duration

// TraceQueryStart returns ctx.
func (acquireTimeout) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd does nothing.
func (acquireTimeout) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// errPoolTimeout is the cause of the contexts of acquireTimeout's waits.
var errPoolTimeout = errors.New("pool timeout")

// TraceAcquireStart returns ctx with the pool timeout's deadline.
func (a acquireTimeout) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	waitCtx, cancel := context.WithTimeoutCause(ctx, time.Duration(a), errPoolTimeout)
	return &acquireContext{Context: waitCtx, cancel: cancel, timeout: time.Duration(a)}
}

// TraceAcquireEnd releases the resources of the context TraceAcquireStart
// returned.
func (a acquireTimeout) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireEndData) {
	if c, ok := ctx.(*acquireContext); ok {
		c.cancel()
	}
}

// acquireContext is the context of one wait for a connection. When the pool
// timeout ends it, its Err is an operational error that also wraps
// context.DeadlineExceeded, and which Acquire returns; when the caller's
// context ends it first, Err is the caller's error.
type acquireContext struct {
	context.Context
	cancel  context.CancelFunc
	timeout time.Duration
}

// Err returns the context's error, typed when the pool timeout ended it.
func (c *acquireContext) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == errPoolTimeout {
		return &persistence.DatabaseError{Kind: persistence.ErrOperational,
			Err: fmt.Errorf("no connection was available within %s (%s): %w", c.timeout, EnvPoolTimeout, err)}
	}
	return err
}

func milliseconds(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// badConnString is the reason given for a connection string that cannot
// be parsed; the parser's own message is not shown, as it may quote a
// password.
const badConnString = "cannot be parsed; a URL such as postgres://user:password@host:5432/dbname or key=value pairs are expected"

// migrateUp applies the migrations to schema over a connection configured
// like the pool's (so the connect timeout applies).
func migrateUp(ctx context.Context, connCfg *pgx.ConnConfig, schema string) error {
	m, err := newMigrator(connCfg, schema)
	if err != nil {
		return err
	}
	defer m.Close()
	_, err = m.Up(ctx)
	return err
}
