package domain

import (
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Snapshot is the state of an aggregate at a version, from which the
// aggregate can be rebuilt without replaying the events up to that version.
// Aggregate holds the aggregate itself (a pointer to its struct), whose
// exported fields are its state.
type Snapshot struct {
	OriginatorID      uuid.UUID
	OriginatorVersion int64
	Timestamp         time.Time
	CreatedOn         time.Time
	ModifiedOn        time.Time
	Discarded         bool
	Aggregate         Aggregate
}

// TakeSnapshot returns a snapshot of agg at its current version. The
// snapshot shares agg; persist it (or copy it) before changing agg again.
func TakeSnapshot(agg Aggregate) Snapshot {
	b := agg.base()
	return Snapshot{
		OriginatorID:      b.id,
		OriginatorVersion: b.version,
		Timestamp:         Now(),
		CreatedOn:         b.createdOn,
		ModifiedOn:        b.modifiedOn,
		Discarded:         b.discarded,
		Aggregate:         agg,
	}
}

// FromSnapshot returns the aggregate of s, of type PT, with its ID,
// version and timestamps restored and no pending events. It returns an
// error if s holds an aggregate of another type.
func FromSnapshot[T any, PT aggregatePtr[T]](s Snapshot) (PT, error) {
	agg, ok := s.Aggregate.(PT)
	if !ok {
		got := reflect.TypeOf(s.Aggregate)
		for got != nil && got.Kind() == reflect.Pointer {
			got = got.Elem()
		}
		return nil, fmt.Errorf("snapshot: %w", &WrongAggregateTypeError{ID: s.OriginatorID, Want: reflect.TypeFor[T](), Got: got})
	}
	RestoreBase(agg, s)
	return agg, nil
}

// RestoreBase sets agg's ID, version, timestamps and discarded flag from s and clears its
// pending events. Persistence code that decodes snapshots calls it.
func RestoreBase(agg Aggregate, s Snapshot) {
	b := agg.base()
	b.id = s.OriginatorID
	b.version = s.OriginatorVersion
	b.createdOn = s.CreatedOn
	b.modifiedOn = s.ModifiedOn
	b.pending = nil
	b.discarded = s.Discarded
}
