package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// securityGrants are the statements of docs/security.md that the owner
// role runs after `migrate up`, with the names of the doc: the test checks
// that the doc holds them verbatim and runs them with its own names.
const securityGrants = `GRANT USAGE ON SCHEMA app_schema TO es_app, es_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA app_schema TO es_app, es_reader;
GRANT INSERT ON app_schema.snapshots TO es_app;
GRANT EXECUTE ON FUNCTION
    app_schema.stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[]),
    app_schema.stored_events_insert_one(uuid, bigint, text, bytea, text, bigint, uuid, uuid, uuid, bytea, bytea),
    app_schema.stored_events_insert_batch(uuid[], bigint[], text[], bytea[], integer[], uuid[], uuid[], uuid[], bytea[], bytea[]),
    app_schema.stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[], uuid[], uuid[], uuid[], bytea[], bytea[]),
    app_schema.partition_leases_claim(uuid, integer, interval),
    app_schema.partition_leases_release(uuid),
    app_schema.partition_positions_advance(text, integer[], bigint)
    TO es_app;`

// securitySchemaSetup is what a superuser (or the database owner) runs
// first, with the names of docs/security.md.
const securitySchemaSetup = `CREATE SCHEMA app_schema AUTHORIZATION es_owner;`

// securityRoles holds the unique names of one test's roles, which it
// drops at cleanup (roles belong to the whole cluster).
type securityRoles struct {
	owner, app, reader, password string
}

func newSecurityRoles(t *testing.T, super *pgx.Conn, schema string) securityRoles {
	t.Helper()
	ctx := t.Context()
	suffix := securityRandomHex(t)
	r := securityRoles{owner: "es_owner_" + suffix, app: "es_app_" + suffix, reader: "es_reader_" + suffix, password: securityRandomHex(t)}
	for _, role := range []string{r.owner, r.app, r.reader} {
		// The password is hex: safe to quote as a literal.
		_, err := super.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '"+r.password+"'")
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, pgtest.ServerURL(t))
		if err != nil {
			t.Logf("dropping roles: %v", err)
			return
		}
		defer conn.Close(ctx)
		roles := pgx.Identifier{r.owner}.Sanitize() + ", " + pgx.Identifier{r.app}.Sanitize() + ", " + pgx.Identifier{r.reader}.Sanitize()
		for _, stmt := range []string{
			"DROP SCHEMA IF EXISTS " + pgx.Identifier{schema}.Sanitize() + " CASCADE",
			"DROP OWNED BY " + roles + " CASCADE",
			"DROP ROLE IF EXISTS " + roles,
		} {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				t.Logf("%s: %v", stmt, err)
			}
		}
	})
	return r
}

// sql returns the statements s of docs/security.md with this test's names.
func (r securityRoles) sql(s, schema string) string {
	return strings.NewReplacer(
		"app_schema", pgx.Identifier{schema}.Sanitize(),
		"es_owner", pgx.Identifier{r.owner}.Sanitize(),
		"es_app", pgx.Identifier{r.app}.Sanitize(),
		"es_reader", pgx.Identifier{r.reader}.Sanitize(),
	).Replace(s)
}

// url returns the server URL with role and the roles' password.
func (r securityRoles) url(t *testing.T, role string) string {
	t.Helper()
	u, err := url.Parse(pgtest.ServerURL(t))
	require.NoError(t, err)
	u.User = url.UserPassword(role, r.password)
	return u.String()
}

func securityRandomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// requireDenied requires err to be PostgreSQL's insufficient_privilege.
func requireDenied(t *testing.T, err error, what string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, "%s: want permission denied", what)
	require.Equal(t, "42501", pgErr.Code, "%s: %v", what, err)
}

// securedSchema is an event store set up as docs/security.md sets it
// up: the schema made by the superuser for the owner role, migrated by
// the owner, which then runs the grants.
type securedSchema struct {
	schema       string
	roles        securityRoles
	super, owner *pgx.Conn
}

func newSecuredSchema(t *testing.T, ctx context.Context) securedSchema {
	t.Helper()
	s := securedSchema{schema: pgtest.NewSchemaName(t)}
	var err error
	s.super, err = pgx.Connect(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.super.Close(context.Background()) })
	s.roles = newSecurityRoles(t, s.super, s.schema)

	// The superuser makes the schema for the owner, which needs no CREATE
	// on the database then, migrates it and grants.
	_, err = s.super.Exec(ctx, s.roles.sql(securitySchemaSetup, s.schema))
	require.NoError(t, err)
	m, err := postgres.NewMigrator(postgres.Config{ConnString: s.roles.url(t, s.roles.owner), Schema: s.schema})
	require.NoError(t, err)
	_, err = m.Up(ctx)
	require.NoError(t, err, "migrate up as the owner")
	require.NoError(t, m.Close())
	s.owner, err = pgx.Connect(ctx, s.roles.url(t, s.roles.owner))
	require.NoError(t, err)
	t.Cleanup(func() { s.owner.Close(context.Background()) })
	_, err = s.owner.Exec(ctx, s.roles.sql(securityGrants, s.schema))
	require.NoError(t, err, "grants")
	return s
}

// The statements that TestLeastPrivilegeRoles runs are the ones
// docs/security.md gives (its indentation aside).
func TestSecurityDocHoldsTheTestedStatements(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/security.md")
	require.NoError(t, err)
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	require.Contains(t, words(string(doc)), words(securitySchemaSetup))
	require.Contains(t, words(string(doc)), words(securityGrants))
}

// With the roles of docs/security.md, the application role opens the
// store (with CREATE_TABLE=false, and =true when nothing is pending),
// records, reads, tracks (in partitions too), claims and releases
// partitions, snapshots and listens, but cannot rewrite, wipe or lock the
// event store, nor write leases or positions but through the procedures;
// the read-only role reads (partition positions too) and cannot record or
// claim.
func TestLeastPrivilegeRoles(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s := newSecuredSchema(t, ctx)
	schema, roles, super := s.schema, s.roles, s.super

	open := func(t *testing.T, role string, createTable bool) *pgxpool.Pool {
		t.Helper()
		pool, err := postgres.Open(ctx, postgres.Config{ConnString: roles.url(t, role), Schema: schema, PoolSize: 4, CreateTable: createTable})
		require.NoError(t, err, "open as %s with CreateTable=%v", role, createTable)
		t.Cleanup(pool.Close)
		return pool
	}
	event := func(version int64) persistence.StoredEvent {
		return persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: version, Topic: "t", State: []byte("{}")}
	}

	t.Run("application", func(t *testing.T) {
		open(t, roles.app, true) // nothing pending: no DDL needed
		pool := open(t, roles.app, false)
		rec := postgres.NewRecorder(pool)
		listener, err := postgres.Listen(ctx, pool, schema)
		require.NoError(t, err)
		t.Cleanup(func() { listener.Close(context.Background()) })

		// The group commit path, the single path, and the caller's transaction.
		e1 := event(1)
		ids, err := rec.InsertNotifications(ctx, []persistence.StoredEvent{e1})
		require.NoError(t, err, "save (group commit)")
		require.Len(t, ids, 1)
		_, err = rec.InsertTracked(ctx, []persistence.StoredEvent{event(1)}, persistence.Tracking{ApplicationName: "upstream", NotificationID: 7})
		require.NoError(t, err, "save with tracking (single path)")
		_, err = rec.InsertTrackedPage(ctx, nil, []persistence.Tracking{{ApplicationName: "upstream", NotificationID: 5}, {ApplicationName: "upstream", NotificationID: 6}})
		require.NoError(t, err, "save a tracked page")
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := rec.InsertTx(ctx, tx, []persistence.StoredEvent{event(1)})
			return err
		})
		require.NoError(t, err, "save in the caller's transaction")

		waitCtx, waitCancel := context.WithTimeout(ctx, 10*time.Second)
		channel, _, err := listener.Wait(waitCtx)
		waitCancel()
		require.NoError(t, err, "notification")
		require.Equal(t, schema, channel)

		got, err := rec.SelectEvents(ctx, e1.OriginatorID, persistence.EventQuery{})
		require.NoError(t, err)
		require.Len(t, got, 1)
		notes, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
		require.NoError(t, err)
		require.Len(t, notes, 3)
		maxID, err := rec.MaxNotificationID(ctx)
		require.NoError(t, err)
		require.Equal(t, notes[2].ID, maxID)
		tracked, err := rec.MaxTrackingID(ctx, "upstream")
		require.NoError(t, err)
		require.Equal(t, int64(7), tracked)
		has, err := rec.HasTrackingID(ctx, "upstream", 7)
		require.NoError(t, err)
		require.True(t, has)

		// Partitions: claim, track in a partition, advance, read, release.
		instance := uuid.New()
		held, err := rec.ClaimPartitions(ctx, instance, 2, time.Minute)
		require.NoError(t, err, "claim partitions")
		require.Equal(t, []int{0, 1}, held)
		_, err = rec.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "upstream", NotificationID: 11, Partition: 1})
		require.NoError(t, err, "track in a partition")
		require.NoError(t, rec.AdvancePartitions(ctx, "upstream", []int{0}, 12), "advance partitions")
		positions, err := rec.PartitionPositions(ctx, "upstream", 2)
		require.NoError(t, err)
		require.Equal(t, []int64{12, 11}, positions)
		require.NoError(t, rec.ReleasePartitions(ctx, instance), "release partitions")

		snaps := postgres.NewSnapshotRecorder(pool)
		require.NoError(t, snaps.InsertEvents(ctx, []persistence.StoredEvent{e1}), "snapshot")
		gotSnaps, err := snaps.SelectEvents(ctx, e1.OriginatorID, persistence.EventQuery{})
		require.NoError(t, err)
		require.Len(t, gotSnaps, 1)

		for _, stmt := range []string{
			"UPDATE stored_events SET topic = 'forged'",
			"DELETE FROM stored_events",
			"TRUNCATE stored_events",
			"INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (gen_random_uuid(), 1, 't', '')",
			"UPDATE tracking SET notification_id = 0",
			"DELETE FROM tracking",
			"INSERT INTO tracking VALUES ('upstream', 8)",
			"UPDATE snapshots SET topic = 'forged'",
			"DELETE FROM snapshots",
			"SELECT setval('stored_events_notification_id_seq', 1)",
			"DROP TABLE stored_events",
			"UPDATE tracking SET partition = 1",
			"UPDATE partition_leases SET owner = NULL",
			"DELETE FROM partition_leases",
			"INSERT INTO follower_instances VALUES (gen_random_uuid(), now())",
			"DELETE FROM follower_instances",
			"INSERT INTO partition_positions VALUES ('upstream', 0, 99)",
			"UPDATE partition_positions SET position = 99",
		} {
			_, err := pool.Exec(ctx, stmt)
			requireDenied(t, err, stmt)
		}
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "LOCK TABLE stored_events IN EXCLUSIVE MODE")
			return err
		})
		requireDenied(t, err, "LOCK TABLE stored_events IN EXCLUSIVE MODE")
	})

	t.Run("read-only", func(t *testing.T) {
		pool := open(t, roles.reader, false)
		open(t, roles.reader, true) // nothing pending
		rec := postgres.NewRecorder(pool)
		notes, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
		require.NoError(t, err)
		require.NotEmpty(t, notes)
		_, err = postgres.NewSnapshotRecorder(pool).SelectEvents(ctx, notes[0].OriginatorID, persistence.EventQuery{})
		require.NoError(t, err)
		count, err := rec.PartitionCount(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, count)
		positions, err := rec.PartitionPositions(ctx, "upstream", 2)
		require.NoError(t, err)
		require.Equal(t, []int64{12, 11}, positions)

		_, err = rec.InsertNotifications(ctx, []persistence.StoredEvent{event(1)})
		requireDenied(t, err, "save (group commit)")
		_, err = rec.InsertTracked(ctx, []persistence.StoredEvent{event(1)}, persistence.Tracking{ApplicationName: "upstream", NotificationID: 8})
		requireDenied(t, err, "save with tracking")
		_, err = rec.InsertTrackedPage(ctx, []persistence.StoredEvent{event(1)}, []persistence.Tracking{{ApplicationName: "upstream", NotificationID: 9}, {ApplicationName: "upstream", NotificationID: 10}})
		requireDenied(t, err, "save a tracked page")
		requireDenied(t, postgres.NewSnapshotRecorder(pool).InsertEvents(ctx, []persistence.StoredEvent{event(1)}), "snapshot")
		_, err = rec.ClaimPartitions(ctx, uuid.New(), 2, time.Minute)
		requireDenied(t, err, "claim partitions")
		requireDenied(t, rec.ReleasePartitions(ctx, uuid.New()), "release partitions")
		requireDenied(t, rec.AdvancePartitions(ctx, "upstream", []int{0}, 99), "advance partitions")
		for _, stmt := range []string{"DELETE FROM stored_events", "TRUNCATE stored_events", "DELETE FROM snapshots"} {
			_, err := pool.Exec(ctx, stmt)
			requireDenied(t, err, stmt)
		}
	})

	// Nothing the roles tried got through.
	var n int
	require.NoError(t, super.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "stored_events"}.Sanitize()+" WHERE topic = 'forged'").Scan(&n))
	require.Zero(t, n)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timed out")
	}
}

// Migration 00003 makes the insert procedures SECURITY DEFINER, with
// search_path pinned to the schema then pg_temp, and takes EXECUTE from
// PUBLIC; rolling it back restores both. The procedures of 00005 are made
// the same way.
func TestInsertProceduresRunAsOwner(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := testConfig(t)
	// A reserved word, which search_path must quote, in a database of its own.
	cfg.ConnString, cfg.Schema = pgtest.NewDatabaseURL(t), "order"
	pool := openPool(t, cfg)
	type procedure struct {
		Definer      bool
		Config       []string
		PublicCanRun bool
	}
	inspect := func() map[string]procedure {
		rows, err := pool.Query(ctx, `SELECT p.proname, p.prosecdef, coalesce(p.proconfig, '{}'),
			p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
			FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY p.proname`, cfg.Schema)
		require.NoError(t, err)
		got := map[string]procedure{}
		for rows.Next() {
			var name string
			var p procedure
			require.NoError(t, rows.Scan(&name, &p.Definer, &p.Config, &p.PublicCanRun))
			got[name] = p
		}
		require.NoError(t, rows.Err())
		return got
	}
	for _, name := range append(insertProcedures, "partition_leases_claim", "partition_leases_release", "partition_positions_advance") {
		want := procedure{Definer: true, Config: []string{`search_path="order", pg_temp`}, PublicCanRun: false}
		if name == "stored_events_insert_batch" {
			want.Config = append(want.Config, "enable_seqscan=off")
		}
		got := inspect()[name]
		require.ElementsMatch(t, want.Config, got.Config, name)
		require.Equal(t, want.Definer, got.Definer, name)
		require.Equal(t, want.PublicCanRun, got.PublicCanRun, name)
	}

	m, err := postgres.NewMigrator(postgres.Config{ConnString: cfg.ConnString, Schema: cfg.Schema})
	require.NoError(t, err)
	defer m.Close()
	_, err = m.DownTo(ctx, 2)
	require.NoError(t, err)
	for _, name := range insertProcedures[:2] { // 00004's procedure is gone at version 2
		got := inspect()[name]
		require.False(t, got.Definer, name)
		require.True(t, got.PublicCanRun, name)
		require.Contains(t, got.Config, `search_path="order"`, name, "as 00001 and 00002 set it")
	}
	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.True(t, inspect()["stored_events_insert"].Definer)
}
