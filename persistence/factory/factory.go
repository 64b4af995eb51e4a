// Package factory builds an application's recorders from its environment:
// PERSISTENCE_MODULE selects the in-memory recorders (the default) or the
// PostgreSQL ones, which are then configured by the POSTGRES_* variables or
// DATABASE_URL (see postgres.ConfigFromEnv). It plays the part of the
// seeds' infrastructure factory.
package factory

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// EnvPersistenceModule names the variable that selects the persistence module.
const EnvPersistenceModule = "PERSISTENCE_MODULE"

// Module is a persistence module.
type Module string

// The persistence modules.
const (
	// Memory keeps everything in memory: fast, not durable. The default.
	Memory Module = "memory"
	// Postgres records in PostgreSQL.
	Postgres Module = "postgres"
)

// ModuleFromEnv returns the module named by PERSISTENCE_MODULE: "memory"
// (also the seeds' "popo" and "eventsourcing.popo", and the default when
// unset or empty) or "postgres" (also "eventsourcing.postgres"). Any other
// value gives a *persistence.ConfigError naming the variable.
func ModuleFromEnv(env persistence.Environment) (Module, error) {
	v := env.String(EnvPersistenceModule, string(Memory))
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "memory", "popo", "eventsourcing.popo":
		return Memory, nil
	case "postgres", "postgresql", "eventsourcing.postgres":
		return Postgres, nil
	}
	return "", &persistence.ConfigError{Var: EnvPersistenceModule, Value: v, Reason: `"memory" or "postgres" is expected`}
}

// ImplyPostgres returns env set to use the Postgres module when
// DATABASE_URL is set and PERSISTENCE_MODULE is not, so that commands can
// be pointed at a database with DATABASE_URL alone. Otherwise it returns
// env unchanged. Values of env are copied, not modified.
func ImplyPostgres(env persistence.Environment) persistence.Environment {
	if _, set := env.Get(EnvPersistenceModule); set || env.String("DATABASE_URL", "") == "" {
		return env
	}
	values := map[string]string{EnvPersistenceModule: string(Postgres)}
	for k, v := range env.Values {
		values[k] = v
	}
	env.Values = values
	return env
}

// Infrastructure holds the recorders of one application. Close releases
// them. Its fields are safe for concurrent use.
type Infrastructure struct {
	// Module is the persistence module in use.
	Module Module
	// Recorder records the application's events, notifications and
	// tracking records.
	Recorder persistence.ProcessRecorder
	// Snapshots records the application's snapshots.
	Snapshots persistence.AggregateRecorder
	// Pool is the connection pool of the Postgres module; nil otherwise.
	Pool *pgxpool.Pool
	// Schema is the application's schema with the Postgres module.
	Schema string
}

// Open builds the Infrastructure of the application named env.Name from
// env. For the Postgres module it connects, and applies the migrations to
// the application's schema unless CREATE_TABLE is false. Configuration
// errors are *persistence.ConfigError values naming the variable; an
// unreachable server is errors.Is(err, persistence.ErrInterface).
func Open(ctx context.Context, env persistence.Environment) (*Infrastructure, error) {
	module, err := ModuleFromEnv(env)
	if err != nil {
		return nil, err
	}
	if module == Memory {
		return &Infrastructure{Module: Memory, Recorder: memory.NewRecorder(), Snapshots: memory.NewAggregateRecorder()}, nil
	}
	cfg, err := postgres.ConfigFromEnv(env)
	if err != nil {
		return nil, err
	}
	pool, err := postgres.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Infrastructure{
		Module:    Postgres,
		Recorder:  postgres.NewRecorder(pool),
		Snapshots: postgres.NewSnapshotRecorder(pool),
		Pool:      pool,
		Schema:    cfg.Schema,
	}, nil
}

// Close releases the infrastructure's connections, if any.
func (i *Infrastructure) Close() {
	if i.Pool != nil {
		i.Pool.Close()
	}
}
