package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// classify is the one place that turns driver errors into persistence
// errors, by SQLite's result code: busy and locked (after the lock
// timeout) are ErrOperational, a file that is not a database or cannot be
// opened or written is ErrProgramming, and so on (see kindOf). Persistence
// errors, and the context's errors, are passed through. The unique keys'
// violations are turned into conflicts by the inserts, which know the row.
func classify(err error) error {
	var sqliteErr *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, persistence.ErrPersistence), errors.Is(err, persistence.ErrPartitionCount):
		return err
	case errors.As(err, &sqliteErr):
		return &persistence.DatabaseError{Kind: kindOf(sqliteErr.Code()), Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn):
		return &persistence.DatabaseError{Kind: persistence.ErrConnection, Err: err}
	default:
		return &persistence.DatabaseError{Kind: persistence.ErrDatabase, Err: err}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (the database is
// locked by another connection).
func isBusy(err error) bool {
	var sqliteErr *sqlite.Error
	return errors.As(err, &sqliteErr) && sqliteErr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// kindOf classifies an SQLite result code (primary or extended) as the
// Python library's sqlite3 module and the Postgres mapping would.
func kindOf(code int) error {
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_SCHEMA, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_ABORT:
		return persistence.ErrOperational
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM,
		sqlite3.SQLITE_AUTH, sqlite3.SQLITE_ERROR, sqlite3.SQLITE_RANGE, sqlite3.SQLITE_MISUSE:
		// The setup is wrong: a missing directory, a file that is not a
		// database or cannot be written, a missing table.
		return persistence.ErrProgramming
	case sqlite3.SQLITE_CONSTRAINT:
		if code == sqlite3.SQLITE_CONSTRAINT_DATATYPE {
			return persistence.ErrData
		}
		return persistence.ErrIntegrity
	case sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG:
		return persistence.ErrData
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_INTERNAL:
		return persistence.ErrInternal
	case sqlite3.SQLITE_NOLFS:
		return persistence.ErrNotSupported
	}
	return persistence.ErrDatabase
}

// isKeyViolation reports whether err is the violation of a unique key or
// primary key.
func isKeyViolation(err error) bool {
	var sqliteErr *sqlite.Error
	return errors.As(err, &sqliteErr) &&
		(sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// recordOp names a write for its errors, as the other recorders do:
// `record 2 events`, or `record 1 event with tracking`. noun is what is
// recorded (event, snapshot).
func recordOp(noun string, n int, tracking bool) string {
	op := fmt.Sprintf("record %d %ss", n, noun)
	if n == 1 {
		op = "record 1 " + noun
	}
	if tracking {
		op += " with tracking"
	}
	return op
}
