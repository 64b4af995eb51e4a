package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// repoRoot is the repository's root, seen from this package's directory,
// where go test runs the test binary.
const repoRoot = "../.."

// gooseCommand is the README's goose command line, between its markers.
var gooseCommand = regexp.MustCompile("(?s)<!-- goose-command -->\\s*```sh\n(.*?)```\\s*<!-- /goose-command -->")

// readmeGooseCommand returns the shell command README.md documents for
// applying the migrations with the goose command line.
func readmeGooseCommand(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	m := gooseCommand.FindAllSubmatch(readme, -1)
	require.Len(t, m, 1, "README.md should hold one goose command between <!-- goose-command --> markers")
	return string(m[0][1])
}

// buildGoose builds the goose command line pinned in tools/go.mod into a
// temporary directory and returns that directory. Only its PostgreSQL
// driver is built in, to save time.
func buildGoose(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "goose"),
		"-tags", "no_clickhouse no_libsql no_mssql no_mysql no_sqlite3 no_vertica no_ydb",
		"github.com/pressly/goose/v3/cmd/goose")
	cmd.Dir = filepath.Join(repoRoot, "tools")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "build goose from tools/go.mod:\n%s", out)
	return dir
}

// runGooseCommand runs command with sh, goose from gooseDir on PATH, and
// DATABASE_URL and POSTGRES_SCHEMA set; it fails t unless the command
// succeeds, and returns its output.
func runGooseCommand(t *testing.T, command, gooseDir, url, schema string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", command)
	for _, kv := range os.Environ() {
		// Nothing of the caller's goose or libpq settings may help the
		// command: it must work as written.
		if !strings.HasPrefix(kv, "GOOSE_") && !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"PATH="+gooseDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DATABASE_URL="+url,
		"POSTGRES_SCHEMA="+schema,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("README goose command on schema %s:\n%s", schema, out)
	require.NoError(t, err, "the README's goose command failed on schema %s:\n%s", schema, out)
	return string(out)
}

// describeSchema returns, one line each and sorted, the relations,
// columns, constraints, indexes, sequences and functions of schema, with
// their owners, privileges and settings, and the rows of its version
// table, with the schema's name replaced by <schema>.
func describeSchema(t *testing.T, conn *pgx.Conn, schema string) []string {
	t.Helper()
	const query = `
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1)
SELECT 'schema owner=' || pg_get_userbyid(n.nspowner) || ' acl=' || coalesce(n.nspacl::text, '')
  FROM pg_namespace n WHERE n.oid = (SELECT oid FROM ns)
UNION ALL
SELECT 'relation ' || c.relname || ' kind=' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner)
       || ' acl=' || coalesce(c.relacl::text, '')
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || ' notnull=' || a.attnotnull || ' identity=' || a.attidentity::text
       || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || c.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
 WHERE co.connamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = $1
UNION ALL
SELECT 'sequence ' || s.relname || ' owned by ' || c.relname || '.' || a.attname || ' deptype=' || d.deptype::text
  FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid AND d.classid = 'pg_class'::regclass
  JOIN pg_class c ON c.oid = d.refobjid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
 WHERE s.relkind = 'S' AND s.relnamespace = (SELECT oid FROM ns) AND d.deptype IN ('a', 'i')
UNION ALL
SELECT 'function ' || p.proname || ' owner=' || pg_get_userbyid(p.proowner)
       || ' acl=' || coalesce(p.proacl::text, '') || E'\n' || pg_get_functiondef(p.oid)
  FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)
ORDER BY 1`
	ctx := t.Context()
	rows, err := conn.Query(ctx, query, schema)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)

	rows, err = conn.Query(ctx, "SELECT 'version ' || version_id || ' applied=' || is_applied FROM "+
		pgx.Identifier{schema, postgres.VersionTable}.Sanitize()+" ORDER BY id")
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	lines = append(lines, versions...)

	for i := range lines {
		lines[i] = strings.ReplaceAll(lines[i], schema, "<schema>")
	}
	return lines
}

// TestGooseCommand runs the goose command documented in README.md, as
// written, on a new schema and checks that it makes the schema that
// migrate up makes, which the library then opens and records events in.
func TestGooseCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the goose command line")
	}
	t.Parallel()
	command := readmeGooseCommand(t)
	gooseDir := buildGoose(t)
	url := pgtest.ServerURL(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })

	byMigrate := pgtest.NewSchemaName(t)
	code, _, _ := runWith(t, map[string]string{"DATABASE_URL": url}, "--schema", byMigrate, "up")
	require.Equal(t, 0, code)

	// The README's prerequisite for a schema other than public.
	byGoose := pgtest.NewSchemaName(t)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{byGoose}.Sanitize())
	require.NoError(t, err)
	runGooseCommand(t, command, gooseDir, url, byGoose)

	want := describeSchema(t, conn, byMigrate)
	require.Contains(t, want, "version 5 applied=true", "the description should include the version table")
	require.Equal(t, want, describeSchema(t, conn, byGoose))

	// The library's migrator and goose each see what the other applied.
	code, out, _ := runWith(t, map[string]string{"DATABASE_URL": url}, "--schema", byGoose, "up")
	require.Equal(t, 0, code)
	require.Equal(t, "no pending migrations\n", out)
	require.Contains(t, runGooseCommand(t, command, gooseDir, url, byMigrate), "no migrations to run")
	require.Equal(t, want, describeSchema(t, conn, byMigrate), "goose should change nothing in a migrated schema")

	// The library opens the schema goose made, without migrating, and
	// records and reads an event in it.
	pool, err := postgres.Open(ctx, postgres.Config{ConnString: url, Schema: byGoose})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	recorder := postgres.NewRecorder(pool)
	event := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "test:Created", State: []byte("{}")}
	ids, err := recorder.InsertNotifications(ctx, []persistence.StoredEvent{event})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, ids)
	got, err := recorder.SelectEvents(ctx, event.OriginatorID, persistence.EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.True(t, event.Equal(got[0]), "read %+v, want %+v", got[0], event)
}

// TestGooseCommandPublic runs the README's goose command on the public
// schema of a new database, which needs no CREATE SCHEMA first, and checks
// that it makes what migrate up makes in the public schema of another.
func TestGooseCommandPublic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the goose command line")
	}
	t.Parallel()
	command := readmeGooseCommand(t)
	gooseDir := buildGoose(t)
	ctx := t.Context()
	connect := func(url string) *pgx.Conn {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}

	byMigrate := pgtest.NewDatabaseURL(t)
	code, _, _ := runWith(t, map[string]string{"DATABASE_URL": byMigrate}, "--schema", "public", "up")
	require.Equal(t, 0, code)
	byGoose := pgtest.NewDatabaseURL(t)
	runGooseCommand(t, command, gooseDir, byGoose, "public")

	want := describeSchema(t, connect(byMigrate), "public")
	require.Contains(t, want, "version 5 applied=true")
	require.Equal(t, want, describeSchema(t, connect(byGoose), "public"))
}
