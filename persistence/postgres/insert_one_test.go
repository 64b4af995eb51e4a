package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// The signatures of the two insert procedures a save without tracking in
// other partitions goes through.
const (
	insertOneProcedure    = "stored_events_insert_one(uuid, bigint, text, bytea, text, bigint, uuid, uuid, uuid, bytea, bytea)"
	insertManyProcedure   = "stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[])"
	insertOneBeforeLatest = 10 // the migration before 00011
)

// 00011 adds stored_events_insert_one as SECURITY DEFINER with a pinned
// search_path, which PUBLIC may not execute and every role that may
// execute stored_events_insert may; rolling it back restores the schema
// of 00010 exactly.
func TestMigration00011GrantsTheOneEventProcedure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)
	m := newMigrator(t, schema)
	upByOne(t, m, insertOneBeforeLatest)
	granted := migrateTestRole(t, conn, schema)
	other := "o_" + schema
	_, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{other}.Sanitize()+" NOLOGIN")
	require.NoError(t, err)
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{other}.Sanitize()) })
	q := pgx.Identifier{schema}.Sanitize() + "."
	_, err = conn.Exec(ctx, "GRANT EXECUTE ON FUNCTION "+q+insertManyProcedure+" TO "+pgx.Identifier{granted}.Sanitize())
	require.NoError(t, err)
	at10 := migrateTestCatalog(t, conn, schema)

	_, err = m.UpByOne(ctx)
	require.NoError(t, err)
	definer, config := procedureSecurity(t, conn, q+insertOneProcedure)
	require.True(t, definer, "SECURITY DEFINER")
	require.Equal(t, "search_path="+schema+", pg_temp", config, "search_path pinned")
	require.True(t, mayExecute(t, conn, granted, q+insertOneProcedure), "a role that may execute stored_events_insert")
	require.False(t, mayExecute(t, conn, other, q+insertOneProcedure), "any other role (PUBLIC)")

	_, err = m.DownTo(ctx, insertOneBeforeLatest)
	require.NoError(t, err)
	require.Equal(t, at10, migrateTestCatalog(t, conn, schema))
	_, err = m.Up(ctx)
	require.NoError(t, err, "up again")
}

// A save of one event (alone, with a tracking record, or in the caller's
// transaction) goes through stored_events_insert_one, and a save of more
// events through stored_events_insert: an application role that may
// execute only one of them records only those saves.
func TestOneEventSavesGoThroughTheOneEventProcedure(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s := newSecuredSchema(t, ctx)
	schema, roles, owner := s.schema, s.roles, s.owner
	pool, err := postgres.Open(ctx, postgres.Config{ConnString: roles.url(t, roles.app), Schema: schema, PoolSize: 2})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	rec := postgres.NewRecorder(pool)
	q := pgx.Identifier{schema}.Sanitize() + "."
	app := pgx.Identifier{roles.app}.Sanitize()
	events := func(n int) []persistence.StoredEvent {
		id := uuid.New()
		out := make([]persistence.StoredEvent, n)
		for i := range out {
			out[i] = persistence.StoredEvent{OriginatorID: id, OriginatorVersion: int64(i + 1), Topic: "t", State: []byte("{}")}
		}
		return out
	}
	var tracked int64
	// saves records events(n) in the four ways a save reaches PostgreSQL
	// and returns each way's error.
	saves := func(n int) map[string]error {
		tracked++
		return map[string]error{
			"alone": func() error { _, err := rec.InsertNotifications(ctx, events(n)); return err }(),
			"tracked": func() error {
				_, err := rec.InsertTracked(ctx, events(n), persistence.Tracking{ApplicationName: "up", NotificationID: tracked})
				return err
			}(),
			"in a page of one":            func() error { _, err := rec.InsertTrackedPage(ctx, events(n), nil); return err }(),
			"in the caller's transaction": pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { _, err := rec.InsertTx(ctx, tx, events(n)); return err }),
		}
	}
	requireAll := func(errs map[string]error, denied bool, what string) {
		t.Helper()
		for way, err := range errs {
			if denied {
				requireDenied(t, err, what+", "+way)
			} else {
				require.NoError(t, err, what+", "+way)
			}
		}
	}

	_, err = owner.Exec(ctx, "REVOKE EXECUTE ON FUNCTION "+q+insertManyProcedure+" FROM "+app)
	require.NoError(t, err)
	requireAll(saves(1), false, "one event, with stored_events_insert_one only")
	requireAll(saves(2), true, "two events, with stored_events_insert_one only")

	_, err = owner.Exec(ctx, "GRANT EXECUTE ON FUNCTION "+q+insertManyProcedure+" TO "+app+"; REVOKE EXECUTE ON FUNCTION "+q+insertOneProcedure+" FROM "+app)
	require.NoError(t, err)
	requireAll(saves(1), true, "one event, with stored_events_insert only")
	requireAll(saves(2), false, "two events, with stored_events_insert only")
}
