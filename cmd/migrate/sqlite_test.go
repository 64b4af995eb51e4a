package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
	migrations "github.com/eventsourcing-go/eventsourcing/sql/sqlite/migrations"
)

// With SQLITE_DBNAME, migrate applies the SQLite migrations to that file:
// up creates it, then status, version, down-to (refusing to drop events
// unless --force) and up again.
func TestSQLiteRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worlds.db")
	vars := map[string]string{"SQLITE_DBNAME": path}
	files := migrationFiles(t, migrations.FS)
	last := files[len(files)-1].version

	code, out, _ := runWith(t, vars, "up")
	require.Equal(t, 0, code)
	for _, f := range files {
		require.Contains(t, out, "applied "+f.version+" "+f.name+" ")
	}
	require.FileExists(t, path)

	code, out, _ = runWith(t, vars, "up")
	require.Equal(t, 0, code)
	require.Equal(t, "no pending migrations\n", out)

	code, out, _ = runWith(t, vars, "status")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(files)+1)
	require.Regexp(t, `^VERSION\s+FILE\s+APPLIED AT$`, lines[0])
	for i, f := range files {
		require.Regexp(t, `^`+f.version+`\s+`+regexp.QuoteMeta(f.name)+`\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, lines[i+1])
	}

	code, out, _ = runWith(t, vars, "version")
	require.Equal(t, 0, code)
	require.Equal(t, last+"\n", out)

	// An event recorded: down-to refuses to drop it.
	d, err := sqlite.Open(t.Context(), sqlite.Config{DBName: path})
	require.NoError(t, err)
	_, err = sqlite.NewRecorder(d).InsertNotifications(t.Context(),
		[]persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t", State: []byte("s")}})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	code, out, stderr := runWith(t, vars, "down-to", "0")
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "stored_events: 1 row")
	require.Contains(t, stderr, "--force")
	require.Contains(t, stderr, path)
	code, out, _ = runWith(t, vars, "version")
	require.Equal(t, 0, code)
	require.Equal(t, last+"\n", out, "nothing rolled back")

	code, out, _ = runWith(t, vars, "--force", "down-to", "0")
	require.Equal(t, 0, code)
	require.Contains(t, out, "rolled back 1 "+files[0].name)
	code, out, _ = runWith(t, vars, "down-to", "0")
	require.Equal(t, 0, code)
	require.Equal(t, "no migrations to roll back\n", out)
	code, out, _ = runWith(t, vars, "status")
	require.Equal(t, 0, code)
	require.Regexp(t, `\n1\s+`+regexp.QuoteMeta(files[0].name)+`\s+pending\n`, out)

	// PERSISTENCE_MODULE=sqlite picks SQLite when PostgreSQL is named too.
	code, out, _ = runWith(t, map[string]string{"PERSISTENCE_MODULE": "sqlite", "SQLITE_DBNAME": path,
		"DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db"}, "up")
	require.Equal(t, 0, code)
	require.Contains(t, out, "applied 1 "+files[0].name)
}

// The commands other than up refuse a missing file, naming it and
// creating nothing; every command refuses a file that is not an SQLite
// database, naming it.
func TestSQLiteBadFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	for _, command := range [][]string{{"status"}, {"version"}, {"down-to", "0"}} {
		code, stdout, stderr := runWith(t, map[string]string{"SQLITE_DBNAME": missing}, command...)
		require.Equal(t, 1, code, command)
		require.Empty(t, stdout, command)
		require.Contains(t, stderr, `sqlite database "`+missing+`"`, command)
		require.Contains(t, stderr, "no such file", command)
		require.Contains(t, stderr, "migrate up creates it", command)
		require.NoFileExists(t, missing, command)
	}

	notes := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte(strings.Repeat("these are notes, not an SQLite database. ", 10)), 0o644))
	for _, command := range [][]string{{"up"}, {"status"}, {"version"}, {"down-to", "0"}} {
		code, stdout, stderr := runWith(t, map[string]string{"SQLITE_DBNAME": notes}, command...)
		require.Equal(t, 1, code, command)
		require.Empty(t, stdout, command)
		require.Contains(t, stderr, `sqlite database "`+notes+`"`, command)
		require.Contains(t, stderr, "not a database", command)
	}

	for _, memory := range []string{":memory:", "file:x?mode=memory&cache=shared"} {
		code, _, stderr := runWith(t, map[string]string{"SQLITE_DBNAME": memory}, "up")
		require.Equal(t, 1, code, memory)
		require.Contains(t, stderr, `SQLITE_DBNAME "`+memory+`"`, memory)
		require.Contains(t, stderr, "in-memory", memory)
	}
}

// SQLite and PostgreSQL both named, with no PERSISTENCE_MODULE to say
// which, is refused, naming both; --schema is refused on SQLite, and
// PERSISTENCE_MODULE=sqlite needs SQLITE_DBNAME.
func TestSQLiteConfigurationErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	code, stdout, stderr := runWith(t, map[string]string{"SQLITE_DBNAME": path, "DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db"}, "up")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "DATABASE_URL")
	require.Contains(t, stderr, "SQLITE_DBNAME")
	require.Contains(t, stderr, "PERSISTENCE_MODULE")
	require.NotContains(t, stderr, "secret")
	require.NoFileExists(t, path)

	code, _, stderr = runWith(t, map[string]string{"SQLITE_DBNAME": path}, "--schema", "worlds", "up")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--schema applies to PostgreSQL")
	require.NoFileExists(t, path)

	code, _, stderr = runWith(t, map[string]string{"PERSISTENCE_MODULE": "sqlite"}, "up")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "SQLITE_DBNAME")
}
