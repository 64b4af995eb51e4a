package persistence

import (
	"context"

	"github.com/google/uuid"
)

// EventQuery selects events of one aggregate sequence. The zero value
// selects every event in ascending version order.
type EventQuery struct {
	// Gt, when not nil, selects versions strictly greater than *Gt.
	Gt *int64
	// Lte, when not nil, selects versions less than or equal to *Lte.
	Lte *int64
	// Desc returns the events in descending version order.
	Desc bool
	// Limit, when positive, returns at most Limit events, counted after
	// ordering (so Desc with Limit 1 is the latest event).
	Limit int
}

// NotificationQuery selects notifications from an application sequence.
type NotificationQuery struct {
	// Start is the lowest notification ID to return (inclusive).
	Start int64
	// Limit is the maximum number of notifications to return; it must be
	// positive.
	Limit int
	// Stop, when not nil, is the highest notification ID to return
	// (inclusive).
	Stop *int64
	// Topics, when not empty, returns only notifications with one of these
	// topics. The limit counts matching notifications.
	Topics []string
	// CorrelationID, when not the zero UUID, returns only notifications
	// with this correlation ID. The limit counts matching notifications.
	CorrelationID uuid.UUID
}

// AggregateRecorder records stored events in aggregate sequences
// . It is used for snapshots, and is the base of the
// other recorders. Implementations are safe for concurrent use.
type AggregateRecorder interface {
	// InsertEvents records all of events, or none of them. If any
	// (originator ID, version) is already recorded, or appears twice in
	// events, it returns a *ConcurrencyError (errors.Is ErrIntegrity) and
	// records nothing. Inserting no events does nothing.
	InsertEvents(ctx context.Context, events []StoredEvent) error
	// SelectEvents returns the events of one aggregate sequence chosen by
	// q. An unknown originator gives an empty result and no error.
	SelectEvents(ctx context.Context, originatorID uuid.UUID, q EventQuery) ([]StoredEvent, error)
}

// ApplicationRecorder records stored events in their aggregate sequence and
// in the application sequence, atomically.
type ApplicationRecorder interface {
	AggregateRecorder
	// InsertNotifications records events like InsertEvents and returns the
	// notification IDs given to them, in the order of events
	//. Insert order equals commit order: a reader that
	// has seen notification n will never later see a new notification
	// with an ID below n.
	InsertNotifications(ctx context.Context, events []StoredEvent) ([]int64, error)
	// SelectNotifications returns notifications chosen by q in ascending
	// ID order. IDs may have gaps; readers must tolerate them.
	SelectNotifications(ctx context.Context, q NotificationQuery) ([]Notification, error)
	// MaxNotificationID returns the largest notification ID, or 0 when the
	// application sequence is empty.
	MaxNotificationID(ctx context.Context) (int64, error)
}

// ProcessRecorder extends ApplicationRecorder with tracking records, which
// are recorded atomically with the events that processing the tracked
// notification produced.
type ProcessRecorder interface {
	ApplicationRecorder
	// InsertTracked records events like InsertNotifications together with
	// tracking, in one transaction. The tracking record is recorded even
	// when events is empty. If tracking is already recorded it returns a
	// *TrackingConflictError (errors.Is ErrIntegrity) and records none of
	// events.
	InsertTracked(ctx context.Context, events []StoredEvent, tracking Tracking) ([]int64, error)
	// InsertTrackedPage records events like InsertNotifications together
	// with every one of trackings, in one transaction: the processing of a
	// page of upstream notifications. The tracking records are recorded
	// even when events is empty. If any of them is recorded already, or
	// repeats in trackings, it returns a *TrackingConflictError naming it
	// (errors.Is ErrIntegrity) and records nothing.
	InsertTrackedPage(ctx context.Context, events []StoredEvent, trackings []Tracking) ([]int64, error)
	// MaxTrackingID returns the largest notification ID tracked for the
	// named upstream application, or 0 if none is.
	MaxTrackingID(ctx context.Context, applicationName string) (int64, error)
	// HasTrackingID reports whether notificationID of the named upstream
	// application is tracked.
	HasTrackingID(ctx context.Context, applicationName string, notificationID int64) (bool, error)
}
