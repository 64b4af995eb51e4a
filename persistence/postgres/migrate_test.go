package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/sql/migrations"
)

// migrateTestTables are the tables the migrations create.
var migrateTestTables = []string{"stored_events", "snapshots", "tracking"}

// migrateTestVersions returns the versions of the migration files, in order.
func migrateTestVersions(t *testing.T) []int64 {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	var versions []int64
	for _, name := range names { // fs.Glob sorts, and the names are zero-padded
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		require.NoError(t, err, name)
		versions = append(versions, v)
	}
	return versions
}

func newMigrator(t *testing.T, schema string) *postgres.Migrator {
	t.Helper()
	m, err := postgres.NewMigrator(postgres.Config{ConnString: pgtest.ServerURL(t), Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

func migrateTestConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), pgtest.ServerURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// migrateTestObjects returns which of the migrations' tables exist in
// schema, and whether the stored_events_insert function does.
func migrateTestObjects(t *testing.T, conn *pgx.Conn, schema string) (tables []string, function bool) {
	t.Helper()
	ctx := t.Context()
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY table_name`, schema, migrateTestTables)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND p.proname = 'stored_events_insert')`, schema).Scan(&function)
	require.NoError(t, err)
	return tables, function
}

func assertMigrated(t *testing.T, conn *pgx.Conn, schema string) {
	t.Helper()
	tables, function := migrateTestObjects(t, conn, schema)
	require.ElementsMatch(t, migrateTestTables, tables, "tables in %s", schema)
	require.True(t, function, "function stored_events_insert in %s", schema)
}

func assertNotMigrated(t *testing.T, conn *pgx.Conn, schema string) {
	t.Helper()
	tables, function := migrateTestObjects(t, conn, schema)
	require.Empty(t, tables, "tables in %s", schema)
	require.False(t, function, "function stored_events_insert in %s", schema)
}

// migrateTestApplied counts the rows of the version table recording version.
func migrateTestApplied(t *testing.T, conn *pgx.Conn, schema string, version int64) int {
	t.Helper()
	var n int
	table := pgx.Identifier{schema, postgres.VersionTable}.Sanitize()
	require.NoError(t, conn.QueryRow(t.Context(),
		"SELECT count(*) FROM "+table+" WHERE version_id = $1 AND is_applied", version).Scan(&n))
	return n
}

func TestMigratorRoundTrip(t *testing.T) {
	ctx := t.Context()
	versions := migrateTestVersions(t)
	latest := versions[len(versions)-1]
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)
	m := newMigrator(t, schema)

	res, err := m.Up(ctx)
	require.NoError(t, err)
	require.Len(t, res, len(versions))
	for i, r := range res {
		require.Equal(t, versions[i], r.Source.Version)
	}
	v, err := m.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, latest, v)
	assertMigrated(t, conn, schema)

	st, err := m.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st, len(versions))
	for _, s := range st {
		require.Equal(t, goose.StateApplied, s.State, "version %d", s.Source.Version)
		require.False(t, s.AppliedAt.IsZero(), "version %d", s.Source.Version)
	}

	res, err = m.DownTo(ctx, 0)
	require.NoError(t, err)
	require.Len(t, res, len(versions))
	v, err = m.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(0), v)
	assertNotMigrated(t, conn, schema)
	st, err = m.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		require.Equal(t, goose.StatePending, s.State, "version %d", s.Source.Version)
	}

	var applied []int64
	for {
		r, err := m.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			break
		}
		require.NoError(t, err)
		applied = append(applied, r.Source.Version)
		require.LessOrEqual(t, len(applied), len(versions), "UpByOne never ran out of versions")
	}
	require.Equal(t, versions, applied)
	v, err = m.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, latest, v)
	assertMigrated(t, conn, schema)
}

func TestMigratorUpTwiceIsNoOp(t *testing.T) {
	ctx := t.Context()
	versions := migrateTestVersions(t)
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)

	_, err := newMigrator(t, schema).Up(ctx)
	require.NoError(t, err)
	// A second Migrator as well as the same one: neither finds work.
	for _, m := range []*postgres.Migrator{newMigrator(t, schema), newMigrator(t, schema)} {
		res, err := m.Up(ctx)
		require.NoError(t, err)
		require.Empty(t, res)
	}
	m := newMigrator(t, schema)
	_, err = m.Up(ctx)
	require.NoError(t, err)
	res, err := m.Up(ctx)
	require.NoError(t, err)
	require.Empty(t, res)

	for _, v := range versions {
		require.Equal(t, 1, migrateTestApplied(t, conn, schema, v), "rows for version %d", v)
	}
	assertMigrated(t, conn, schema)
}

func TestMigratorConcurrentUp(t *testing.T) {
	// Two migrators race on a new schema: both succeed, and the migrations
	// are applied once. The race (on CREATE SCHEMA, on the version table,
	// on the lock) goes one way or another from run to run, so several new
	// schemas are raced for at once.
	versions := migrateTestVersions(t)
	conn := migrateTestConn(t)
	var mu sync.Mutex // guards conn, shared by the parallel subtests
	for round := range 8 {
		t.Run(fmt.Sprintf("round_%d", round), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			schema := pgtest.NewSchemaName(t)
			migrators := []*postgres.Migrator{newMigrator(t, schema), newMigrator(t, schema)}
			results := make([][]*postgres.MigrationResult, len(migrators))
			errs := make([]error, len(migrators))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, m := range migrators {
				wg.Go(func() {
					<-start
					results[i], errs[i] = m.Up(ctx)
				})
			}
			close(start)
			wg.Wait()

			total := 0
			for i := range migrators {
				require.NoError(t, errs[i], "migrator %d", i)
				total += len(results[i])
			}
			require.Equal(t, len(versions), total, "migrations applied by both migrators together")
			mu.Lock()
			defer mu.Unlock()
			for _, v := range versions {
				require.Equal(t, 1, migrateTestApplied(t, conn, schema, v), "rows for version %d", v)
			}
			assertMigrated(t, conn, schema)
		})
	}
}

func TestMigratorVersionTable(t *testing.T) {
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)

	_, err := newMigrator(t, schema).Up(ctx)
	require.NoError(t, err)

	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables
		WHERE table_schema = $1 AND table_name = $2)`, schema, postgres.VersionTable).Scan(&exists))
	require.True(t, exists, "%s.%s exists", schema, postgres.VersionTable)

	rows, err := conn.Query(ctx, `SELECT table_schema FROM information_schema.tables
		WHERE table_name = 'goose_db_version' AND table_schema IN ($1, 'public')`, schema)
	require.NoError(t, err)
	gooseTables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Empty(t, gooseTables, "schemas with a goose_db_version table")
}

func TestNewMigratorRejectsInvalidSchema(t *testing.T) {
	for _, schema := range []string{
		"", "Bad-Name", "1abc", "UPPER", "a b", "a;drop", `"quoted"`, "ünicode",
		strings.Repeat("a", 64),
	} {
		m, err := postgres.NewMigrator(postgres.Config{ConnString: "postgres://u:secret@127.0.0.1:1/db", Schema: schema})
		if err == nil {
			m.Close()
		}
		require.Error(t, err, "schema %q", schema)
		require.Nil(t, m)
		var cfgErr *config.Error
		require.ErrorAs(t, err, &cfgErr, "schema %q", schema)
		require.Equal(t, postgres.EnvSchema, cfgErr.Var)
		require.Equal(t, schema, cfgErr.Value)
		require.ErrorIs(t, err, config.ErrInvalid)
	}

	m, err := postgres.NewMigrator(postgres.Config{ConnString: "postgres://u:secret@127.0.0.1:1/db", Schema: strings.Repeat("a", 63)})
	require.NoError(t, err, "a 63-byte name is valid")
	require.NoError(t, m.Close())
}

// A Migrator whose first call failed (the schema did not exist yet) can
// still migrate.
func TestMigratorUsableAfterAFailedCall(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := postgres.Config{ConnString: pgtest.ServerURL(t), Schema: pgtest.NewSchemaName(t)}
	m, err := postgres.NewMigrator(cfg)
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Status(ctx)
	require.ErrorIs(t, err, persistence.ErrProgramming, "no schema yet")
	_, err = m.Up(ctx)
	require.NoError(t, err)
	v, err := m.Version(ctx)
	require.NoError(t, err)
	versions := migrateTestVersions(t)
	require.Equal(t, versions[len(versions)-1], v)
}

// Rolling back the migration that drops the tables is refused while one
// of them holds rows, before anything is rolled back; rolling back the
// later migrations is not; DownToForce drops them.
func TestMigratorDownRefusesToDropRecords(t *testing.T) {
	t.Parallel()
	versions := migrateTestVersions(t)
	latest := versions[len(versions)-1]
	for _, table := range migrateTestTables {
		t.Run(table, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			schema := pgtest.NewSchemaName(t)
			conn := migrateTestConn(t)
			m := newMigrator(t, schema)
			_, err := m.Up(ctx)
			require.NoError(t, err)
			row := map[string]string{
				"stored_events": "(originator_id, originator_version, topic, state) VALUES (gen_random_uuid(), 1, 't', '')",
				"snapshots":     "VALUES (gen_random_uuid(), 1, 't', '')",
				"tracking":      "VALUES ('upstream', 1), ('upstream', 2)",
			}[table]
			_, err = conn.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, table}.Sanitize()+" "+row)
			require.NoError(t, err)

			res, err := m.DownTo(ctx, 0)
			require.ErrorIs(t, err, postgres.ErrWouldDropEvents)
			require.Empty(t, res)
			require.Contains(t, err.Error(), table)
			require.Contains(t, err.Error(), "DownToForce")
			if table == "tracking" {
				require.Contains(t, err.Error(), "2 rows")
			} else {
				require.Contains(t, err.Error(), "1 row")
			}
			v, err := m.Version(ctx)
			require.NoError(t, err)
			require.Equal(t, latest, v, "nothing rolled back")
			assertMigrated(t, conn, schema)

			_, err = m.DownTo(ctx, 1)
			require.NoError(t, err, "rolling back what drops no table")
			res, err = m.DownToForce(ctx, 0)
			require.NoError(t, err)
			require.Len(t, res, 1)
			assertNotMigrated(t, conn, schema)
		})
	}
}

// migrateTestCatalog describes the objects of schema, one line each:
// columns, indexes, constraints, and functions with their bodies, rights
// and settings.
func migrateTestCatalog(t *testing.T, conn *pgx.Conn, schema string) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), `
		SELECT format('column %s.%s %s %s %s %s', table_name, column_name, data_type, is_nullable, column_default, ordinal_position)
		  FROM information_schema.columns WHERE table_schema = $1
		UNION ALL
		SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = $1
		UNION ALL
		SELECT format('constraint %s %s', c.conname, pg_get_constraintdef(c.oid))
		  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1
		UNION ALL
		SELECT format('function %s(%s) definer=%s config=%s acl=%s body=%s', p.proname, pg_get_function_identity_arguments(p.oid),
		              p.prosecdef, p.proconfig, p.proacl, md5(p.prosrc))
		  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
		ORDER BY 1`, schema)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return lines
}

// upByOne applies the next n migrations of m.
func upByOne(t *testing.T, m *postgres.Migrator, n int) {
	t.Helper()
	for range n {
		_, err := m.UpByOne(t.Context())
		require.NoError(t, err)
	}
}

// migrateTestRole creates a role without login for a test of schema, and
// drops the schema and the role when the test ends.
func migrateTestRole(t *testing.T, conn *pgx.Conn, schema string) string {
	t.Helper()
	role := "r_" + schema
	_, err := conn.Exec(t.Context(), "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" NOLOGIN")
	require.NoError(t, err)
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})
	return role
}

// mayExecute reports whether role may execute procedure (qualified, with
// its argument types).
func mayExecute(t *testing.T, conn *pgx.Conn, role, procedure string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT has_function_privilege($1, $2, 'EXECUTE')", role, procedure).Scan(&ok))
	return ok
}

// procedureSecurity returns whether procedure (qualified, with its
// argument types) runs as SECURITY DEFINER, and its settings (proconfig,
// joined by ";").
func procedureSecurity(t *testing.T, conn *pgx.Conn, procedure string) (definer bool, config string) {
	t.Helper()
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT prosecdef, array_to_string(proconfig, ';') FROM pg_proc WHERE oid = $1::regprocedure",
		procedure).Scan(&definer, &config))
	return definer, config
}

// Rolling back 00005 restores the schema of 00004 exactly; it is refused
// while the partition tables hold rows.
func TestMigration00005DownRestores00004(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)
	m := newMigrator(t, schema)
	upByOne(t, m, 4)
	at4 := migrateTestCatalog(t, conn, schema)
	_, err := m.Up(ctx)
	require.NoError(t, err)
	require.NotEqual(t, at4, migrateTestCatalog(t, conn, schema))

	_, err = conn.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, "partition_positions"}.Sanitize()+" VALUES ('upstream', 0, 1)")
	require.NoError(t, err)
	_, err = m.DownTo(ctx, 4)
	require.ErrorIs(t, err, postgres.ErrWouldDropEvents)
	require.Contains(t, err.Error(), "partition_positions")

	_, err = m.DownToForce(ctx, 4)
	require.NoError(t, err)
	require.Equal(t, at4, migrateTestCatalog(t, conn, schema))
	_, err = m.Up(ctx)
	require.NoError(t, err, "up again")
}

// 00006 gives the new insert procedures to the roles that could execute
// the old ones. Rolling it back restores the schema of 00005 (but for
// those grants); it is refused while a metadata column holds values.
func TestMigration00006DownRestores00005(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)
	m := newMigrator(t, schema)
	upByOne(t, m, 5)
	at5 := migrateTestCatalog(t, conn, schema)
	role := migrateTestRole(t, conn, schema)
	_, err := conn.Exec(ctx, "GRANT EXECUTE ON FUNCTION "+pgx.Identifier{schema}.Sanitize()+
		".stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[]) TO "+pgx.Identifier{role}.Sanitize())
	require.NoError(t, err)

	_, err = m.UpByOne(ctx) // to 00006
	require.NoError(t, err)
	may := func(procedure string) bool {
		return mayExecute(t, conn, role, pgx.Identifier{schema}.Sanitize()+"."+procedure)
	}
	require.True(t, may("stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[], uuid[], uuid[], uuid[], bytea[], bytea[])"),
		"the grant carried over to the new procedure")
	require.False(t, may("stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[])"),
		"no grant where there was none")

	table := pgx.Identifier{schema, "stored_events"}.Sanitize()
	_, err = conn.Exec(ctx, "INSERT INTO "+table+" (originator_id, originator_version, topic, state, correlation_id) VALUES (gen_random_uuid(), 1, 't', '', gen_random_uuid())")
	require.NoError(t, err)
	_, err = m.DownTo(ctx, 5)
	require.ErrorIs(t, err, postgres.ErrWouldDropEvents)
	require.Contains(t, err.Error(), "stored_events.correlation_id: 1 row")
	v, err := m.Version(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 6, v, "nothing rolled back")

	_, err = conn.Exec(ctx, "UPDATE "+table+" SET correlation_id = NULL")
	require.NoError(t, err)
	_, err = m.DownTo(ctx, 5)
	require.NoError(t, err, "the event itself stays: no metadata is lost")
	require.Equal(t, at5, migrateTestCatalog(t, conn, schema))
	_, err = m.Up(ctx)
	require.NoError(t, err, "up again")
}

// Rolling back 00007 (the integrity functions) restores the schema of
// 00006 exactly; it drops no data, so nothing refuses it.
func TestMigration00007DownRestores00006(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)
	m := newMigrator(t, schema)
	upByOne(t, m, 6)
	at6 := migrateTestCatalog(t, conn, schema)
	_, err := m.UpByOne(ctx)
	require.NoError(t, err)
	require.NotEqual(t, at6, migrateTestCatalog(t, conn, schema))
	var hash []byte
	require.NoError(t, conn.QueryRow(ctx, "SELECT "+pgx.Identifier{schema}.Sanitize()+
		".stored_events_hash('', 1, gen_random_uuid(), 1, 't', '', NULL)").Scan(&hash))
	require.Len(t, hash, 33, "the functions work")
	rows, err := conn.Query(ctx, `SELECT p.proname, p.prosecdef, array_to_string(p.proconfig, ';') FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND (p.proname LIKE 'integrity%' OR p.proname LIKE '%verify%' OR p.proname = 'stored_events_hash')`, schema)
	require.NoError(t, err)
	functions := 0
	for rows.Next() {
		var name, config string
		var definer bool
		require.NoError(t, rows.Scan(&name, &definer, &config))
		require.False(t, definer, "%s is SECURITY INVOKER", name)
		require.Equal(t, "search_path="+schema+", pg_temp", config, "%s pins its search_path", name)
		functions++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 5, functions)

	_, err = m.DownTo(ctx, 6)
	require.NoError(t, err)
	require.Equal(t, at6, migrateTestCatalog(t, conn, schema))
	_, err = m.Up(ctx)
	require.NoError(t, err, "up again")
}

// 00008 replaces the insert procedure's body (one event without unnest):
// its owner, the roles that may execute it, SECURITY DEFINER and the
// pinned search_path stay. Rolling it back restores the schema of 00007
// exactly.
func TestMigration00008DownRestores00007(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)
	m := newMigrator(t, schema)
	upByOne(t, m, 7)
	role := migrateTestRole(t, conn, schema)
	const procedure = "stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[])"
	qualified := pgx.Identifier{schema}.Sanitize() + "." + procedure
	_, err := conn.Exec(ctx, "GRANT EXECUTE ON FUNCTION "+qualified+" TO "+pgx.Identifier{role}.Sanitize())
	require.NoError(t, err)
	at7 := migrateTestCatalog(t, conn, schema)

	_, err = m.UpByOne(ctx)
	require.NoError(t, err)
	require.NotEqual(t, at7, migrateTestCatalog(t, conn, schema))
	require.True(t, mayExecute(t, conn, role, qualified), "the grant stays")
	definer, config := procedureSecurity(t, conn, qualified)
	require.True(t, definer, "SECURITY DEFINER stays")
	require.Equal(t, "search_path="+schema+", pg_temp", config, "the search_path stays pinned")

	_, err = m.DownTo(ctx, 7)
	require.NoError(t, err)
	require.Equal(t, at7, migrateTestCatalog(t, conn, schema))
	_, err = m.Up(ctx)
	require.NoError(t, err, "up again")
}
