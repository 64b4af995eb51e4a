// Package persistence is the storage contract of event sourcing: the
// StoredEvent every event and snapshot is recorded as, notifications and
// tracking records, the three kinds of recorder (aggregate, application
// and process) and the errors recorders return.
//
// Three implementations exist: package memory, the embedded in-memory
// default; package postgres, which keeps the rules that make event
// sourcing correct inside PostgreSQL as schema and stored procedures; and
// package sqlite, an embedded, durable store in an SQLite file. All pass
// the same conformance suite (package persistence/recordertest).
// Converting domain events to stored events is package codec's work.
package persistence
