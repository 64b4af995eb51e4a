package pgtest

import "testing"

// EachStore runs test as two parallel subtests, "memory" and "postgres",
// giving each the configuration of its store: PERSISTENCE_MODULE, and on
// Postgres DATABASE_URL and fresh schemas. Without apps, the one schema is
// POSTGRES_SCHEMA; with apps (environment prefixes such as "WORLDS"), each
// gets its own <APP>_POSTGRES_SCHEMA, as the applications of a system
// need. The postgres subtest skips (or fails, when CI is set) as ServerURL
// does.
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
