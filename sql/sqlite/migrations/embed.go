// Package migrations holds the goose migrations, in SQLite's dialect, that
// create an application's tables in an SQLite database. Apply them with
// persistence/sqlite (Open with Config.CreateTable, or a Migrator).
package migrations

import "embed"

// FS holds the migration files, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
