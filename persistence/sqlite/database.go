package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	_ "modernc.org/sqlite" // registers the driver "sqlite"

	"github.com/eventsourcing-go/eventsourcing/db/sqlitedb"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Database is an open SQLite database, shared by the recorders of one
// application. It is safe for concurrent use.
//
// A file database is put in WAL journal mode, so that readers proceed
// while a writer writes. An in-memory database (":memory:" and the
// "mode=memory" URIs) lives as long as a connection to it, and ":memory:"
// gives each connection a database of its own: a Database keeps one
// connection to an in-memory database, open until Close, and its reads and
// writes take turns on it.
type Database struct {
	name    string // Config.DBName, for errors
	db      *sql.DB
	queries *sqlitedb.Queries
	timeout time.Duration
	// writeLock serialises this process's writers, so that they queue
	// here rather than poll SQLite's lock; it is held for one write
	// transaction.
	writeLock chan struct{}
	// group records the saves of events without tracking records,
	// coalescing concurrent ones into one transaction.
	group  *groupCommit
	closed atomic.Bool
	// file is the database file's absolute path, and shared the name of
	// a shared in-memory database (see target); Exclusive keys its locks
	// by them.
	file, shared string
}

// Open opens the database cfg names, creating a file database that does
// not exist (unless cfg.MustExist is set), checks that it can be read (a
// file that is not an SQLite database fails here), and applies the
// migrations when cfg.CreateTable is set. Its errors name the database and
// wrap a persistence error kind: ErrProgramming for a bad Config, a
// missing directory, a file that is not a database or cannot be written,
// and, with cfg.MustExist, a missing file (also errors.Is(err,
// fs.ErrNotExist)) or an in-memory database; ErrOperational for a
// database locked past the lock timeout. The caller must Close the
// Database.
func Open(ctx context.Context, cfg Config) (*Database, error) {
	target, timeout, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	if cfg.MustExist {
		if err := target.exists(); err != nil {
			return nil, fmt.Errorf("open %s: %w", describe(cfg.DBName), err)
		}
	}
	sqlDB, err := sql.Open("sqlite", target.dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", describe(cfg.DBName), classify(err))
	}
	if target.memory {
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	}
	db := &Database{name: cfg.DBName, db: sqlDB, queries: sqlitedb.New(), timeout: timeout, writeLock: make(chan struct{}, 1),
		file: target.file, shared: target.shared}
	db.group = newGroupCommit(db)
	if err := db.check(ctx); err != nil {
		return nil, errors.Join(err, sqlDB.Close())
	}
	if cfg.CreateTable {
		m, err := NewMigrator(db)
		if err == nil {
			_, err = m.Up(ctx)
		}
		if err != nil {
			return nil, errors.Join(err, sqlDB.Close())
		}
	}
	return db, nil
}

// errInMemory is the cause of the error of Open with Config.MustExist for
// an in-memory database.
var errInMemory = errors.New("an in-memory database exists only in the process that opens it")

// exists returns nil if t is a file database whose file exists, and
// otherwise an error wrapping persistence.ErrProgramming (and, for a
// missing file, fs.ErrNotExist).
func (t target) exists() error {
	if t.file == "" {
		return &persistence.DatabaseError{Kind: persistence.ErrProgramming, Err: errInMemory}
	}
	info, err := os.Stat(t.file)
	switch {
	case err != nil:
		return &persistence.DatabaseError{Kind: persistence.ErrProgramming, Err: fmt.Errorf("no database file: %w", err)}
	case info.IsDir():
		return &persistence.DatabaseError{Kind: persistence.ErrProgramming, Err: fmt.Errorf("%s is a directory", t.file)}
	}
	return nil
}

// check reads the database's schema, which opens a connection (and puts a
// file database in WAL mode) and reads the file's header.
//
// A connection's first statements set the journal mode; two connections
// that switch a new file to WAL at once can deadlock on its locks, and
// SQLite then fails one with SQLITE_BUSY at once, without waiting in the
// busy handler: check tries again on SQLITE_BUSY, for up to the lock
// timeout (and fails at once on any other error).
func (d *Database) check(ctx context.Context) error {
	deadline := time.Now().Add(d.timeout)
	for {
		var n int64
		err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n)
		if err == nil {
			return nil
		}
		if !isBusy(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("open %s: %w", describe(d.name), classify(err))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Close waits for the operations in progress and closes the database's
// connections: an in-memory database is gone, unless another Database of
// the process shares it. Later operations return an error wrapping
// persistence.ErrConnection.
func (d *Database) Close() error {
	d.closed.Store(true)
	return d.db.Close()
}

// describe names a database in errors: `sqlite database "bank.db"`.
func describe(name string) string {
	return fmt.Sprintf("sqlite database %q", name)
}

// fail returns nil for a nil err, and otherwise err classified and named
// by op and the database: `record 1 event in sqlite database "x.db": …`.
func (d *Database) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if d.closed.Load() && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = &persistence.DatabaseError{Kind: persistence.ErrConnection, Err: err}
	}
	return fmt.Errorf("%s in %s: %w", op, describe(d.name), classify(err))
}

// errWriteLockTimeout is the cause of a write that waited for the other
// writers of this process for longer than the lock timeout.
var errWriteLockTimeout = errors.New("the process's other writers held the write lock for longer than the lock timeout")

// write runs fn in a BEGIN IMMEDIATE transaction, which it commits when fn
// returns nil and rolls back otherwise: all of fn's writes are recorded,
// or none. It waits up to the lock timeout for the other writers of this
// process, and then SQLite waits up to the lock timeout (busy_timeout) for
// those of other processes. Errors are named by op.
func (d *Database) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s in %s: %w", op, describe(d.name), err)
	}
	timer := time.NewTimer(d.timeout)
	defer timer.Stop()
	select {
	case d.writeLock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s in %s: %w", op, describe(d.name), ctx.Err())
	case <-timer.C:
		return d.fail(op, &persistence.DatabaseError{Kind: persistence.ErrOperational,
			Err: fmt.Errorf("%w (%s)", errWriteLockTimeout, d.timeout)})
	}
	defer func() { <-d.writeLock }()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return d.fail(op, err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(d.fail(op, err), ignoreDone(tx.Rollback()))
	}
	return d.fail(op, tx.Commit())
}

// ignoreDone drops the error of rolling back a transaction that database/sql
// rolled back already (when its context ended).
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// failRead is fail for the selects of rows: an error that neither SQLite,
// nor the context, nor the connection reported arose in converting a row
// (database/sql's Scan of a NULL or a value of the wrong type, which only a
// table other than the migrations' STRICT ones can hold), and wraps
// persistence.ErrData.
func (d *Database) failRead(op string, err error) error {
	var sqliteErr *sqlite.Error
	if err != nil && !d.closed.Load() && !errors.As(err, &sqliteErr) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, sql.ErrConnDone) && !errors.Is(err, driver.ErrBadConn) {
		err = &persistence.DatabaseError{Kind: persistence.ErrData, Err: fmt.Errorf("%w: %w", errCorruptRow, err)}
	}
	return d.fail(op, err)
}
