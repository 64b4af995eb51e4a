package app

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ErrAggregateNotFound is returned by Repository.Get and GetAt when no
// events are recorded for the ID, or the aggregate was discarded.
var ErrAggregateNotFound = errors.New("aggregate not found")

// AggregateNotFoundError names the aggregate that was not found. It
// matches ErrAggregateNotFound.
type AggregateNotFoundError struct {
	ID      uuid.UUID
	Version int64 // the version asked for; 0 for the latest
}

func (e *AggregateNotFoundError) Error() string {
	if e.Version > 0 {
		return fmt.Sprintf("aggregate %s not found at version %d", e.ID, e.Version)
	}
	return fmt.Sprintf("aggregate %s not found", e.ID)
}

// Unwrap returns ErrAggregateNotFound.
func (e *AggregateNotFoundError) Unwrap() error { return ErrAggregateNotFound }

// ErrSnapshottingDisabled is returned by TakeSnapshot when the application
// has no snapshot store: set IS_SNAPSHOTTING_ENABLED to a true value, or
// Options.SnapshottingEnabled or Options.SnapshottingIntervals.
var ErrSnapshottingDisabled = errors.New("snapshotting is not enabled: set IS_SNAPSHOTTING_ENABLED=y, or Options.SnapshottingEnabled or Options.SnapshottingIntervals")

// ErrSectionID is returned for a notification log section ID that is not
// of the form "first,last"; see NotificationLog.Section.
var ErrSectionID = errors.New("invalid section id")

// NotifyError is returned by Save and SaveTracked when the events were
// recorded but a function given to Application.OnRecorded failed afterwards, for
// example a downstream policy run by a single-threaded runner.
type NotifyError struct {
	IDs []int64 // the notification IDs of the recorded events
	Err error
}

func (e *NotifyError) Error() string {
	return fmt.Sprintf("events %v recorded, then an OnRecorded function failed: %v", e.IDs, e.Err)
}

// Unwrap returns the OnRecorded function's error.
func (e *NotifyError) Unwrap() error { return e.Err }
