// Package db holds the typed accessors that sqlc generates from
// sql/queries against the schema of sql/migrations. It is the only code that
// sends SQL to the event store's tables; persistence/postgres wraps it.
// Users may call it directly (for example from their own transactions).
// Every method takes its executor (a pool, connection or transaction) as an
// argument. Regenerate with `make generate`; never edit the generated files.
package db
