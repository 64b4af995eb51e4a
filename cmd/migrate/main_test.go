package main

import (
	"bytes"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/sql/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// latestVersion returns the version of the last embedded migration, as
// the version command prints it.
func latestVersion(t *testing.T) string {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	last := files[len(files)-1]
	n, err := strconv.Atoi(last[:strings.IndexByte(last, '_')])
	require.NoError(t, err, last)
	return strconv.Itoa(n) + "\n"
}

// migrationFile is an embedded migration: its version, as the commands
// print it, and its file name.
type migrationFile struct{ version, name string }

// migrationFiles returns the migrations of fsys in version order (the
// numbering may have gaps).
func migrationFiles(t *testing.T, fsys fs.FS) []migrationFile {
	t.Helper()
	names, err := fs.Glob(fsys, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	files := make([]migrationFile, len(names))
	for i, name := range names { // fs.Glob sorts, and the names are zero-padded
		n, err := strconv.Atoi(name[:strings.IndexByte(name, '_')])
		require.NoError(t, err, name)
		files[i] = migrationFile{strconv.Itoa(n), name}
	}
	return files
}

// runWith runs the command line args with only the variables vars set, and
// returns the exit status and what was written to stdout and stderr.
func runWith(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	env := config.Environment{
		Values: vars,
		Lookup: func(string) (string, bool) { return "", false },
	}
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, env, &out, &errOut)
	t.Logf("migrate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

func TestRoundTrip(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.ServerURL(t)}
	schema := pgtest.NewSchemaName(t)
	files := migrationFiles(t, migrations.FS)

	code, out, _ := runWith(t, vars, "--schema", schema, "up")
	require.Equal(t, 0, code)
	for _, f := range files {
		require.Contains(t, out, "applied "+f.version+" "+f.name+" ")
	}

	code, out, _ = runWith(t, vars, "--schema", schema, "up")
	require.Equal(t, 0, code)
	require.Equal(t, "no pending migrations\n", out)

	code, out, _ = runWith(t, vars, "--schema", schema, "status")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(files)+1)
	require.Regexp(t, `^VERSION\s+FILE\s+APPLIED AT$`, lines[0])
	for i, f := range files {
		require.Regexp(t, `^`+f.version+`\s+`+regexp.QuoteMeta(f.name)+`\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, lines[i+1])
	}

	code, out, _ = runWith(t, vars, "--schema", schema, "version")
	require.Equal(t, 0, code)
	require.Equal(t, latestVersion(t), out)

	code, out, _ = runWith(t, vars, "--schema", schema, "down-to", "1")
	require.Equal(t, 0, code)
	for _, f := range files[1:] {
		require.Contains(t, out, "rolled back "+f.version+" "+f.name+" ")
	}
	require.NotContains(t, out, files[0].name)

	code, out, _ = runWith(t, vars, "-schema="+schema, "down-to", "0")
	require.Equal(t, 0, code)
	require.Contains(t, out, "rolled back 1 00001_event_store.sql")

	code, out, _ = runWith(t, vars, "--schema", schema, "down-to", "0")
	require.Equal(t, 0, code)
	require.Equal(t, "no migrations to roll back\n", out)

	code, out, _ = runWith(t, vars, "--schema", schema, "version")
	require.Equal(t, 0, code)
	require.Equal(t, "0\n", out)

	code, out, _ = runWith(t, vars, "--schema", schema, "status")
	require.Equal(t, 0, code)
	pending := ``
	for _, f := range files {
		pending += `\n` + f.version + `\s+` + regexp.QuoteMeta(f.name) + `\s+pending`
	}
	require.Regexp(t, pending+`\n$`, out)

	code, out, _ = runWith(t, vars, "--schema", schema, "up")
	require.Equal(t, 0, code)
	require.Contains(t, out, "applied 1 00001_event_store.sql")
}

func TestSchemaFromEnvironment(t *testing.T) {
	schema := pgtest.NewSchemaName(t)
	vars := map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": schema}

	code, _, _ := runWith(t, vars, "up")
	require.Equal(t, 0, code)
	code, out, _ := runWith(t, vars, "version")
	require.Equal(t, 0, code)
	require.Equal(t, latestVersion(t), out)
}

func TestMissingSchema(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.ServerURL(t)}
	schema := pgtest.NewSchemaName(t)

	code, _, stderr := runWith(t, vars, "--schema", schema, "version")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "schema "+schema+" does not exist; migrate up creates it")
}

func TestUsageErrors(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db"}
	for _, args := range [][]string{
		{},
		{"sideways"},
		{"--nosuchflag", "up"},
		{"up", "extra"},
		{"down-to"},
		{"down-to", "x"},
		{"down-to", "-1"},
		{"down-to", "1", "2"},
		{"--schema", "Bad-Name", "up"},
	} {
		code, stdout, stderr := runWith(t, vars, args...)
		require.Equal(t, 2, code, "args %q", args)
		require.Empty(t, stdout, "args %q", args)
		require.Contains(t, stderr, "usage: migrate", "args %q", args)
	}

	_, _, stderr := runWith(t, vars, "sideways")
	require.Contains(t, stderr, `unknown command "sideways"`)
	_, _, stderr = runWith(t, vars, "down-to", "x")
	require.Contains(t, stderr, `"x" is not a version number`)
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runWith(t, nil, "--help")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "usage: migrate")
}

func TestMissingConfiguration(t *testing.T) {
	code, stdout, stderr := runWith(t, nil, "up")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Regexp(t, `DATABASE_URL|POSTGRES_HOST`, stderr)

	code, _, stderr = runWith(t, map[string]string{"POSTGRES_HOST": "localhost"}, "up")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "POSTGRES_DBNAME")
}

func TestMalformedURL(t *testing.T) {
	for _, url := range []string{
		"postgres://u:secret@host:port/db",
		"mysql://u:secret@localhost/db",
		"postgres://u:secret@localhost/db?sslmode=sometimes",
		"postgres://u:secret@localhost/db?connect_timeout=soon",
		"postgres://u@localhost/db?password=secret&sslmode=sometimes",
	} {
		code, stdout, stderr := runWith(t, map[string]string{"DATABASE_URL": url}, "up")
		require.Equal(t, 1, code, url)
		require.Empty(t, stdout, url)
		require.Contains(t, stderr, "DATABASE_URL", url)
		require.NotContains(t, stdout+stderr, "secret", url)
	}
}

func TestUnreachableServer(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2"}
	for _, command := range [][]string{{"up"}, {"status"}, {"version"}, {"down-to", "0"}} {
		code, stdout, stderr := runWith(t, vars, command...)
		require.Equal(t, 1, code, command)
		require.Empty(t, stdout, command)
		require.Contains(t, stderr, "cannot connect to postgres://u:xxxxx@127.0.0.1:1/db?connect_timeout=2: ", command)
		require.Contains(t, stderr, "127.0.0.1:1", command)
		require.NotContains(t, stdout+stderr, "secret", command)
	}

	// From POSTGRES_* variables too, with the default connect timeout.
	code, _, stderr := runWith(t, map[string]string{
		"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "1", "POSTGRES_DBNAME": "db",
		"POSTGRES_USER": "u", "POSTGRES_PASSWORD": "secret",
	}, "up")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "cannot connect to postgres://u:xxxxx@127.0.0.1:1/db: ")
	require.NotContains(t, stderr, "secret")

	// A password in the query string is hidden too.
	code, _, stderr = runWith(t, map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db?password=secret"}, "up")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "cannot connect to postgres://u@127.0.0.1:1/db?password=xxxxx: ")
	require.NotContains(t, stderr, "secret")
}

// Schemas named by reserved words migrate up, report and roll back; each
// runs in a fresh database, so the fixed names cannot collide.
func TestReservedWordSchemas(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t)}
	for _, schema := range []string{"order", "user", "select"} {
		code, out, _ := runWith(t, vars, "--schema", schema, "up")
		require.Equal(t, 0, code, schema)
		require.Contains(t, out, "applied 3 00003_insert_as_owner.sql", schema)

		code, out, _ = runWith(t, vars, "--schema", schema, "up")
		require.Equal(t, 0, code, schema)
		require.Equal(t, "no pending migrations\n", out, schema)

		code, out, _ = runWith(t, vars, "--schema", schema, "version")
		require.Equal(t, 0, code, schema)
		require.Equal(t, latestVersion(t), out, schema)

		code, out, _ = runWith(t, vars, "--schema", schema, "down-to", "0")
		require.Equal(t, 0, code, schema)
		require.Contains(t, out, "rolled back 1 00001_event_store.sql", schema)
	}

	withEnv := map[string]string{"DATABASE_URL": vars["DATABASE_URL"], "POSTGRES_SCHEMA": "user"}
	code, out, _ := runWith(t, withEnv, "status")
	require.Equal(t, 0, code)
	require.Contains(t, out, "pending")
}

// Schema names beginning with pg_ are reserved by PostgreSQL for system
// schemas: refused before connecting, naming where the name came from.
func TestPgSchemaRefused(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db"}
	code, stdout, stderr := runWith(t, vars, "--schema", "pg_x", "up")
	require.Equal(t, 2, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, `invalid --schema "pg_x"`)
	require.Contains(t, stderr, "pg_")

	code, _, stderr = runWith(t, map[string]string{"DATABASE_URL": vars["DATABASE_URL"], "POSTGRES_SCHEMA": "pg_x"}, "up")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "POSTGRES_SCHEMA")
	require.NotContains(t, stderr, "cannot connect")
}

// down-to refuses to drop recorded events unless --force is given.
func TestDownToRefusesToDropEvents(t *testing.T) {
	url := pgtest.ServerURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	schema := pgtest.NewSchemaName(t)
	code, _, _ := runWith(t, vars, "--schema", schema, "up")
	require.Equal(t, 0, code)
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(t.Context())
	_, err = conn.Exec(t.Context(), "INSERT INTO "+pgx.Identifier{schema, "stored_events"}.Sanitize()+
		" (originator_id, originator_version, topic, state) VALUES (gen_random_uuid(), 1, 't', ''), (gen_random_uuid(), 1, 't', '')")
	require.NoError(t, err)

	code, out, stderr := runWith(t, vars, "--schema", schema, "down-to", "0")
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "stored_events: 2 rows")
	require.Contains(t, stderr, "--force")
	code, out, _ = runWith(t, vars, "--schema", schema, "version")
	require.Equal(t, 0, code)
	require.Equal(t, latestVersion(t), out, "nothing rolled back")

	code, _, _ = runWith(t, vars, "--schema", schema, "down-to", "1")
	require.Equal(t, 0, code, "rolling back what drops no table")
	code, out, _ = runWith(t, vars, "--schema", schema, "--force", "down-to", "0")
	require.Equal(t, 0, code)
	require.Contains(t, out, "rolled back 1 00001_event_store.sql")

	code, _, stderr = runWith(t, vars, "--schema", schema, "--force", "up")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--force")
}
