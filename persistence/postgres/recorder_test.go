package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	recordertest.Run(t, func(t *testing.T) persistence.ProcessRecorder {
		return postgres.NewRecorder(openPool(t, testConfig(t)))
	})
}

func TestSnapshotConformance(t *testing.T) {
	t.Parallel()
	recordertest.RunSnapshots(t, func(t *testing.T) persistence.AggregateRecorder {
		return postgres.NewSnapshotRecorder(openPool(t, testConfig(t)))
	})
}

// Snapshots live apart from events, so a snapshot at version n does not
// occupy the position of event n.
func TestSnapshotsStoredApartFromEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := openPool(t, testConfig(t))
	events, snapshots := postgres.NewRecorder(pool), postgres.NewSnapshotRecorder(pool)
	id := uuid.New()
	e := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 1, Topic: "t:E", State: []byte("e")}
	s := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 1, Topic: "t:S", State: []byte("s")}
	require.NoError(t, events.InsertEvents(ctx, []persistence.StoredEvent{e}))
	require.NoError(t, snapshots.InsertEvents(ctx, []persistence.StoredEvent{s}))
	got, err := events.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Equal(t, []persistence.StoredEvent{e}, got)
	got, err = snapshots.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Equal(t, []persistence.StoredEvent{s}, got)
	max, err := events.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), max, "a snapshot is not a notification")
}

// Each application's schema has its own notification sequence.
func TestSchemasAreIndependent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := postgres.NewRecorder(openPool(t, testConfig(t)))
	b := postgres.NewRecorder(openPool(t, testConfig(t)))
	e := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("e")}
	idsA, err := a.InsertNotifications(ctx, []persistence.StoredEvent{e})
	require.NoError(t, err)
	idsB, err := b.InsertNotifications(ctx, []persistence.StoredEvent{e})
	require.NoError(t, err, "the same event may be recorded by another application")
	require.Equal(t, []int64{1}, idsA)
	require.Equal(t, []int64{1}, idsB)
}

// The insert procedure takes the EXCLUSIVE lock: a second writer waits for
// the first to commit, while readers are not blocked.
func TestInsertTakesExclusiveLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := openPool(t, testConfig(t))
	rec := postgres.NewRecorder(pool)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(context.WithoutCancel(ctx))
	first := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("1")}
	_, err = tx.Exec(ctx, "SELECT stored_events_insert(ARRAY[$1::uuid], ARRAY[1::bigint], ARRAY['t:E'], ARRAY['\\x31'::bytea], NULL, NULL, NULL, NULL, NULL, NULL, NULL)", first.OriginatorID)
	require.NoError(t, err)

	// A reader is not blocked by the open transaction holding the lock.
	readCtx, cancelRead := context.WithTimeout(ctx, 5*time.Second)
	defer cancelRead()
	max, err := rec.MaxNotificationID(readCtx)
	require.NoError(t, err)
	require.Zero(t, max, "uncommitted events are invisible")

	done := make(chan error, 1)
	go func() {
		_, err := rec.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("2")}})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("second writer did not wait for the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, <-done)
	ns, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ns, 2)
	require.Equal(t, first.OriginatorID, ns[0].OriginatorID, "the first committer has the lower id")
}

// With POSTGRES_LOCK_TIMEOUT set, a writer that cannot get the lock fails
// with an operational error and records nothing.
func TestLockTimeoutFailsInsertCleanly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := testConfig(t)
	cfg.LockTimeout = 200 * time.Millisecond
	pool := openPool(t, cfg)
	rec := postgres.NewRecorder(pool)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(context.WithoutCancel(ctx))
	_, err = tx.Exec(ctx, "LOCK TABLE stored_events IN EXCLUSIVE MODE")
	require.NoError(t, err)

	id := uuid.New()
	_, err = rec.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: id, OriginatorVersion: 1, Topic: "t:E", State: []byte("x")}})
	require.ErrorIs(t, err, persistence.ErrOperational)
	var dbErr *persistence.DatabaseError
	require.ErrorAs(t, err, &dbErr)
	require.Equal(t, "55P03", dbErr.Code)
	require.NoError(t, tx.Rollback(ctx))
	got, err := rec.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got)
}

// With POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT set, a session that
// stalls inside a transaction holding the lock is ended, releasing the lock.
func TestIdleInTransactionReleasesLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := testConfig(t)
	cfg.IdleInTransactionTimeout = time.Second
	pool := openPool(t, cfg)
	rec := postgres.NewRecorder(pool)

	conn, err := pgx.Connect(ctx, pool.Config().ConnConfig.ConnString())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, "SET idle_in_transaction_session_timeout = '1s'")
	require.NoError(t, err)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SET search_path = "+cfg.Schema+"; LOCK TABLE stored_events IN EXCLUSIVE MODE")
	require.NoError(t, err)
	// The stalled client does nothing more; the writer must get through.
	writeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ids, err := rec.InsertNotifications(writeCtx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("x")}})
	require.NoError(t, err)
	require.Len(t, ids, 1)
	err = tx.Commit(ctx)
	require.Error(t, err, "the stalled session was ended")
}

func TestMissingSchemaIsProgrammingError(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.CreateTable = false
	_, err := postgres.Open(t.Context(), cfg)
	require.ErrorIs(t, err, persistence.ErrProgramming)
	require.Contains(t, err.Error(), cfg.Schema)
	require.Contains(t, err.Error(), "migrate up")

	// Migrated by an older release (only the first migration): refused too.
	m, err := postgres.NewMigrator(cfg)
	require.NoError(t, err)
	defer m.Close()
	_, err = m.UpByOne(t.Context())
	require.NoError(t, err)
	_, err = postgres.Open(t.Context(), cfg)
	require.ErrorIs(t, err, persistence.ErrProgramming)

	// A table dropped behind the library's back is a programming error
	// when used, naming the SQLSTATE.
	_, err = m.Up(t.Context())
	require.NoError(t, err)
	pool := openPool(t, cfg)
	_, err = pool.Exec(t.Context(), "DROP TABLE tracking")
	require.NoError(t, err)
	_, err = postgres.NewRecorder(pool).MaxTrackingID(t.Context(), "x")
	require.ErrorIs(t, err, persistence.ErrProgramming)
	var dbErr *persistence.DatabaseError
	require.ErrorAs(t, err, &dbErr)
	require.Equal(t, "42P01", dbErr.Code, "undefined table")
}

func TestUnreachableServerIsConnectionFailure(t *testing.T) {
	t.Parallel()
	cfg := postgres.Config{ConnString: "postgres://nobody@127.0.0.1:1/none?sslmode=disable", Schema: "x", ConnectTimeout: 2 * time.Second}
	_, err := postgres.Open(t.Context(), cfg)
	require.ErrorIs(t, err, persistence.ErrConnection)
	require.False(t, errors.Is(err, persistence.ErrDatabase))
}

func TestMalformedConnStringIsConfigError(t *testing.T) {
	t.Parallel()
	cfg := postgres.Config{ConnString: "postgres://u:secret@host:notaport/db", Schema: "x"}
	_, err := postgres.Open(t.Context(), cfg)
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "DATABASE_URL", cfgErr.Var)
	require.NotContains(t, err.Error(), "secret")
}

// The insert procedure notifies listeners on the channel named after the
// schema, at commit, with the last notification id, so that followers in
// other processes can wake at once.
func TestInsertNotifiesListeners(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg := testConfig(t)
	rec := postgres.NewRecorder(openPool(t, cfg))

	listener, err := pgx.Connect(ctx, cfg.ConnString)
	require.NoError(t, err)
	t.Cleanup(func() { listener.Close(context.Background()) })
	_, err = listener.Exec(ctx, "LISTEN "+cfg.Schema)
	require.NoError(t, err)

	ids, err := rec.InsertNotifications(ctx, []persistence.StoredEvent{
		{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("1")},
		{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("2")},
	})
	require.NoError(t, err)
	n, err := listener.WaitForNotification(ctx)
	require.NoError(t, err)
	require.Equal(t, cfg.Schema, n.Channel)
	require.Equal(t, fmt.Sprint(ids[1]), n.Payload)

	// A failed insert notifies nobody: the next notification is the next
	// successful insert's.
	dup := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("d")}
	_, err = rec.InsertNotifications(ctx, []persistence.StoredEvent{dup, dup})
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	ids, err = rec.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte("3")}})
	require.NoError(t, err)
	n, err = listener.WaitForNotification(ctx)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(ids[0]), n.Payload)
}

// The insert procedure records one event without unnest (00008) only for
// arrays that unnest reads the same way; any other shape takes the general
// path, so every shape records what it recorded before: the element
// whatever its index or dimensions, NULL for a missing or nil metadata
// value, and nothing at all when a required value is missing.
func TestInsertProcedureArrayShapes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := openPool(t, testConfig(t))
	rec := postgres.NewRecorder(pool)
	const nilUUID = "00000000-0000-0000-0000-000000000000"
	for _, c := range []struct {
		name, ids, eventIDs, topics string
		wantEventID                 bool
		wantCode                    string
	}{
		{name: "one element", ids: "ARRAY[$1::uuid]", eventIDs: "ARRAY[$2::uuid]", topics: "ARRAY['t:E']", wantEventID: true},
		{name: "no metadata", ids: "ARRAY[$1::uuid]", eventIDs: "NULL", topics: "ARRAY['t:E']"},
		{name: "nil event id", ids: "ARRAY[$1::uuid]", eventIDs: "ARRAY['" + nilUUID + "'::uuid]", topics: "ARRAY['t:E']"},
		{name: "index 2", ids: "('[2:2]={' || $1::text || '}')::uuid[]", eventIDs: "ARRAY[$2::uuid]", topics: "ARRAY['t:E']", wantEventID: true},
		{name: "two dimensions", ids: "ARRAY[ARRAY[$1::uuid]]", eventIDs: "ARRAY[ARRAY[$2::uuid]]", topics: "ARRAY['t:E']", wantEventID: true},
		{name: "empty metadata", ids: "ARRAY[$1::uuid]", eventIDs: "'{}'::uuid[]", topics: "ARRAY['t:E']"},
		{name: "a topic too many", ids: "ARRAY[$1::uuid]", eventIDs: "ARRAY[$2::uuid]", topics: "ARRAY['t:E', 't:F']", wantCode: "23502"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, eventID := uuid.New(), uuid.New()
			before, err := rec.MaxNotificationID(ctx)
			require.NoError(t, err)
			args := []any{id}
			if strings.Contains(c.eventIDs, "$2") {
				args = append(args, eventID)
			}
			_, err = pool.Exec(ctx, "SELECT stored_events_insert("+c.ids+", ARRAY[1::bigint], "+c.topics+", ARRAY['\\x31'::bytea], NULL, NULL, "+
				c.eventIDs+", NULL, NULL, NULL, NULL)", args...)
			if c.wantCode != "" {
				var pgErr *pgconn.PgError
				require.ErrorAs(t, err, &pgErr)
				require.Equal(t, c.wantCode, pgErr.Code)
				after, err := rec.MaxNotificationID(ctx)
				require.NoError(t, err)
				require.Equal(t, before, after, "nothing recorded")
				return
			}
			require.NoError(t, err)
			got, err := rec.SelectEvents(ctx, id, persistence.EventQuery{})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, int64(1), got[0].OriginatorVersion)
			require.Equal(t, "t:E", got[0].Topic)
			require.Equal(t, []byte("1"), got[0].State)
			if c.wantEventID {
				require.Equal(t, eventID, got[0].EventID)
			} else {
				require.Equal(t, uuid.Nil, got[0].EventID)
			}
		})
	}
}
