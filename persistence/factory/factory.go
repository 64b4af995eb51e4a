// Package factory builds an application's recorders from its environment:
// PERSISTENCE_MODULE selects the in-memory recorders or the PostgreSQL
// ones, which are then configured by the POSTGRES_* variables or
// DATABASE_URL (see postgres.ConfigFromEnv); unset, it selects PostgreSQL
// when a connection variable is set, and memory otherwise. It plays the part of the
// seeds' infrastructure factory.
package factory

import (
	"context"
	"log/slog"
	"strings"
	"sync"

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
// (also the seeds' "popo" and "eventsourcing.popo") or "postgres" (also
// "eventsourcing.postgres"). Any other value gives a
// *persistence.ConfigError naming the variable.
//
// When PERSISTENCE_MODULE is unset or empty, a PostgreSQL connection
// variable that is set and not empty (DATABASE_URL, POSTGRES_HOST,
// POSTGRES_PORT, POSTGRES_DBNAME, POSTGRES_USER or POSTGRES_PASSWORD, with
// or without the application's prefix) selects "postgres", so that pointing
// an application at a database is enough to persist its events; otherwise
// the module is "memory". An explicit PERSISTENCE_MODULE=memory with a
// connection variable set is allowed, and logged once per process as a
// warning (slog.Default), since events kept in memory are lost.
func ModuleFromEnv(env persistence.Environment) (Module, error) {
	v := env.String(EnvPersistenceModule, "")
	connection := connectionVariable(env)
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		if connection != "" {
			return Postgres, nil
		}
		return Memory, nil
	case "memory", "popo", "eventsourcing.popo":
		if connection != "" {
			memoryWithConnection.Do(func() {
				slog.Warn("events are kept in memory and lost when the process ends, although a PostgreSQL connection variable is set",
					EnvPersistenceModule, v, "variable", connection)
			})
		}
		return Memory, nil
	case "postgres", "postgresql", "eventsourcing.postgres":
		return Postgres, nil
	}
	return "", &persistence.ConfigError{Var: EnvPersistenceModule, Value: v, Reason: `"memory" or "postgres" is expected`}
}

// memoryWithConnection logs the explicit memory module with a connection
// variable set once per process.
var memoryWithConnection sync.Once

// connectionVariable returns the name of the first PostgreSQL connection
// variable set to a non-empty value in env, or "".
func connectionVariable(env persistence.Environment) string {
	for _, name := range []string{postgres.EnvDatabaseURL, postgres.EnvHost, postgres.EnvPort,
		postgres.EnvDBName, postgres.EnvUser, postgres.EnvPassword} {
		if env.String(name, "") != "" {
			return name
		}
	}
	return ""
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
