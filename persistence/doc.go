// Package persistence defines how domain events are stored: the universal
// StoredEvent type, notifications and tracking records, the three kinds of
// recorder (aggregate, application and process), the errors recorders
// return, and configuration read from the environment.
//
// Two implementations of the recorders exist: package memory, the embedded
// in-memory default, and package postgres, which keeps the rules that make
// event sourcing correct inside PostgreSQL as schema and stored procedures.
// Both pass the same conformance suite (package persistence/recordertest).
package persistence
