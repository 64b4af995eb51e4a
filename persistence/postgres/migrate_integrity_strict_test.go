package postgres_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

// 00009 adds the strict verify functions beside those of 00007, which
// still answer as before: an event without a hash, alone in its
// aggregate, is a problem only strictly. The new functions are SECURITY
// INVOKER with a pinned search_path, and any role may execute them (as
// those of 00007). Rolling 00009 back restores the schema of 00008
// exactly; it drops no data, so nothing refuses it.
func TestMigration00009DownRestores00008(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := pgtest.NewSchemaName(t)
	conn := migrateTestConn(t)
	m := newMigrator(t, schema)
	upByOne(t, m, 8)
	role := migrateTestRole(t, conn, schema)
	at8 := migrateTestCatalog(t, conn, schema)
	_, err := m.UpByOne(ctx)
	require.NoError(t, err)
	require.NotEqual(t, at8, migrateTestCatalog(t, conn, schema))

	q := pgx.Identifier{schema}.Sanitize() + "."
	id := uuid.New()
	_, err = conn.Exec(ctx, "INSERT INTO "+q+"stored_events (originator_id, originator_version, topic, state) VALUES ($1, 1, 't', '')", id)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "INSERT INTO "+q+"snapshots (originator_id, originator_version, topic, state) VALUES ($1, 1, 't', '')", id)
	require.NoError(t, err)
	count := func(query string) (n int) {
		t.Helper()
		require.NoError(t, conn.QueryRow(ctx, query, id).Scan(&n), query)
		return n
	}
	require.Equal(t, 0, count("SELECT count(*) FROM "+q+"stored_events_verify('', $1)"), "00007's function, unchanged")
	require.Equal(t, 0, count("SELECT count(*) FROM "+q+"stored_events_verify('', $1, false)"))
	require.Equal(t, 2, count("SELECT count(*) FROM "+q+"stored_events_verify('', $1, true)"), "the event and the snapshot")
	require.Equal(t, 0, count("SELECT problems FROM "+q+"stored_events_verify_page('', NULL, 10) WHERE originator_id = $1"))
	require.Equal(t, 0, count("SELECT problems FROM "+q+"stored_events_verify_page('', NULL, 10, false) WHERE originator_id = $1"))
	require.Equal(t, 2, count("SELECT problems FROM "+q+"stored_events_verify_page('', NULL, 10, true) WHERE originator_id = $1"))

	for _, function := range []string{"stored_events_verify(bytea, uuid, boolean)", "stored_events_verify_page(bytea, uuid, integer, boolean)"} {
		definer, config := procedureSecurity(t, conn, q+function)
		require.False(t, definer, "%s is SECURITY INVOKER", function)
		require.Equal(t, "search_path="+schema+", pg_temp", config, "%s pins its search_path", function)
		require.True(t, mayExecute(t, conn, role, q+function), function)
	}

	_, err = m.DownTo(ctx, 8)
	require.NoError(t, err)
	require.Equal(t, at8, migrateTestCatalog(t, conn, schema))
	_, err = m.Up(ctx)
	require.NoError(t, err, "up again")
}
