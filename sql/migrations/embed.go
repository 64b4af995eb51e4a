// Package migrations holds the goose migrations that create an
// application's schema: its tables and the stored procedure that records
// events. Apply them with persistence/postgres.Migrator or cmd/migrate.
package migrations

import "embed"

// FS holds the migration files, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
