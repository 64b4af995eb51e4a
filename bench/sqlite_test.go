package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"

	_ "modernc.org/sqlite" // registers the driver "sqlite"
)

// sqliteDSNParams are the connection settings the SQLite module gives a
// file database (persistence/sqlite, Config.parse): the default lock
// timeout as busy_timeout, BEGIN IMMEDIATE for every transaction, WAL.
// synchronous is left at SQLite's default, as the module leaves it.
const sqliteDSNParams = "_busy_timeout=5000&_txlock=immediate&_journal_mode=WAL"

// benchRawSQLiteInsert is the SQLite ceiling of appends: single rows
// inserted into a table like the module's stored_events, in a fresh
// database file of its own, each row in its own transaction (BEGIN
// IMMEDIATE; INSERT; COMMIT) through database/sql and modernc.org/sqlite
// alone. Without shared, each writer has a connection of its own, and
// writers wait for SQLite's write lock in SQLite's busy handler, which
// sleeps and retries; with shared, the writers share one connection, on
// which database/sql queues them, so that none waits in the busy handler
// and the connection's page cache stays valid from one commit to the next.
func benchRawSQLiteInsert(b *testing.B, writers int, shared bool) {
	ctx := b.Context()
	conns := writers
	if shared {
		conns = 1
	}
	db := rawSQLite(b, conns)
	topic, state := sampleState(b)
	// The row a save records: its event and correlation IDs too.
	const insert = `INSERT INTO stored_events (originator_id, originator_version, topic, state, event_id, correlation_id)
		VALUES (?, ?, ?, ?, ?, ?)`
	one := func() error {
		tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insert, uuid.New().String(), int64(1), topic, state,
			uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	b.ResetTimer()
	err := parallel(b.N, writers, func(n int) error {
		for range n {
			if err := one(); err != nil {
				return err
			}
		}
		return nil
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	op := opRawSQLite
	if shared {
		op = opRawSQLiteShared
	}
	record(b, rowKey{op, storeSQLite, writers}, 1, perSecond("transactions"))
}

// rawSQLite opens a fresh database file in b's temporary directory with
// the module's connection settings, creates in it a table like the
// module's stored_events (sql/sqlite/migrations), limits its pool to conns
// connections and opens them, and, the first time, notes what SQLite
// is and how it is set.
func rawSQLite(b *testing.B, conns int) *sql.DB {
	b.Helper()
	ctx := b.Context()
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite", "file:"+path+"?"+sqliteDSNParams)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if _, err := db.ExecContext(ctx, `CREATE TABLE stored_events (
		notification_id    INTEGER NOT NULL PRIMARY KEY,
		originator_id      TEXT    NOT NULL,
		originator_version INTEGER NOT NULL,
		topic              TEXT    NOT NULL,
		state              BLOB    NOT NULL,
		event_id           TEXT,
		correlation_id     TEXT,
		causation_id       TEXT,
		trace_context      BLOB,
		event_hash         BLOB,
		CONSTRAINT stored_events_key UNIQUE (originator_id, originator_version)
	) STRICT`); err != nil {
		b.Fatal(err)
	}
	open := make([]*sql.Conn, 0, conns)
	for range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		open = append(open, c)
	}
	desc, err := describeSQLite(ctx, open[0], os.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range open {
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
	sqliteDescOnce.Do(func() {
		resultsMu.Lock()
		sqliteDesc = desc
		resultsMu.Unlock()
	})
	return db
}

var sqliteDescOnce sync.Once

// describeSQLite returns SQLite's version, the driver's, and the settings
// of conn, which has the module's connection settings.
func describeSQLite(ctx context.Context, conn *sql.Conn, dir string) (string, error) {
	var version, journal string
	var synchronous, busy int
	for _, q := range []struct {
		query string
		dest  any
	}{
		{"SELECT sqlite_version()", &version},
		{"PRAGMA journal_mode", &journal},
		{"PRAGMA synchronous", &synchronous},
		{"PRAGMA busy_timeout", &busy},
	} {
		if err := conn.QueryRowContext(ctx, q.query).Scan(q.dest); err != nil {
			return "", fmt.Errorf("describe sqlite: %s: %w", q.query, err)
		}
	}
	syncNames := []string{"OFF", "NORMAL", "FULL", "EXTRA"}
	syncName := fmt.Sprint(synchronous)
	if synchronous >= 0 && synchronous < len(syncNames) {
		syncName = syncNames[synchronous]
	}
	return fmt.Sprintf("SQLite %s (modernc.org/sqlite); journal_mode=%s, synchronous=%s (%d), busy_timeout=%d ms; files under %s",
		version, strings.ToUpper(journal), syncName, synchronous, busy, dir), nil
}

// The module's statements that select an aggregate's events and the
// notifications (db/sqlitedb, from sql/sqlite/queries/stored_events.sql).
const (
	sqliteStoredEventsSelect = `SELECT originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(event_id) IN ('text', 'null') AND typeof(correlation_id) IN ('text', 'null')
            AND typeof(causation_id) IN ('text', 'null') AND typeof(trace_context) IN ('blob', 'null')
            AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM stored_events
WHERE originator_id = ?1
  AND (CAST(?2 AS INTEGER) IS NULL OR originator_version > CAST(?2 AS INTEGER))
  AND (CAST(?3 AS INTEGER) IS NULL OR originator_version <= CAST(?3 AS INTEGER))
ORDER BY originator_version ASC
LIMIT ?4`
	sqliteNotificationsSelect = `SELECT notification_id, originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(event_id) IN ('text', 'null') AND typeof(correlation_id) IN ('text', 'null')
            AND typeof(causation_id) IN ('text', 'null') AND typeof(trace_context) IN ('blob', 'null')
            AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM stored_events
WHERE notification_id >= ?1
  AND (CAST(?2 AS INTEGER) IS NULL OR notification_id <= CAST(?2 AS INTEGER))
  AND (CAST(?3 AS TEXT) IS NULL
       OR topic IN (SELECT value FROM json_each(CAST(?3 AS TEXT))))
  AND (CAST(?5 AS TEXT) IS NULL OR correlation_id = CAST(?5 AS TEXT))
ORDER BY notification_id ASC
LIMIT ?4`
)

// sqliteRow is a row of the module's stored_events in plain Go values.
type sqliteRow struct {
	notificationID    int64
	originatorID      string
	originatorVersion int64
	topic             string
	state             []byte
	// The metadata columns: NULL or text, NULL or bytes.
	eventID, correlationID, causationID *string
	traceContext, eventHash             []byte
	wellTyped                           int64
}

// rawSQLiteReader opens the database file path with the module's
// connection settings through database/sql alone, closed after b.
func rawSQLiteReader(b *testing.B, path string) *sql.DB {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?"+sqliteDSNParams)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// benchRawGetSQLite measures the raw baseline of a get on SQLite:
// sqliteStoredEventsSelect of the 100 events of an aggregate saved by the
// library, with no bounds and no limit (as a get without a snapshot sends
// it), through database/sql alone on the application's file.
func benchRawGetSQLite(b *testing.B) {
	ctx := b.Context()
	a, env := newAppEnv(b, storeSQLite, app.Options{})
	it := savedItem(b, a, aggregateEvents)
	db := rawSQLiteReader(b, env["SQLITE_DBNAME"])
	id := it.ID().String()
	get := func() ([]sqliteRow, error) {
		rows, err := db.QueryContext(ctx, sqliteStoredEventsSelect, id, nil, nil, int64(-1))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var events []sqliteRow
		for rows.Next() {
			var e sqliteRow
			if err := rows.Scan(&e.originatorID, &e.originatorVersion, &e.topic, &e.state,
				&e.eventID, &e.correlationID, &e.causationID, &e.traceContext, &e.eventHash, &e.wellTyped); err != nil {
				return nil, err
			}
			events = append(events, e)
		}
		return events, rows.Err()
	}
	timeRawGets(b, storeSQLite, func() (int, error) {
		events, err := get()
		return len(events), err
	})
}

// rawSQLiteLogPage returns the page function of benchLog's raw baseline
// on SQLite: sqliteNotificationsSelect with no stop and no topics through
// database/sql alone on the database file path.
func rawSQLiteLogPage(b *testing.B, path string, sectionSize int) func(start int64) (int64, int, error) {
	b.Helper()
	ctx := b.Context()
	db := rawSQLiteReader(b, path)
	return func(start int64) (int64, int, error) {
		rows, err := db.QueryContext(ctx, sqliteNotificationsSelect, start, nil, nil, int64(sectionSize), nil)
		if err != nil {
			return 0, 0, err
		}
		defer rows.Close()
		var items []sqliteRow
		for rows.Next() {
			var n sqliteRow
			if err := rows.Scan(&n.notificationID, &n.originatorID, &n.originatorVersion, &n.topic, &n.state,
				&n.eventID, &n.correlationID, &n.causationID, &n.traceContext, &n.eventHash, &n.wellTyped); err != nil {
				return 0, 0, err
			}
			items = append(items, n)
		}
		if err := rows.Err(); err != nil || len(items) == 0 {
			return 0, 0, err
		}
		return items[len(items)-1].notificationID, len(items), nil
	}
}
