package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]sqlite.Config{
		"no name":              {},
		"negative timeout":     {DBName: ":memory:", LockTimeout: -1},
		"timeout below 1ms":    {DBName: ":memory:", LockTimeout: 1},
		"timeout beyond int32": {DBName: ":memory:", LockTimeout: (1 << 31) * 1e6},
		"bad URI query":        {DBName: "file:x?mode=%zz"},
	} {
		_, err := sqlite.Open(t.Context(), cfg)
		require.ErrorIs(t, err, persistence.ErrProgramming, name)
	}
}

// A file database is in WAL mode; an in-memory one has one connection.
func TestJournalModeAndConnections(t *testing.T) {
	t.Parallel()
	for name, dbName := range forms {
		d := open(t, sqlite.Config{DBName: dbName(t)})
		var mode string
		require.NoError(t, sqlite.SQLDB(d).QueryRow("PRAGMA journal_mode").Scan(&mode))
		if name == "File" {
			require.Equal(t, "wal", mode)
			require.Zero(t, sqlite.SQLDB(d).Stats().MaxOpenConnections, "no limit")
		} else {
			require.Equal(t, "memory", mode, name)
			require.Equal(t, 1, sqlite.SQLDB(d).Stats().MaxOpenConnections, name)
		}
	}
}

// A path is a file name, whatever it holds: '?', '#' and '%' included.
func TestPathIsAFileName(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a?b#c%20d.db")
	open(t, sqlite.Config{DBName: path})
	require.FileExists(t, path)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	for _, e := range entries {
		require.Contains(t, e.Name(), "a?b#c%20d.db")
	}
}

// A file keeps its events across opens, and two Databases on one file see
// each other's writes.
func TestFileIsDurable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	id := uuid.New()
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: path, CreateTable: true})
	require.NoError(t, err)
	_, err = sqlite.NewRecorder(d).InsertTracked(ctx, []persistence.StoredEvent{event(id, 1)}, persistence.Tracking{ApplicationName: "up", NotificationID: 3})
	require.NoError(t, err)
	require.NoError(t, d.Close())

	again := open(t, sqlite.Config{DBName: path}) // CreateTable again changes nothing
	r := sqlite.NewRecorder(again)
	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	max, err := r.MaxTrackingID(ctx, "up")
	require.NoError(t, err)
	require.Equal(t, int64(3), max)
}

// The in-memory database named by "file::memory:?mode=memory&cache=shared"
// is shared by the Databases of the process; a named one by those that
// name it, and by no others. Not parallel: no other test may use the
// process's one unnamed shared database.
func TestSharedInMemoryDatabases(t *testing.T) {
	ctx := t.Context()
	named := fmt.Sprintf("file:%s?mode=memory&cache=shared", uuid.NewString())
	for _, name := range []string{"file::memory:?mode=memory&cache=shared", named} {
		a, b := open(t, sqlite.Config{DBName: name}), open(t, sqlite.Config{DBName: name})
		_, err := sqlite.NewRecorder(a).InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
		require.NoError(t, err)
		max, err := sqlite.NewRecorder(b).MaxNotificationID(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(1), max, name)
	}
	other := open(t, sqlite.Config{DBName: fmt.Sprintf("file:%s?mode=memory&cache=shared", uuid.NewString())})
	max, err := sqlite.NewRecorder(other).MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Zero(t, max)
}

// A named in-memory database is gone when its last Database closes.
func TestNamedInMemoryGoneWhenClosed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	name := fmt.Sprintf("file:%s?mode=memory&cache=shared", uuid.NewString())
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: name, CreateTable: true})
	require.NoError(t, err)
	_, err = sqlite.NewRecorder(d).InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	max, err := sqlite.NewRecorder(open(t, sqlite.Config{DBName: name})).MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Zero(t, max)
}

// A "file:" URI that is not in memory names a file, in WAL mode.
func TestFileURI(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	d := open(t, sqlite.Config{DBName: "file:" + path + "?cache=private"})
	require.FileExists(t, path)
	var mode string
	require.NoError(t, sqlite.SQLDB(d).QueryRow("PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", mode)
}

// Writers on two Databases of one file, as two processes would be, and a
// reader on a third tailing the log: SQLite's write lock makes insert
// order commit order across them, so the reader misses nothing.
func TestTwoDatabasesOnOneFileTailingReader(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	writers := []*sqlite.Recorder{sqlite.NewRecorder(open(t, sqlite.Config{DBName: path})), sqlite.NewRecorder(open(t, sqlite.Config{DBName: path}))}
	reader := sqlite.NewRecorder(open(t, sqlite.Config{DBName: path}))
	var n atomic.Int64
	insert := func(ctx context.Context, events []persistence.StoredEvent) ([]int64, error) {
		return writers[n.Add(1)%2].InsertNotifications(ctx, events)
	}
	missed, acknowledged, err := recordertest.TailingReaderMisses(ctx, reader, insert, 6, 30)
	require.NoError(t, err)
	require.Positive(t, acknowledged)
	require.Empty(t, missed)
}

// A private in-memory database is gone when closed.
func TestMemoryIsPrivate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := open(t, sqlite.Config{DBName: ":memory:"}), open(t, sqlite.Config{DBName: ":memory:"})
	_, err := sqlite.NewRecorder(a).InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	require.NoError(t, err)
	max, err := sqlite.NewRecorder(b).MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Zero(t, max)
}

// After Close, operations fail with an ErrConnection.
func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: path, CreateTable: true})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	r := sqlite.NewRecorder(d)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	requireNamed(t, err, persistence.ErrConnection, path)
	_, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 1})
	requireNamed(t, err, persistence.ErrConnection, path)
}

// The ids of a rolled-back insert are given to the next insert: no reader
// saw them.
func TestNotificationIDsGaplessAfterRollback(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := sqlite.NewRecorder(open(t, sqlite.Config{DBName: filepath.Join(t.TempDir(), "events.db")}))
	id := uuid.New()
	_, err := r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 1)})
	require.NoError(t, err)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1), event(id, 1)})
	require.True(t, persistence.IsConflict(err))
	ids, err := r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 2), event(id, 3)})
	require.NoError(t, err)
	require.Equal(t, []int64{2, 3}, ids)
}

// Migrations go up, down to nothing, and up one at a time.
func TestMigrationsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: path})
	require.NoError(t, err)
	defer d.Close()
	m, err := sqlite.NewMigrator(d)
	require.NoError(t, err)
	v, err := m.Version(ctx)
	require.NoError(t, err)
	require.Zero(t, v)

	res, err := m.Up(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, res)
	r := sqlite.NewRecorder(d)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	require.NoError(t, err)
	res, err = m.Up(ctx)
	require.NoError(t, err)
	require.Empty(t, res, "nothing pending")

	st, err := m.Status(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	for _, s := range st {
		require.Equal(t, goose.StateApplied, s.State, s.Source.Path)
	}

	res, err = m.DownTo(ctx, 0)
	require.ErrorIs(t, err, sqlite.ErrWouldDropEvents)
	require.Contains(t, err.Error(), "stored_events: 1 row")
	require.Contains(t, err.Error(), path)
	require.Empty(t, res)
	v, err = m.Version(ctx)
	require.NoError(t, err)
	require.NotZero(t, v, "nothing rolled back")
	_, err = m.DownToForce(ctx, 0)
	require.NoError(t, err)
	v, err = m.Version(ctx)
	require.NoError(t, err)
	require.Zero(t, v)
	_, err = r.MaxNotificationID(ctx)
	requireNamed(t, err, persistence.ErrProgramming, path)
	var tables int
	require.NoError(t, sqlite.SQLDB(d).QueryRow("SELECT count(*) FROM sqlite_schema WHERE tbl_name <> ? AND name NOT LIKE 'sqlite_%'", sqlite.VersionTable).Scan(&tables))
	require.Zero(t, tables, "down drops every table and index")

	for {
		_, err := m.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			break
		}
		require.NoError(t, err)
	}
	latest, err := m.Version(ctx)
	require.NoError(t, err)
	require.Positive(t, latest)
	max, err := r.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Zero(t, max, "the tables are new")
}

// Processes that open a new file at once, each migrating it, all succeed:
// the first migrates and the others find it migrated.
func TestConcurrentFirstOpens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for range 2 {
		path := filepath.Join(t.TempDir(), "events.db")
		errs := make(chan error, 4)
		for range cap(errs) {
			go func() {
				d, err := sqlite.Open(ctx, sqlite.Config{DBName: path, CreateTable: true})
				if err == nil {
					_, err = sqlite.NewRecorder(d).MaxNotificationID(ctx)
					err = errors.Join(err, d.Close())
				}
				errs <- err
			}()
		}
		for range cap(errs) {
			require.NoError(t, <-errs)
		}
	}
}

// With Config.MustExist, Open refuses a missing file (naming it, and
// creating nothing) and an in-memory database, and opens a file that
// exists.
func TestOpenMustExist(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := sqlite.Open(ctx, sqlite.Config{DBName: path, MustExist: true})
	requireNamed(t, err, persistence.ErrProgramming, path)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoFileExists(t, path)
	_, err = sqlite.Open(ctx, sqlite.Config{DBName: "file:" + path + "?mode=rwc", MustExist: true})
	require.ErrorIs(t, err, fs.ErrNotExist)

	for _, name := range []string{":memory:", "file:x?mode=memory&cache=shared"} {
		_, err = sqlite.Open(ctx, sqlite.Config{DBName: name, MustExist: true})
		requireNamed(t, err, persistence.ErrProgramming, name)
	}

	open(t, sqlite.Config{DBName: path})
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: path, MustExist: true})
	require.NoError(t, err)
	require.NoError(t, d.Close())
}

// TrackingPositions lists each upstream tracked with its position: the
// largest tracked ID, or, once the log is divided in partitions, the
// lowest partition position.
func TestTrackingPositions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := sqlite.NewRecorder(open(t, sqlite.Config{DBName: filepath.Join(t.TempDir(), "events.db")}))
	got, err := r.TrackingPositions(ctx)
	require.NoError(t, err)
	require.Empty(t, got)

	for _, tr := range []persistence.Tracking{{ApplicationName: "Worlds", NotificationID: 3}, {ApplicationName: "Worlds", NotificationID: 7},
		{ApplicationName: "Elsewhere", NotificationID: 42}} {
		_, err := r.InsertTracked(ctx, nil, tr)
		require.NoError(t, err)
	}
	got, err = r.TrackingPositions(ctx)
	require.NoError(t, err)
	require.Equal(t, []sqlite.TrackingPosition{{Upstream: "Elsewhere", Tracked: 42}, {Upstream: "Worlds", Tracked: 7}}, got)

	_, err = r.ClaimPartitions(ctx, uuid.New(), 2, time.Minute) // positions start at the largest tracked ID
	require.NoError(t, err)
	require.NoError(t, r.AdvancePartitions(ctx, "Worlds", []int{0}, 9))
	got, err = r.TrackingPositions(ctx)
	require.NoError(t, err)
	require.Equal(t, []sqlite.TrackingPosition{{Upstream: "Elsewhere", Tracked: 42}, {Upstream: "Worlds", Tracked: 7}}, got, "partition 1 is at 7")
	require.NoError(t, r.AdvancePartitions(ctx, "Worlds", []int{1}, 8))
	got, err = r.TrackingPositions(ctx)
	require.NoError(t, err)
	require.Equal(t, []sqlite.TrackingPosition{{Upstream: "Elsewhere", Tracked: 42}, {Upstream: "Worlds", Tracked: 8}}, got)
}
