package domain

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Aggregate is implemented by pointers to structs that embed Base and have
// an Apply method. Apply evolves the aggregate's state from one event's
// Data; it is called when the event is triggered and again on every replay,
// so it must not fail for an event it accepted before, and should decide
// nothing: decisions belong in command methods, before Trigger.
type Aggregate interface {
	Apply(data any) error
	ID() uuid.UUID
	Version() int64
	IsDiscarded() bool
	PendingEvents() []Event
	CollectEvents() []Event
	base() *Base
}

// InitialVersioner is implemented by aggregate types whose first event has
// a version other than 1 (the Python library's INITIAL_VERSION), for example 0. It
// must be greater than math.MinInt64 (see ErrVersionOverflow).
type InitialVersioner interface {
	InitialVersion() int64
}

// Base holds what every aggregate has: its ID, its version (the position
// of its last event), when it was created and last modified, the events
// triggered but not yet saved, and whether it was discarded. Embed it in
// aggregate structs. Its fields are unexported so that only events change
// them. An aggregate is not safe for concurrent use.
type Base struct {
	id         uuid.UUID
	version    int64
	createdOn  time.Time
	modifiedOn time.Time
	pending    []Event
	discarded  bool

	// head is the hash of the aggregate's event at headVersion, for
	// applications that hash-chain their events (see SetHead); headKnown
	// says whether it was set (an empty head before the first event is
	// known too).
	head        []byte
	headVersion int64
	headKnown   bool
}

// base gives this package the Base inside any Aggregate.
//
//lint:ignore U1000 used through Aggregate by the types that embed Base, all outside this package (a false positive of unused)
func (b *Base) base() *Base { return b }

// ID returns the aggregate's ID.
func (b *Base) ID() uuid.UUID { return b.id }

// Version returns the version of the aggregate's last event.
func (b *Base) Version() int64 { return b.version }

// CreatedOn returns the timestamp of the aggregate's first event.
func (b *Base) CreatedOn() time.Time { return b.createdOn }

// ModifiedOn returns the timestamp of the aggregate's last event.
func (b *Base) ModifiedOn() time.Time { return b.modifiedOn }

// IsDiscarded reports whether a Discarding event has been applied.
func (b *Base) IsDiscarded() bool { return b.discarded }

// PendingEvents returns the events triggered since the aggregate was
// created, replayed or last collected, in order, without collecting them.
func (b *Base) PendingEvents() []Event { return append([]Event(nil), b.pending...) }

// Head returns the hash of the aggregate's last recorded event, for
// applications that hash-chain their events (see package integrity): set
// when the aggregate is read from such an application and after it saves
// the aggregate; nil otherwise, and before the aggregate's first event
// is recorded. A copy: changing it changes nothing.
func (b *Base) Head() []byte { return append([]byte(nil), b.head...) }

// CollectEvents returns the pending events in the order they were
// triggered and forgets them. Applications call it when saving.
func (b *Base) CollectEvents() []Event {
	events := b.pending
	b.pending = nil
	return events
}

// aggregatePtr is the constraint of the generic functions: PT is *T and
// an Aggregate.
type aggregatePtr[T any] interface {
	*T
	Aggregate
}

// Create starts a new aggregate of type T with the ID id: it makes the
// created event (version 1, or T's InitialVersion) with Data data, applies
// it to a zero T and keeps it as pending. It returns the *ApplyError of
// Apply, if any, or ErrVersionOverflow for an initial version of
// math.MinInt64, and no aggregate.
func Create[T any, PT aggregatePtr[T]](id uuid.UUID, data any) (PT, error) {
	agg := PT(new(T))
	b := agg.base()
	b.id = id
	before, err := versionBefore(agg)
	if err != nil {
		return nil, err
	}
	b.version = before
	b.headVersion, b.headKnown = before, true // nothing before the first event
	event := Event{OriginatorID: id, OriginatorVersion: initialVersion(agg), Timestamp: Now(), Data: data,
		OriginatorType: reflect.TypeFor[T]()}
	if err := mutate(agg, event); err != nil {
		return nil, err
	}
	b.pending = append(b.pending, event)
	return agg, nil
}

// Trigger records that data happened to agg: it makes the next event of
// agg's sequence, applies it and keeps it as pending. If Apply fails, agg
// is restored to its state before the call (a shallow copy: changes inside
// maps, or to elements of slices that Apply modified in place, are not
// undone, so Apply should check before it changes anything) and the
// *ApplyError is returned. A discarded aggregate refuses: ErrDiscarded;
// so does one at version math.MaxInt64, unchanged: ErrVersionOverflow.
func Trigger[T any, PT aggregatePtr[T]](agg PT, data any) error {
	b := agg.base()
	if b.discarded {
		return fmt.Errorf("trigger %T on %s: %w", data, b.id, ErrDiscarded)
	}
	event := Event{OriginatorID: b.id, OriginatorVersion: b.version + 1, Timestamp: Now(), Data: data}
	saved := *(*T)(agg)
	if err := mutate(agg, event); err != nil {
		*(*T)(agg) = saved
		return err
	}
	b.pending = append(b.pending, event)
	return nil
}

// Replay rebuilds an aggregate from its events, the first of which must be
// its created event. It returns a *VersionError if an event is out of
// sequence, an *ApplyError if Apply fails, ErrVersionOverflow for an
// event after version math.MaxInt64, and a *WrongAggregateTypeError when
// the first event was created by Create for another type than T. The
// rebuilt aggregate has no pending events. With no events it returns an
// error.
func Replay[T any, PT aggregatePtr[T]](events []Event) (PT, error) {
	if len(events) == 0 {
		return nil, errors.New("replay: no events")
	}
	if got := events[0].OriginatorType; got != nil && got != reflect.TypeFor[T]() {
		return nil, &WrongAggregateTypeError{ID: events[0].OriginatorID, Want: reflect.TypeFor[T](), Got: got}
	}
	agg := PT(new(T))
	b := agg.base()
	b.id = events[0].OriginatorID
	before, err := versionBefore(agg)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	b.version = before
	if err := ReplayOnto(agg, events); err != nil {
		return nil, err
	}
	return agg, nil
}

// ReplayOnto applies events, which must follow agg's version in sequence,
// to agg (for example after FromSnapshot). Errors are as for Replay; on
// error agg may hold some of the events.
func ReplayOnto(agg Aggregate, events []Event) error {
	for _, e := range events {
		if e.OriginatorID != agg.base().id {
			return fmt.Errorf("replay: event of %s given to aggregate %s", e.OriginatorID, agg.base().id)
		}
		if err := mutate(agg, e); err != nil {
			return err
		}
	}
	return nil
}

// mutate applies event to agg after checking its version (an aggregate at
// math.MaxInt64 has no next one: ErrVersionOverflow), and then, only if
// Apply succeeded, advances agg's version and modification time.
func mutate(agg Aggregate, event Event) error {
	b := agg.base()
	if b.version == math.MaxInt64 {
		return fmt.Errorf("%T after version %d of %s: %w", event.Data, b.version, b.id, ErrVersionOverflow)
	}
	if event.OriginatorVersion != b.version+1 {
		return &VersionError{EventVersion: event.OriginatorVersion, ExpectedVersion: b.version + 1}
	}
	if err := agg.Apply(event.Data); err != nil {
		return &ApplyError{Event: event, Err: err}
	}
	if event.OriginatorVersion == initialVersion(agg) {
		b.createdOn = event.Timestamp
	}
	b.version = event.OriginatorVersion
	b.modifiedOn = event.Timestamp
	if _, ok := event.Data.(Discarding); ok {
		b.discarded = true
	}
	return nil
}

// versionBefore returns the version of an aggregate of agg's type before
// its first event, or ErrVersionOverflow if the initial version is
// math.MinInt64.
func versionBefore(agg Aggregate) (int64, error) {
	v := initialVersion(agg)
	if v == math.MinInt64 {
		return 0, fmt.Errorf("initial version %d of %T has no version before it: %w", v, agg, ErrVersionOverflow)
	}
	return v - 1, nil
}

func initialVersion(agg Aggregate) int64 {
	if v, ok := agg.(InitialVersioner); ok {
		return v.InitialVersion()
	}
	return 1
}

// SetHead records that hash is the hash of agg's recorded event at
// version, the head of its hash chain. It is for the application layer
// (package app), which sets it when it reads agg and after it records
// agg's events; aggregates never need to call it.
func SetHead(agg Aggregate, version int64, hash []byte) {
	b := agg.base()
	b.head, b.headVersion, b.headKnown = append([]byte(nil), hash...), version, true
}

// HeadAt returns agg's head if it is the hash of its event at version,
// and whether it is: false when the head was never set (the aggregate was
// not read from, or saved by, an application that hash-chains its
// events), or was set at another version. A head at the version before a
// created aggregate's first event is known and empty. It is for the
// application layer, as SetHead is.
func HeadAt(agg Aggregate, version int64) ([]byte, bool) {
	b := agg.base()
	if !b.headKnown || b.headVersion != version {
		return nil, false
	}
	return b.head, true
}
