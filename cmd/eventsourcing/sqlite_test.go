package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// statusOf runs status with the arguments args and the variables vars,
// and returns the exit status, the output's lines with their fields
// joined by one space, and the errors.
func statusOf(t *testing.T, vars map[string]string, args ...string) (code int, lines []string, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), append([]string{"status"}, args...), config.Environment{Values: vars, Lookup: noEnv}, time.Now, &out, &errOut)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line != "" {
			lines = append(lines, strings.Join(strings.Fields(line), " "))
		}
	}
	return code, lines, errOut.String()
}

// On SQLite, status reads the followers' files (the arguments, or
// SQLITE_DBNAME) and each upstream's in <NAME>_SQLITE_DBNAME: a follower
// that is behind, with its lag and the age of the oldest notification
// left, and an upstream without a file of its own.
func TestSQLiteStatus(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	worldsFile, countersFile := filepath.Join(dir, "worlds.db"), filepath.Join(dir, "counters.db")
	env := map[string]string{"PERSISTENCE_MODULE": "sqlite", "WORLDS_SQLITE_DBNAME": worldsFile, "COUNTERS_SQLITE_DBNAME": countersFile}
	newApp := func(name string, opts app.Options) *app.Application {
		opts.Name, opts.Env, opts.Lookup = name, env, noEnv
		a, err := app.New(ctx, opts)
		require.NoError(t, err)
		t.Cleanup(a.Close)
		return a
	}
	leader := newApp(counters.WorldsName, app.Options{Registry: worlds.NewRegistry()})
	_, err := counters.MakeWorlds(ctx, leader, 3) // 9 notifications
	require.NoError(t, err)
	stopAt := int64(6)
	policy := func(ctx context.Context, p *system.ProcessApplication, e domain.Event, pe *system.ProcessEvent) error {
		if pe.Tracking.NotificationID == stopAt {
			return errors.New("stopped")
		}
		return counters.Policy(ctx, p, e, pe)
	}
	follower := system.NewProcessApplication(newApp(counters.CountersName, app.Options{Registry: counters.NewRegistry()}), policy)
	follower.Follow(leader)
	_, err = follower.PullAndProcess(ctx, counters.WorldsName)
	require.Error(t, err)
	_, err = follower.SaveTracked(ctx, persistence.Tracking{ApplicationName: "Elsewhere", NotificationID: 42}, nil)
	require.NoError(t, err)

	sixth, err := leader.Log().ReadNotifications(ctx, stopAt, 1)
	require.NoError(t, err)
	at, err := leader.Mapper().Timestamp(sixth[0].StoredEvent)
	require.NoError(t, err)
	now := func() time.Time { return at.Add(1500 * time.Millisecond) }
	want := []string{
		"DATABASE UPSTREAM UPSTREAM DATABASE TRACKED HEAD BEHIND AGE",
		countersFile + " Elsewhere - 42 - - -",
		countersFile + " Worlds " + worldsFile + " 5 9 4 1.5s",
	}
	upstream := map[string]string{"WORLDS_SQLITE_DBNAME": worldsFile}
	for name, tc := range map[string]struct {
		vars map[string]string
		args []string
	}{
		"file arguments": {upstream, []string{worldsFile, countersFile}}, // Worlds tracks nothing: no line
		"SQLITE_DBNAME":  {map[string]string{"SQLITE_DBNAME": countersFile, "WORLDS_SQLITE_DBNAME": worldsFile}, nil},
		"PERSISTENCE_MODULE=sqlite, DATABASE_URL ignored": {map[string]string{"PERSISTENCE_MODULE": "sqlite", "DATABASE_URL": "postgres://u@127.0.0.1:1/db",
			"SQLITE_DBNAME": countersFile, "WORLDS_SQLITE_DBNAME": worldsFile}, nil},
	} {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"status"}, tc.args...), config.Environment{Values: tc.vars, Lookup: noEnv}, now, &out, &errOut)
		require.Equal(t, 0, code, "%s: %s", name, errOut.String())
		var lines []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			lines = append(lines, strings.Join(strings.Fields(line), " "))
		}
		require.Equal(t, want, lines, name)
	}

	// Without the upstream's own variable, its head is unknown (the plain
	// SQLITE_DBNAME names the follower's file, not the upstream's).
	code, lines, stderr := statusOf(t, map[string]string{"SQLITE_DBNAME": countersFile})
	require.Equal(t, 0, code, stderr)
	require.Equal(t, countersFile+" Worlds - 5 - - -", lines[2])

	// Caught up: nothing behind.
	follower = system.NewProcessApplication(follower.Application, counters.Policy)
	follower.Follow(leader)
	_, err = follower.PullAndProcess(ctx, counters.WorldsName)
	require.NoError(t, err)
	code, lines, stderr = statusOf(t, upstream, countersFile)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, countersFile+" Worlds "+worldsFile+" 9 9 0 0s", lines[2])
}

// status on SQLite reports, for a follower whose instances divide the
// upstream log in partitions, the lowest of the partitions' positions.
func TestSQLiteStatusOfDividedFollower(t *testing.T) {
	ctx := t.Context()
	file := filepath.Join(t.TempDir(), "counters.db")
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: file, CreateTable: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	rec := sqlite.NewRecorder(d)
	tracked := func(id int64, partition int) persistence.Tracking {
		return persistence.Tracking{ApplicationName: counters.WorldsName, NotificationID: id, Partition: partition}
	}
	_, err = rec.InsertTrackedPage(ctx, nil, []persistence.Tracking{tracked(1, 0), tracked(2, 0)})
	require.NoError(t, err)
	_, err = rec.ClaimPartitions(ctx, uuid.New(), 3, time.Minute) // every partition starts at 2
	require.NoError(t, err)
	_, err = rec.InsertTrackedPage(ctx, nil, []persistence.Tracking{tracked(3, 0), tracked(4, 1), tracked(6, 1), tracked(5, 2)})
	require.NoError(t, err)
	require.NoError(t, rec.AdvancePartitions(ctx, counters.WorldsName, []int{0}, 7))
	// Partition 0 is at 7, 1 at 6, 2 at 5.
	code, lines, stderr := statusOf(t, nil, file)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, file+" Worlds - 5 - - -", lines[1])
}

// A follower's file or an upstream's that does not exist, or is not an
// SQLite database with an event store, is an error naming it, and no file
// is created; both SQLite and PostgreSQL configured, with no
// PERSISTENCE_MODULE to say which, is an error naming both.
func TestSQLiteStatusErrors(t *testing.T) {
	dir := t.TempDir()
	missing, notes, empty := filepath.Join(dir, "missing.db"), filepath.Join(dir, "notes.txt"), filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(notes, []byte(strings.Repeat("these are notes, not an SQLite database. ", 10)), 0o644))
	d, err := sqlite.Open(t.Context(), sqlite.Config{DBName: empty}) // an SQLite database without the tables
	require.NoError(t, err)
	require.NoError(t, d.Close())

	for _, tc := range []struct {
		vars     map[string]string
		args     []string
		contains []string
	}{
		{nil, []string{missing}, []string{`sqlite database "` + missing + `"`, "no such file"}},
		{map[string]string{"SQLITE_DBNAME": missing}, nil, []string{`sqlite database "` + missing + `"`, "no such file"}},
		{nil, []string{notes}, []string{`sqlite database "` + notes + `"`, "not a database"}},
		{nil, []string{empty}, []string{`sqlite database "` + empty + `"`, "no such table"}},
		{nil, []string{":memory:"}, []string{`sqlite database ":memory:"`, "in-memory"}},
		{map[string]string{"SQLITE_DBNAME": "x.db", "DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db"}, nil,
			[]string{"DATABASE_URL", "SQLITE_DBNAME", "PERSISTENCE_MODULE"}},
		{map[string]string{"PERSISTENCE_MODULE": "sqlite"}, nil, []string{"SQLITE_DBNAME", "required"}},
	} {
		code, lines, stderr := statusOf(t, tc.vars, tc.args...)
		require.Equal(t, 1, code, "%v %v", tc.vars, tc.args)
		require.Empty(t, lines)
		for _, s := range tc.contains {
			require.Contains(t, stderr, s, "%v %v", tc.vars, tc.args)
		}
		require.NotContains(t, stderr, "secret")
	}
	require.NoFileExists(t, missing)
	require.NoFileExists(t, filepath.Join(dir, "x.db"))

	// An upstream's file that is missing.
	follower := filepath.Join(dir, "counters.db")
	d, err = sqlite.Open(t.Context(), sqlite.Config{DBName: follower, CreateTable: true})
	require.NoError(t, err)
	_, err = sqlite.NewRecorder(d).InsertTracked(t.Context(), nil, persistence.Tracking{ApplicationName: "Worlds", NotificationID: 1})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	code, _, stderr := statusOf(t, map[string]string{"WORLDS_SQLITE_DBNAME": missing}, follower)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "upstream Worlds of "+follower+" (WORLDS_SQLITE_DBNAME)")
	require.Contains(t, stderr, `sqlite database "`+missing+`"`)
	require.NoFileExists(t, missing)

	// Flags are not files.
	code, _, stderr = statusOf(t, nil, "--all")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "usage: eventsourcing status [FILE...]")
}

// serve serves the notification log of an application on an SQLite file
// that another application writes, and wakes a follower's wait when that
// application records events (the file is checked every
// app.SQLiteWatchInterval).
func TestServeSQLite(t *testing.T) {
	ctx := t.Context()
	file := filepath.Join(t.TempDir(), "worlds.db")
	env := map[string]string{"WORLDS_SQLITE_DBNAME": file,
		"NOTIFICATION_LOG_ADDR": "127.0.0.1:0", "WORLDS_NOTIFICATION_LOG_TOKEN": "secret"}
	leader, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	defer leader.Close()
	_, err = counters.MakeWorlds(ctx, leader, 3) // 9 notifications
	require.NoError(t, err)

	url, printed, stop := startServe(t, env)
	require.Contains(t, printed, "(sqlite:"+file+")")

	client, err := httplog.NewClient(url, httplog.ClientOptions{Token: "secret"})
	require.NoError(t, err)
	head, err := client.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 9, head)
	page, err := client.ReadNotifications(ctx, 1, 100)
	require.NoError(t, err)
	require.Len(t, page, 9)
	require.EqualValues(t, 9, page[8].ID)

	awake := watchWakes(t, client)
	awake() // once it has read the head
	_, err = counters.MakeWorlds(ctx, leader, 1)
	require.NoError(t, err)
	awake()
	head, err = client.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Greater(t, head, int64(9), "the new events are served")

	code, stderr := stop()
	require.Equal(t, 0, code, stderr)
}

// serve on SQLite refuses a file that does not exist (creating none) and
// an in-memory database, and with no database at all says what to set.
func TestServeSQLiteRefuses(t *testing.T) {
	serveWith := func(vars map[string]string) (int, string) {
		vars["NOTIFICATION_LOG_TOKEN"] = "secret"
		var errOut bytes.Buffer
		code := run(t.Context(), []string{"serve", "Worlds"}, config.Environment{Values: vars, Lookup: noEnv}, time.Now, io.Discard, &errOut)
		return code, errOut.String()
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	code, stderr := serveWith(map[string]string{"SQLITE_DBNAME": missing})
	require.Equal(t, 1, code)
	require.Contains(t, stderr, missing)
	require.NoFileExists(t, missing)

	code, stderr = serveWith(map[string]string{"SQLITE_DBNAME": ":memory:"})
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "memory")

	code, stderr = serveWith(map[string]string{})
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "SQLITE_DBNAME")
	require.Contains(t, stderr, "DATABASE_URL")
}
