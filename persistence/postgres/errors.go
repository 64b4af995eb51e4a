package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// The constraints whose violation has a meaning of its own.
const (
	eventsKey    = "stored_events_pkey"
	snapshotsKey = "snapshots_pkey"
	trackingKey  = "tracking_pkey"
)

// mapError is the one place that turns driver errors into persistence
// errors: it classifies err (see classify) and names the operation, op,
// before it. tracking is the record being inserted, if any.
func mapError(op string, err error, tracking *persistence.Tracking) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, classify(err, tracking))
}

// classify turns a driver error into a persistence error, without naming
// the operation, for callers that name it once further out. Context
// cancellation is passed through, so errors.Is(err, context.Canceled)
// still holds, and so is an expired deadline, unless it ended an attempt
// to connect or a network operation (the driver's connect timeout, a
// server that accepts the connection and never answers): that is an
// ErrConnection that still wraps context.DeadlineExceeded. Callers tell
// their own expired context apart by ctx.Err().
func classify(err error, tracking *persistence.Tracking) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pgErr):
		return mapPgError(pgErr, tracking)
	case errors.Is(err, context.Canceled):
		return err
	case isConnectionError(err):
		return &persistence.DatabaseError{Kind: persistence.ErrConnection, Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return err
	case isConnectionFailure(err):
		return &persistence.DatabaseError{Kind: persistence.ErrConnection, Err: err}
	default:
		return &persistence.DatabaseError{Kind: persistence.ErrDatabase, Err: err}
	}
}

// recordOp names a write for its errors, once, at the outermost layer of
// this package: `record 2 events in schema "x"`, or `record 1 event with
// tracking in schema "x"` when a tracking record is written too (which one
// the caller knows, and a TrackingConflictError says). noun is what is
// recorded (event, snapshot); schema is the quoted search_path, if known.
func recordOp(noun string, n int, tracking bool, schema string) string {
	op := "record " + count(n, noun)
	if tracking {
		op += " with tracking"
	}
	if schema != "" {
		op += " in schema " + schema
	}
	return op
}

// count says n nouns in words: "1 event", "2 events", "0 events".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// isConnectionError reports a failed attempt to connect or a failed
// network operation, whatever its cause, a deadline included.
// context.DeadlineExceeded is itself a net.Error: alone, it is not one.
func isConnectionError(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || (errors.As(err, &netErr) && netErr != context.DeadlineExceeded)
}

// isConnectionFailure reports failures to reach the server or of the
// connection itself, as opposed to errors the server reported.
func isConnectionFailure(err error) bool {
	return isConnectionError(err) || errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.SafeToRetry(err)
}

// partitionCountCode is the SQLSTATE that partition_leases_claim raises
// when claimed with another partition count than the one recorded, with
// the DETAIL "recorded R, requested N" (migration 00005).
const partitionCountCode = "ZE001"

func mapPgError(pgErr *pgconn.PgError, tracking *persistence.Tracking) error {
	if pgErr.Code == partitionCountCode {
		e := &persistence.PartitionCountError{}
		if _, err := fmt.Sscanf(pgErr.Detail, "recorded %d, requested %d", &e.Recorded, &e.Requested); err != nil {
			return &persistence.DatabaseError{Kind: persistence.ErrDatabase, Code: pgErr.Code, Err: pgErr}
		}
		return e
	}
	if pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case eventsKey, snapshotsKey:
			id, version := conflictingKey(pgErr.Detail)
			return &persistence.ConcurrencyError{OriginatorID: id, Version: version, Err: pgErr}
		case trackingKey:
			e := &persistence.TrackingConflictError{Err: pgErr}
			if t, ok := conflictingTracking(pgErr.Detail); ok {
				e.Tracking = t
			} else if tracking != nil {
				e.Tracking = *tracking
			}
			return e
		}
	}
	return &persistence.DatabaseError{Kind: kindOf(pgErr.Code), Code: pgErr.Code, Err: pgErr}
}

// kindOf classifies a SQLSTATE by its class, as PEP 249 drivers do.
func kindOf(code string) error {
	if len(code) < 2 {
		return persistence.ErrDatabase
	}
	switch code[:2] {
	case "23":
		return persistence.ErrIntegrity
	case "22":
		return persistence.ErrData
	case "42", "2B", "2D", "3D", "3F":
		return persistence.ErrProgramming
	case "0A":
		return persistence.ErrNotSupported
	case "XX":
		return persistence.ErrInternal
	case "08", "25", "28", "40", "53", "54", "55", "57", "58", "HV":
		// 28: invalid authorization (a wrong password), as PEP 249
		// drivers classify it.
		return persistence.ErrOperational
	}
	return persistence.ErrDatabase
}

// conflictingKey reads the key of a unique violation on (originator_id,
// originator_version) from the server's detail message, which Postgres
// formats as "Key (originator_id, originator_version)=(<uuid>, <n>) already
// exists.". It is informational only: classification uses the SQLSTATE and
// constraint name. It returns zero values when the detail is absent.
func conflictingKey(detail string) (uuid.UUID, int64) {
	_, values, ok := strings.Cut(detail, ")=(")
	if !ok {
		return uuid.Nil, 0
	}
	values, _, _ = strings.Cut(values, ")")
	idText, versionText, ok := strings.Cut(values, ", ")
	if !ok {
		return uuid.Nil, 0
	}
	id, err := uuid.Parse(idText)
	if err != nil {
		return uuid.Nil, 0
	}
	var version int64
	if _, err := fmt.Sscan(versionText, &version); err != nil {
		return uuid.Nil, 0
	}
	return id, version
}

// conflictingTracking reads the key of a unique violation on
// (application_name, notification_id) from the server's detail message,
// "Key (application_name, notification_id)=(<name>, <n>) already
// exists.", so that a conflict in a page of tracking records names the one
// that conflicted. A name may hold ", ": the id follows the last one.
func conflictingTracking(detail string) (persistence.Tracking, bool) {
	_, values, ok := strings.Cut(detail, ")=(")
	if !ok {
		return persistence.Tracking{}, false
	}
	values, ok = strings.CutSuffix(values, ") already exists.")
	if !ok {
		return persistence.Tracking{}, false
	}
	i := strings.LastIndex(values, ", ")
	if i < 0 {
		return persistence.Tracking{}, false
	}
	var id int64
	if _, err := fmt.Sscan(values[i+2:], &id); err != nil {
		return persistence.Tracking{}, false
	}
	return persistence.Tracking{ApplicationName: values[:i], NotificationID: id}, true
}
