package domain

import (
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Event is a domain event in an aggregate's sequence: which aggregate it
// belongs to, its position (version) in that sequence, when it happened,
// and what happened (Data, a value of one of the application's event
// types). Events are values; nothing changes them once triggered.
type Event struct {
	OriginatorID      uuid.UUID
	OriginatorVersion int64
	Timestamp         time.Time
	Data              any
	// OriginatorType is the aggregate's type (a struct type, not a
	// pointer) on the event that created the aggregate, set by Create and
	// recorded with the event, and nil on the other events. Replay
	// refuses to rebuild an aggregate of another type from its events.
	OriginatorType reflect.Type

	// ID identifies the event. CorrelationID is shared by every event
	// that one command started, in every application that processed
	// them, and CausationID is the ID of the upstream event whose
	// processing recorded this one (the nil UUID for an event recorded by
	// a command). The application sets them when it saves the event (see
	// package app); they are the nil UUID on an event not saved yet, and
	// on events recorded before the store kept them.
	ID            uuid.UUID
	CorrelationID uuid.UUID
	CausationID   uuid.UUID
}

// Discarding is implemented by event types that discard their aggregate:
// once such an event is applied the aggregate refuses further commands
// (Trigger returns ErrDiscarded) and the application's repository reports
// it as not found. Discarded is a ready-made one.
type Discarding interface {
	DiscardsAggregate()
}

// Discarded is an event that discards its aggregate; see Discarding.
type Discarded struct{}

// DiscardsAggregate marks Discarded as a Discarding event.
func (Discarded) DiscardsAggregate() {}

// Now returns the current time in UTC, as event timestamps are recorded. It
// is a variable so that tests may fix the clock; set it before use, not
// concurrently with it.
var Now = func() time.Time { return time.Now().UTC() }
