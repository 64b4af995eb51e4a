package sqlite

import "database/sql"

// SQLDB returns d's *sql.DB, for tests that write what the recorders
// would not.
func SQLDB(d *Database) *sql.DB { return d.db }
