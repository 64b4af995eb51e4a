package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// The metadata that traces an event through a system of applications:
// every event gets its own ID when it is saved; its correlation ID is the
// one of the command that started the story, and its causation ID the ID
// of the upstream event whose processing recorded it (see domain.Event).

type correlationKey struct{}

// correlation is what a context says about the events saved with it.
type correlation struct {
	correlationID uuid.UUID
	causationID   uuid.UUID
}

// WithCorrelationID returns a context whose saves record id as the
// correlation ID of their events: pass the ID of a request or command, so
// that every event it causes, in this application and in the process
// applications that follow, can be found by it (NotificationLog.
// ReadCorrelated, and the correlation_id column). Without one, each save
// starts a correlation of its own, with a new ID.
func WithCorrelationID(ctx context.Context, id uuid.UUID) context.Context {
	return context.WithValue(ctx, correlationKey{}, correlation{correlationID: id})
}

// WithCause returns a context whose saves record that their events were
// caused by the event cause: its ID as their causation ID, and its
// correlation ID (or, for an event recorded before events had one, its
// ID) as their correlation ID. Process applications give it to their
// policies, so the events a policy saves in other applications are traced
// too; the events it hands to ProcessEvent.Save are stamped the same way.
func WithCause(ctx context.Context, cause domain.Event) context.Context {
	return context.WithValue(ctx, correlationKey{}, causedBy(cause))
}

// CorrelationID returns the correlation ID that saves with ctx record, or
// the nil UUID when each save starts its own.
func CorrelationID(ctx context.Context) uuid.UUID {
	c, _ := ctx.Value(correlationKey{}).(correlation)
	return c.correlationID
}

// Stamp sets, on each of events that has none, the causation and
// correlation IDs of an event caused by cause (see WithCause).
func Stamp(events []domain.Event, cause domain.Event) {
	c := causedBy(cause)
	for i := range events {
		c.stamp(&events[i])
	}
}

func causedBy(cause domain.Event) correlation {
	c := correlation{correlationID: cause.CorrelationID, causationID: cause.ID}
	if c.correlationID == uuid.Nil {
		c.correlationID = cause.ID
	}
	return c
}

// stamp sets the IDs of e that are not set: its own ID, and the
// correlation and causation IDs of c.
func (c correlation) stamp(e *domain.Event) {
	if e.ID == uuid.Nil {
		e.ID = newEventID()
	}
	if e.CorrelationID == uuid.Nil {
		e.CorrelationID = c.correlationID
	}
	if e.CausationID == uuid.Nil {
		e.CausationID = c.causationID
	}
}

// identify gives events about to be saved with ctx the IDs they lack: an
// ID each, and the correlation (and causation) of ctx, or else one new
// correlation ID for the whole save. It returns a copy; events is not
// changed.
func identify(ctx context.Context, events []domain.Event) []domain.Event {
	c, _ := ctx.Value(correlationKey{}).(correlation)
	out := make([]domain.Event, len(events))
	for i, e := range events {
		if c.correlationID == uuid.Nil && e.CorrelationID == uuid.Nil {
			c.correlationID = newEventID()
		}
		c.stamp(&e)
		out[i] = e
	}
	return out
}

// newEventID returns a new ID for an event or a correlation: a UUID of
// version 7, which sorts by time.
func newEventID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}
