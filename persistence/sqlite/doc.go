// Package sqlite implements the recorders of package persistence on an
// embedded SQLite database, through database/sql and modernc.org/sqlite
// (pure Go, no cgo).
//
// The schema is the goose migration of sql/sqlite/migrations: STRICT
// tables, the notification id as the events table's row id, a unique
// (originator id, version), a tracking table keyed by (upstream name,
// notification id), and the partition tables. Every write is one
// BEGIN IMMEDIATE transaction, which takes SQLite's database write lock
// first, so writers are serialised and notification ids commit in
// insertion order; tracking records are inserted in the same transaction
// as the events. Saves of events without tracking records that queue
// while one is recorded share one transaction (group commit: one fsync for
// many saves), each under a savepoint of its own, so that a save that
// fails is rolled back alone. The recorders reach the database only
// through the sqlc-generated accessors in package db/sqlitedb, and
// database/sql's transactions, apart from those savepoints (SAVEPOINT,
// ROLLBACK TO, RELEASE: sqlc's SQLite engine compiles no accessor for
// them). Raw SQL runs in three other places: Open's check that the file is
// a database it can read (SELECT count(*) FROM sqlite_schema), the
// Migrator's count of the rows a migration down would drop (a table named
// by the migration, so no fixed query fits), and the goose migrations
// themselves.
//
// Database.Exclusive runs a function while no other caller with the same
// name on the same database runs its own: on Unix, across processes, by
// an advisory lock (flock) on a lock file beside a file database, which
// the kernel releases when its holder dies; within the process for an
// in-memory database. Instances of a process application take it so that
// one processes at a time and the others stand by.
//
// Typical use:
//
//	cfg, err := sqlite.ConfigFromEnv(config.Environment{Name: "Bank"}) // SQLITE_DBNAME, …
//	d, err := sqlite.Open(ctx, cfg) // or sqlite.Config{DBName: "bank.db", CreateTable: true}
//	defer d.Close()
//	rec := sqlite.NewRecorder(d)            // events, notifications, tracking
//	snapshots := sqlite.NewSnapshotRecorder(d)
package sqlite
