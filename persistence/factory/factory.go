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

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// The variables that select the persistence module.
const (
	// EnvPersistenceModule names the persistence module.
	EnvPersistenceModule = "PERSISTENCE_MODULE"
	// EnvInfrastructureFactory is the seeds' older spelling: the topic of
	// an infrastructure factory.
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
)

// ModuleFromEnv returns the module named by PERSISTENCE_MODULE: "memory"
// (also the seeds' "popo" and "eventsourcing.popo") or "postgres" (also
// "eventsourcing.postgres"). The seeds' INFRASTRUCTURE_FACTORY is
// accepted too, with the topics of these two factories
// ("eventsourcing.popo:Factory", "eventsourcing.postgres:Factory"); set
// together, the two variables must agree. Any other value gives a
// *config.Error naming the variable.
//
// When neither is set (or both are empty), a PostgreSQL connection
// variable that is set and not empty (DATABASE_URL, POSTGRES_HOST,
// POSTGRES_PORT, POSTGRES_DBNAME, POSTGRES_USER or POSTGRES_PASSWORD, with
// or without the application's prefix) selects "postgres", so that pointing
// an application at a database is enough to persist its events; otherwise
// the module is "memory". An explicit memory module with a connection
// variable set is allowed, and logged once per process as a warning
// (slog.Default), since events kept in memory are lost.
func ModuleFromEnv(env config.Environment) (Module, error) {
	v := env.String(EnvPersistenceModule, "")
	module, ok := moduleNames[strings.ToLower(strings.TrimSpace(v))]
	if !ok {
		return "", &config.Error{Var: EnvPersistenceModule, Value: v, Reason: `"memory" or "postgres" is expected`}
	}
	if f := env.String(EnvInfrastructureFactory, ""); f != "" {
		byFactory, ok := factoryTopics[strings.TrimSpace(f)]
		if !ok {
			return "", &config.Error{Var: EnvInfrastructureFactory, Value: f,
				Reason: `"eventsourcing.popo:Factory" or "eventsourcing.postgres:Factory" is expected (or set PERSISTENCE_MODULE to "memory" or "postgres"); no other infrastructure is available`}
		}
		if module != "" && module != byFactory {
			return "", &config.Error{Var: EnvInfrastructureFactory, Value: f,
				Reason: "disagrees with " + EnvPersistenceModule + "=" + v + "; set one of them"}
		}
		module = byFactory
	}
	connection := connectionVariable(env)
	switch {
	case module == "" && connection != "":
		return Postgres, nil
	case module == "":
		return Memory, nil
	case module == Memory && connection != "":
		memoryWithConnection.Do(func() {
			slog.Warn("events are kept in memory and lost when the process ends, although a PostgreSQL connection variable is set",
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
}

// factoryTopics are the values of INFRASTRUCTURE_FACTORY.
var factoryTopics = map[string]Module{
	"eventsourcing.popo:Factory":     Memory,
	"eventsourcing.postgres:Factory": Postgres,
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
// errors are *config.Error values naming the variable; an
// unreachable server is errors.Is(err, persistence.ErrInterface).
func Open(ctx context.Context, env config.Environment) (*Infrastructure, error) {
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
