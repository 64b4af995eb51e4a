package sqlite_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

func event(id uuid.UUID, version int64) persistence.StoredEvent {
	return persistence.StoredEvent{OriginatorID: id, OriginatorVersion: version, Topic: "t:E", State: []byte("s")}
}

// requireNotifications fails unless the database at path holds n
// notifications, read through a Database of its own.
func requireNotifications(t *testing.T, path string, n int) {
	t.Helper()
	d, err := sqlite.Open(t.Context(), sqlite.Config{DBName: path})
	require.NoError(t, err)
	defer d.Close()
	ns, err := sqlite.NewRecorder(d).SelectNotifications(t.Context(), persistence.NotificationQuery{Start: 1, Limit: 100})
	require.NoError(t, err)
	require.Len(t, ns, n)
}

// requireNamed fails unless err wraps kind and its message names the
// database.
func requireNamed(t *testing.T, err error, kind error, name string) {
	t.Helper()
	require.ErrorIs(t, err, kind)
	require.Contains(t, err.Error(), `sqlite database "`+name+`"`)
}

func TestFileThatIsNotADatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notes.txt")
	text := []byte("these are notes, not an SQLite database, and long enough to have a header of 100 bytes: " +
		"0123456789012345678901234567890123456789")
	require.NoError(t, os.WriteFile(path, text, 0o600))
	for _, createTable := range []bool{true, false} {
		_, err := sqlite.Open(t.Context(), sqlite.Config{DBName: path, CreateTable: createTable})
		requireNamed(t, err, persistence.ErrProgramming, path)
		require.True(t, persistence.NeedsAttention(err))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, text, got, "the file is left as it was")
	}
}

func TestMissingDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "missing")
	path := filepath.Join(dir, "events.db")
	_, err := sqlite.Open(t.Context(), sqlite.Config{DBName: path, CreateTable: true})
	requireNamed(t, err, persistence.ErrProgramming, path)
	require.NoDirExists(t, dir)
}

// readOnly makes path read-only: by its mode, and, as the mode does not
// bind root, by the immutable attribute when the test runs as root. When
// that fails it skips the test, or fails it when the CI environment
// variable is set (as internal/pgtest does), so that CI cannot pass
// without running it.
func readOnly(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.Chmod(path, mode))
	if os.Geteuid() != 0 {
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("running as root, and chattr +i %s failed (%v: %s): cannot make a file read-only (CI is set, so this is fatal)", path, err, out)
		}
		t.Skipf("running as root, and chattr +i %s failed (%v: %s): cannot make a file read-only", path, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("chattr", "-i", path).CombinedOutput(); err != nil {
			t.Errorf("chattr -i %s: %v: %s", path, err, out)
		}
	})
}

func TestReadOnlyFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d := open(t, sqlite.Config{DBName: path})
	_, err := sqlite.NewRecorder(d).InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	readOnly(t, path, 0o444)

	// The file is opened read-only: readers read, writers fail.
	d = open(t, sqlite.Config{DBName: path})
	r := sqlite.NewRecorder(d)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	requireNamed(t, err, persistence.ErrProgramming, path)
	require.True(t, persistence.NeedsAttention(err))
	ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ns, 1, "nothing more is recorded")
}

func TestReadOnlyDirectory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	readOnly(t, dir, 0o555)
	path := filepath.Join(dir, "events.db")
	_, err := sqlite.Open(ctx, sqlite.Config{DBName: path, CreateTable: true})
	requireNamed(t, err, persistence.ErrProgramming, path)
	require.NoFileExists(t, path)
}

// A database in a directory that became read-only cannot make its WAL
// files: it cannot be opened.
func TestReadOnlyDirectoryOfADatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	d := open(t, sqlite.Config{DBName: path})
	_, err := sqlite.NewRecorder(d).InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	readOnly(t, dir, 0o555)

	_, err = sqlite.Open(ctx, sqlite.Config{DBName: path})
	requireNamed(t, err, persistence.ErrProgramming, path)
}

// Two *sql.DB on one file, as two processes would have: the second writer
// waits for the first up to the lock timeout, and then fails with a
// retryable error naming the file, having recorded nothing.
func TestSecondWriterWaitsUpToTheLockTimeout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	first := open(t, sqlite.Config{DBName: path})
	const timeout = 300 * time.Millisecond
	second := open(t, sqlite.Config{DBName: path, LockTimeout: timeout})
	r := sqlite.NewRecorder(second)

	// The first holds the write lock, as a long write would.
	conn, err := sqlite.SQLDB(first).Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	start := time.Now()
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	waited := time.Since(start)
	requireNamed(t, err, persistence.ErrOperational, path)
	require.True(t, persistence.IsRetryable(err))
	require.False(t, persistence.NeedsAttention(err))
	require.GreaterOrEqual(t, waited, timeout)
	require.Less(t, waited, 10*timeout)

	// Released during the wait, the lock is taken and the write succeeds.
	committed := make(chan error, 1)
	go func() {
		time.Sleep(timeout / 3)
		_, err := conn.ExecContext(ctx, "COMMIT")
		committed <- err
	}()
	id := uuid.New()
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(id, 1)})
	require.NoError(t, err)
	require.NoError(t, <-committed)
	got, err := sqlite.NewRecorder(first).SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
	require.NoError(t, err)
	require.Len(t, got, 1, "the write that timed out recorded nothing")
	require.Equal(t, id, got[0].OriginatorID, "the first sees the second's write")
}

// A corrupt row, which the recorders cannot have written, is an ErrData
// naming the database and the row.
func TestCorruptRow(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d := open(t, sqlite.Config{DBName: path})
	r := sqlite.NewRecorder(d)
	_, err := sqlite.SQLDB(d).ExecContext(ctx,
		"INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES ('not-a-uuid', 1, 't', x'00')")
	require.NoError(t, err)
	_, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
	requireNamed(t, err, persistence.ErrData, path)
	require.Contains(t, err.Error(), "notification 1")
	require.False(t, persistence.IsRetryable(err))

	// An ID of the metadata that is not a UUID.
	id := uuid.New()
	_, err = sqlite.SQLDB(d).ExecContext(ctx,
		"INSERT INTO stored_events (originator_id, originator_version, topic, state, correlation_id) VALUES (?, 1, 't', x'00', 'nope')", id.String())
	require.NoError(t, err)
	_, err = r.SelectEvents(ctx, id, persistence.EventQuery{})
	requireNamed(t, err, persistence.ErrData, path)
	require.Contains(t, err.Error(), `the correlation ID "nope" is not a UUID`)

	// The STRICT, NOT NULL tables refuse a NULL or a wrongly typed state.
	for _, state := range []string{"NULL", "42", "'text'"} {
		_, err = sqlite.SQLDB(d).ExecContext(ctx,
			"INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, 2, 't', "+state+")", uuid.NewString())
		require.Error(t, err, state)
	}
}

// Tables made by another tool, without STRICT, may hold what the
// recorders would not write: reading such a row is an ErrData.
func TestCorruptRowInTablesNotStrict(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for name, values := range map[string]string{
		"null state":    "(?, 1, 't', NULL)",
		"integer state": "(?, 1, 't', 42)",
		"text version":  "(?, 'one', 't', x'00')",
		"null topic":    "(?, 1, NULL, x'00')",
		"text hash":     "(?, 1, 't', x'00', NULL, 'hash')",
		"integer id":    "(?, 1, 't', x'00', 7, NULL)",
	} {
		if strings.Count(values, ",") == 3 {
			values = strings.TrimSuffix(values, ")") + ", NULL, NULL)"
		}
		path := filepath.Join(t.TempDir(), "events.db")
		d, err := sqlite.Open(ctx, sqlite.Config{DBName: path})
		require.NoError(t, err)
		_, err = sqlite.SQLDB(d).ExecContext(ctx, `CREATE TABLE stored_events (notification_id INTEGER PRIMARY KEY,
			originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB,
			event_id TEXT, correlation_id TEXT, causation_id TEXT, trace_context BLOB, event_hash BLOB)`)
		require.NoError(t, err)
		id := uuid.New()
		_, err = sqlite.SQLDB(d).ExecContext(ctx, "INSERT INTO stored_events (originator_id, originator_version, topic, state, event_id, event_hash) VALUES "+values, id.String())
		require.NoError(t, err)
		r := sqlite.NewRecorder(d)
		_, err = r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
		requireNamed(t, err, persistence.ErrData, path)
		_, err = r.SelectEvents(ctx, id, persistence.EventQuery{})
		requireNamed(t, err, persistence.ErrData, path)
		require.NoError(t, d.Close(), name)
	}
}

// Conflicts are typed, name the write and the database, and record
// nothing.
func TestConflictsNameTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d := open(t, sqlite.Config{DBName: path})
	r := sqlite.NewRecorder(d)
	id := uuid.MustParse("7b2c1f0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b")
	tracking := persistence.Tracking{ApplicationName: "upstream", NotificationID: 7}
	_, err := r.InsertTracked(ctx, []persistence.StoredEvent{event(id, 1)}, tracking)
	require.NoError(t, err)

	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1), event(id, 1)})
	require.EqualError(t, err, `record 2 events in sqlite database "`+path+`": concurrency conflict: version 1 of 7b2c1f0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b is already recorded`)
	var conflict *persistence.ConcurrencyError
	require.ErrorAs(t, err, &conflict)
	require.ErrorIs(t, err, persistence.ErrIntegrity)

	_, err = r.InsertTracked(ctx, []persistence.StoredEvent{event(id, 2)}, tracking)
	require.EqualError(t, err, `record 1 event with tracking in sqlite database "`+path+`": tracking conflict: notification 7 of application "upstream" is already recorded`)
	var trackingConflict *persistence.TrackingConflictError
	require.ErrorAs(t, err, &trackingConflict)
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	require.False(t, persistence.IsRetryable(err))

	snapshots := sqlite.NewSnapshotRecorder(d)
	require.NoError(t, snapshots.InsertEvents(ctx, []persistence.StoredEvent{event(id, 1)}))
	err = snapshots.InsertEvents(ctx, []persistence.StoredEvent{event(id, 2), event(id, 1)})
	require.EqualError(t, err, `record 2 snapshots in sqlite database "`+path+`": concurrency conflict: version 1 of 7b2c1f0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b is already recorded`)
	got, err := snapshots.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)

	requireNotifications(t, path, 1)
}

// Without the tables (CreateTable not set on a new database), the
// recorders fail with an ErrProgramming naming the database.
func TestNoTables(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: path})
	require.NoError(t, err)
	defer d.Close()
	r := sqlite.NewRecorder(d)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{event(uuid.New(), 1)})
	requireNamed(t, err, persistence.ErrProgramming, path)
	_, err = r.MaxNotificationID(ctx)
	requireNamed(t, err, persistence.ErrProgramming, path)
}

// Open waits for the write lock to migrate a new file up to the lock
// timeout (and goose retries three times), then fails with a retryable error naming the file.
func TestOpenLockedPastTheTimeout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "events.db")
	first, err := sqlite.Open(ctx, sqlite.Config{DBName: path})
	require.NoError(t, err)
	defer first.Close()
	conn, err := sqlite.SQLDB(first).Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	_, err = sqlite.Open(ctx, sqlite.Config{DBName: path, LockTimeout: 100 * time.Millisecond, CreateTable: true})
	requireNamed(t, err, persistence.ErrOperational, path)
	require.True(t, persistence.IsRetryable(err))
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	open(t, sqlite.Config{DBName: path})
}

func TestPartitionArgumentsOutOfRange(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := sqlite.NewRecorder(open(t, sqlite.Config{DBName: ":memory:"}))
	_, err := r.ClaimPartitions(ctx, uuid.New(), 0, time.Minute)
	require.ErrorIs(t, err, persistence.ErrProgramming)
	_, err = r.ClaimPartitions(ctx, uuid.New(), 4, 0)
	require.ErrorIs(t, err, persistence.ErrProgramming)
	_, err = r.PartitionPositions(ctx, "upstream", -1)
	require.ErrorIs(t, err, persistence.ErrProgramming)
	count, err := r.PartitionCount(ctx)
	require.NoError(t, err)
	require.Zero(t, count, "nothing recorded")
}
