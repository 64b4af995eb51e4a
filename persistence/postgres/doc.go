// Package postgres implements the recorders of package persistence on
// PostgreSQL.
//
// The rules that make event sourcing correct live inside Postgres, in the
// migrations of sql/migrations: one schema per application, a BIGSERIAL
// notification id, UNIQUE (originator_id, originator_version), a tracking
// table, and the stored_events_insert procedure, which in one round trip
// takes the EXCLUSIVE lock on the events table (so insert order equals
// commit order), inserts a batch of events and the optional tracking record,
// returns the notification ids and notifies listeners (a save of one event
// calls stored_events_insert_one, which does the same with the event's
// columns as values rather than arrays of one). This package reaches
// the database only through the sqlc-generated accessors in package db.
//
// Typical use:
//
//	cfg, err := postgres.ConfigFromEnv(config.Environment{Name: "Worlds"})
//	pool, err := postgres.Open(ctx, cfg) // migrates the schema when cfg.CreateTable
//	rec := postgres.NewRecorder(pool)
package postgres
