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
	ctx := context.Background()
	conns := writers
	if shared {
		conns = 1
	}
	db := rawSQLite(b, conns)
	topic, state := sampleState(b)
	const insert = `INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)`
	one := func() error {
		tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insert, uuid.New().String(), int64(1), topic, state); err != nil {
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
	ctx := context.Background()
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
