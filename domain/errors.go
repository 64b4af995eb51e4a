package domain

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/google/uuid"
)

// ErrDiscarded is returned by Trigger for an aggregate that has been
// discarded (see Discarding).
var ErrDiscarded = errors.New("aggregate is discarded")

// ErrVersionOverflow is returned by Create, Trigger, Replay and ReplayOnto
// when the next version would not fit in an int64: the aggregate is at
// version math.MaxInt64, or its initial version is math.MinInt64. The
// aggregate is left unchanged.
var ErrVersionOverflow = errors.New("aggregate version overflows int64")

// ErrDataIntegrity is matched (errors.Is) by the errors that report
// recorded events or snapshots whose hashes do not verify: changed,
// removed, reordered or inserted outside the application (see package
// integrity, whose errors say which aggregate, version and check). An
// application that hash-chains its events returns them from its
// repositories' Get instead of the aggregate.
var ErrDataIntegrity = errors.New("data integrity")

// VersionError is returned when an event is not the next in its
// aggregate's sequence: its version is not one more than the aggregate's.
type VersionError struct {
	EventVersion    int64
	ExpectedVersion int64
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("event version %d is not the next version %d of the aggregate", e.EventVersion, e.ExpectedVersion)
}

// ApplyError is returned when an aggregate's Apply method fails for an
// event. The aggregate is left as it was before (see Trigger).
type ApplyError struct {
	Event Event
	Err   error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("apply %T (version %d of %s): %v", e.Event.Data, e.Event.OriginatorVersion, e.Event.OriginatorID, e.Err)
}

// Unwrap returns the error Apply returned.
func (e *ApplyError) Unwrap() error { return e.Err }

// ErrWrongAggregateType is wrapped by a *WrongAggregateTypeError.
var ErrWrongAggregateType = errors.New("wrong aggregate type")

// WrongAggregateTypeError is returned by Replay and FromSnapshot when the
// events or the snapshot of an aggregate are read as an aggregate of
// another type than the one that created them (as recorded by Create on
// its first event). It matches errors.Is(err, ErrWrongAggregateType).
type WrongAggregateTypeError struct {
	ID   uuid.UUID
	Want reflect.Type // the type asked for
	Got  reflect.Type // the type that created the aggregate
}

func (e *WrongAggregateTypeError) Error() string {
	return fmt.Sprintf("aggregate %s is a %v, not a %v", e.ID, e.Got, e.Want)
}

// Unwrap returns ErrWrongAggregateType.
func (e *WrongAggregateTypeError) Unwrap() error { return ErrWrongAggregateType }
