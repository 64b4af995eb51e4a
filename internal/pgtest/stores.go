package pgtest

import (
	"path/filepath"
	"strings"
	"testing"
)

// EachStore runs test as three parallel subtests, "memory", "postgres"
// and "sqlite", giving each the configuration of its store:
// PERSISTENCE_MODULE, on Postgres DATABASE_URL and fresh schemas, on
// SQLite fresh database files. Without apps, the one schema is
// POSTGRES_SCHEMA and the one file SQLITE_DBNAME; with apps (environment
// prefixes such as "WORLDS"), each gets its own <APP>_POSTGRES_SCHEMA and
// <APP>_SQLITE_DBNAME, as the applications of a system need. The postgres
// subtest skips (or fails, when CI is set) as ServerURL does.
func EachStore(t *testing.T, test func(t *testing.T, env map[string]string), apps ...string) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		test(t, map[string]string{"PERSISTENCE_MODULE": "memory"})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, PostgresEnv(t, apps...))
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, SQLiteEnv(t, apps...))
	})
}

// SQLiteEnv returns the configuration of the SQLite store for a test:
// PERSISTENCE_MODULE=sqlite and fresh database files in a temporary
// directory, as for EachStore.
func SQLiteEnv(t testing.TB, apps ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"PERSISTENCE_MODULE": "sqlite"}
	if len(apps) == 0 {
		env["SQLITE_DBNAME"] = filepath.Join(dir, "events.db")
	}
	for _, prefix := range apps {
		env[prefix+"_SQLITE_DBNAME"] = filepath.Join(dir, strings.ToLower(prefix)+".db")
	}
	return env
}

// PostgresEnv returns the configuration of the Postgres store for a test:
// PERSISTENCE_MODULE=postgres, DATABASE_URL, and fresh schemas, as for
// EachStore.
func PostgresEnv(t testing.TB, apps ...string) map[string]string {
	t.Helper()
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": ServerURL(t)}
	if len(apps) == 0 {
		env["POSTGRES_SCHEMA"] = NewSchemaName(t)
	}
	for _, prefix := range apps {
		env[prefix+"_POSTGRES_SCHEMA"] = NewSchemaName(t)
	}
	return env
}
