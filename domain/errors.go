package domain

import (
	"errors"
	"fmt"
)

// ErrDiscarded is returned by Trigger for an aggregate that has been
// discarded (see Discarding).
var ErrDiscarded = errors.New("aggregate is discarded")

// ErrVersionOverflow is returned by Create, Trigger, Replay and ReplayOnto
// when the next version would not fit in an int64: the aggregate is at
// version math.MaxInt64, or its initial version is math.MinInt64. The
// aggregate is left unchanged.
var ErrVersionOverflow = errors.New("aggregate version overflows int64")

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
