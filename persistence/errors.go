package persistence

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// kind is a class of persistence error. Kinds form the hierarchy of the
// Python library (named after PEP 249): each kind unwraps to its parent, so
// errors.Is(err, ErrDatabase) holds for an integrity error.
type kind struct {
	name   string
	parent error
}

func (k *kind) Error() string { return k.name }
func (k *kind) Unwrap() error { return k.parent }

// The persistence error kinds. Recorders return errors that wrap exactly one
// of them (test with errors.Is), together with the driver's cause.
var (
	// ErrPersistence is the root of every error a recorder returns.
	ErrPersistence error = &kind{name: "persistence error"}
	// ErrConnection is returned when the database cannot be reached or the
	// connection to it failed (refused, reset, timed out while connecting,
	// a closed pool), rather than an error the database reported. It is
	// PEP 249's InterfaceError.
	ErrConnection error = &kind{name: "connection failure", parent: ErrPersistence}
	// ErrDatabase is the parent of errors reported by the database.
	ErrDatabase error = &kind{name: "database error", parent: ErrPersistence}
	// ErrData is returned for bad data values (SQLSTATE class 22).
	ErrData error = &kind{name: "data error", parent: ErrDatabase}
	// ErrOperational is returned for failures in the database's operation
	// that are not the caller's fault: lock or statement timeouts, an
	// ended session, a server shutting down, deadlocks (SQLSTATE classes
	// 08, 40, 53, 55, 57, 58), and a rejected login (class 28). Retrying
	// may succeed; see IsRetryable and NeedsAttention.
	ErrOperational error = &kind{name: "operational error", parent: ErrDatabase}
	// ErrIntegrity is returned when a write would break a uniqueness rule:
	// an (originator ID, version) or a tracking record already recorded.
	// See ConcurrencyError and TrackingConflictError.
	ErrIntegrity error = &kind{name: "integrity error", parent: ErrDatabase}
	// ErrInternal is returned for internal errors of the database (class XX).
	ErrInternal error = &kind{name: "internal error", parent: ErrDatabase}
	// ErrProgramming is returned when the program or its setup is wrong
	// rather than the data: errors in the SQL or the schema, such as a
	// missing table when migrations were not applied, or missing privileges
	// (class 42), a database or schema that does not exist (3D000, 3F000),
	// and invalid arguments, such as a notification query's limit of 0.
	// A retry succeeds only once someone fixes it; see NeedsAttention.
	ErrProgramming error = &kind{name: "programming error", parent: ErrDatabase}
	// ErrNotSupported is returned when the database lacks a feature (class 0A).
	ErrNotSupported error = &kind{name: "not supported error", parent: ErrDatabase}
)

// ErrInterface is the old name of ErrConnection, the same value, so that
// errors.Is(err, ErrInterface) still holds for connection failures.
//
// Deprecated: use ErrConnection. ErrInterface will be removed in the next
// release.
var ErrInterface = ErrConnection

// DatabaseError is an error reported by a database or its driver, classified
// by Kind (one of the Err… kinds above). Code is the SQLSTATE, if any.
type DatabaseError struct {
	Kind error
	Code string
	Err  error
}

func (e *DatabaseError) Error() string {
	cause := fmt.Sprint(e.Err)
	if e.Code != "" && !strings.Contains(cause, "SQLSTATE "+e.Code) {
		return fmt.Sprintf("%v (SQLSTATE %s): %s", e.Kind, e.Code, cause)
	}
	return fmt.Sprintf("%v: %s", e.Kind, cause)
}

// Unwrap returns the kind and the cause, so errors.Is and errors.As see both.
func (e *DatabaseError) Unwrap() []error { return []error{e.Kind, e.Err} }

// ConcurrencyError is returned when an event's (originator ID, version) is
// already recorded, or appears twice in one insert: another writer got there
// first (optimistic concurrency control). Nothing of the
// insert was recorded. It matches errors.Is(err, ErrIntegrity).
type ConcurrencyError struct {
	// OriginatorID and Version name the conflicting event when the
	// recorder knows it (zero values otherwise).
	OriginatorID uuid.UUID
	Version      int64
	// Err is the underlying cause, if any.
	Err error
}

func (e *ConcurrencyError) Error() string {
	if e.OriginatorID == uuid.Nil {
		return "concurrency conflict: an event's originator version is already recorded"
	}
	return fmt.Sprintf("concurrency conflict: version %d of %s is already recorded", e.Version, e.OriginatorID)
}

// Unwrap returns ErrIntegrity and the cause.
func (e *ConcurrencyError) Unwrap() []error { return []error{ErrIntegrity, e.Err} }

// TrackingConflictError is returned when a tracking record is already
// recorded: the upstream notification was processed before. Nothing of the
// insert was recorded. It matches errors.Is(err, ErrIntegrity).
type TrackingConflictError struct {
	Tracking Tracking
	Err      error
}

func (e *TrackingConflictError) Error() string {
	return fmt.Sprintf("tracking conflict: notification %d of application %q is already recorded",
		e.Tracking.NotificationID, e.Tracking.ApplicationName)
}

// Unwrap returns ErrIntegrity and the cause.
func (e *TrackingConflictError) Unwrap() []error { return []error{ErrIntegrity, e.Err} }

// ErrOutcomeUnknown is wrapped by the error of a save whose context ended
// while its events were being recorded: they may have been recorded (all
// of them) or not (none); read them back to know. The error also wraps the
// context's error.
var ErrOutcomeUnknown = errors.New("the outcome is unknown: the events may be recorded or not")

// IsConflict reports whether err is, or wraps, a *ConcurrencyError or a
// *TrackingConflictError: another writer got there first (the same
// aggregate version, or the same upstream notification, is already
// recorded), and nothing of the write was recorded. Reading again and
// deciding afresh is the cure; retrying the same write is not.
func IsConflict(err error) bool {
	var concurrency *ConcurrencyError
	var tracking *TrackingConflictError
	return errors.As(err, &concurrency) || errors.As(err, &tracking)
}

// IsRetryable reports whether retrying the operation that returned err may
// succeed: err is a persistence error about the database or reaching it
// (ErrConnection, ErrOperational, ErrProgramming, ErrInternal, or an
// unclassified ErrDatabase), as opposed to one about the data (ErrIntegrity,
// conflicts included, and ErrData) or a missing feature (ErrNotSupported),
// which the same write would meet again. It is false for errors that are
// not persistence errors, such as the caller's own context ending (a
// connect timeout inside the driver is an ErrConnection, and retryable).
// Some retryable errors need someone to act first; see NeedsAttention.
func IsRetryable(err error) bool {
	switch {
	case errors.Is(err, ErrIntegrity), errors.Is(err, ErrData), errors.Is(err, ErrNotSupported):
		return false
	}
	return errors.Is(err, ErrPersistence)
}

// NeedsAttention reports whether err needs someone to fix the configuration
// or the database before a retry can succeed: a rejected login (SQLSTATE
// class 28, an ErrOperational), or any ErrProgramming, such as a database
// that does not exist (3D000) or a schema without the event store. Such an
// error is worth logging loudly; a process that retries it should wait the
// longest delay.
func NeedsAttention(err error) bool {
	var dbErr *DatabaseError
	if errors.As(err, &dbErr) && strings.HasPrefix(dbErr.Code, "28") {
		return true
	}
	return errors.Is(err, ErrProgramming)
}
