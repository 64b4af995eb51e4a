package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// aggregatePtr is the constraint of Repository: PT is *T and an aggregate.
type aggregatePtr[T any] interface {
	*T
	domain.Aggregate
}

// Repository gets aggregates of type T (used through *T) from an
// application. It is safe for concurrent use.
type Repository[T any, PT aggregatePtr[T]] struct {
	app *Application
}

// NewRepository returns the repository of aggregates of type T in a:
//
//	worlds := app.NewRepository[World](application)
//	w, err := worlds.Get(ctx, id)
func NewRepository[T any, PT aggregatePtr[T]](a *Application) *Repository[T, PT] {
	return &Repository[T, PT]{app: a}
}

// Get returns the aggregate id at its latest version, rebuilt from its
// latest snapshot (when snapshotting is on) and the events after it, read
// 1,000 at a time (one statement for a shorter aggregate), each page
// applied before the next is read, so that a get holds one page of
// events, not the aggregate's history. It
// returns an *AggregateNotFoundError if there are no events for id or the
// aggregate is discarded, a *domain.WrongAggregateTypeError (errors.Is
// domain.ErrWrongAggregateType) if id is an aggregate of another type, and
// a *codec.MappingError if a stored event cannot be decoded. When the
// application hash-chains its events (Options.HashChain), a snapshot or
// event that does not verify (with Options.HashChainStrict, also one
// without a hash or seal) is an error that is errors.Is(err,
// domain.ErrDataIntegrity), naming the aggregate and version (see package
// integrity), and the aggregate's Head is the hash of its last event.
//
// When ctx carries a UnitOfWork of the application that holds id, Get
// returns that aggregate, with the changes not yet recorded.
func (r *Repository[T, PT]) Get(ctx context.Context, id uuid.UUID) (PT, error) {
	if agg, ok := fromUnitOfWork(ctx, r.app, id); ok {
		if typed, ok := agg.(PT); ok {
			if typed.IsDiscarded() {
				return nil, &AggregateNotFoundError{ID: id}
			}
			return typed, nil
		}
	}
	return r.get(ctx, id, nil)
}

// GetAt returns the aggregate id as it was at version (or at its latest
// version, if version is higher). Any version can be asked for, including
// 0 for an aggregate type whose InitialVersion is 0; a version below the
// aggregate's first is not found. Errors are as for Get.
func (r *Repository[T, PT]) GetAt(ctx context.Context, id uuid.UUID, version int64) (PT, error) {
	return r.get(ctx, id, &version)
}

// getPage is how many events a get reads in one statement: an aggregate
// of fewer events is read in one round trip, a longer one in pages.
const getPage = 1000

// get returns the aggregate id at version *lte, or at its latest version
// when lte is nil, in a span (see telemetry.go).
func (r *Repository[T, PT]) get(ctx context.Context, id uuid.UUID, lte *int64) (got PT, err error) {
	ctx, span := r.app.telemetry.startGet(ctx, id, lte)
	var fromSnapshot bool
	var read int
	defer func() {
		var v int64
		if got != nil {
			v = got.Version()
		}
		endGet(span, v, fromSnapshot, read, err)
	}()
	var version int64 // for AggregateNotFoundError: 0 for the latest
	if lte != nil {
		version = *lte
	}
	agg, snap, err := r.fromSnapshot(ctx, id, lte)
	if err != nil {
		return nil, err
	}
	fromSnapshot = agg != nil
	var chain *integrity.Chain
	if r.app.hasher != nil {
		chain = r.app.chainAfter(id, snap)
	}
	// The events are read getPage at a time, and each is decoded and
	// applied before the next, so that a get holds one page of rows, not
	// the aggregate's history.
	q := persistence.EventQuery{Lte: lte, Limit: getPage}
	if agg != nil {
		v := agg.Version()
		q.Gt = &v
	}
	var event [1]domain.Event
	for {
		stored, err := r.app.infra.recorder.SelectEvents(ctx, id, q)
		if err != nil {
			return nil, err
		}
		read += len(stored)
		for _, se := range stored {
			if chain != nil {
				if err := chain.Next(se); err != nil {
					return nil, fmt.Errorf("get: %w", err) // names the aggregate and the version
				}
			}
		}
		for _, se := range stored {
			if event[0], err = r.app.mapper.ToDomainEvent(se); err != nil {
				return nil, fmt.Errorf("get: %w", err) // a *codec.MappingError names the aggregate
			}
			if agg == nil {
				agg, err = domain.Replay[T, PT](event[:])
			} else {
				err = domain.ReplayOnto(agg, event[:])
			}
			if err != nil {
				return nil, fmt.Errorf("get %s: %w", id, err)
			}
		}
		if len(stored) < getPage {
			break
		}
		last := stored[len(stored)-1].OriginatorVersion
		q.Gt = &last
	}
	if agg == nil {
		return nil, &AggregateNotFoundError{ID: id, Version: version}
	}
	if agg.IsDiscarded() {
		return nil, &AggregateNotFoundError{ID: id, Version: version}
	}
	if chain != nil {
		if hash, v, ok := chain.Head(); ok {
			domain.SetHead(agg, v, hash)
		}
	}
	return agg, nil
}

// fromSnapshot returns the aggregate from its latest snapshot at or below
// lte, and the stored snapshot, or nils when snapshotting is off or there
// is none. When the application hash-chains its events, it verifies the
// snapshot's seal, and ignores a snapshot without one (taken before the
// application hash-chained its events, or stripped of its seal: either
// way the events are replayed instead) unless hash-chaining is strict:
// then a snapshot without a seal is a *integrity.SnapshotHashError.
func (r *Repository[T, PT]) fromSnapshot(ctx context.Context, id uuid.UUID, lte *int64) (PT, *persistence.StoredEvent, error) {
	if !r.app.snapshots {
		return nil, nil, nil
	}
	stored, err := r.app.infra.snapshots.SelectEvents(ctx, id, persistence.EventQuery{Lte: lte, Desc: true, Limit: 1})
	if err != nil || len(stored) == 0 {
		return nil, nil, err
	}
	if r.app.hasher != nil {
		if stored[0].Hash == nil && !r.app.hasher.IsStrict() {
			return nil, nil, nil
		}
		if err := r.app.hasher.VerifySnapshot(stored[0]); err != nil {
			return nil, nil, fmt.Errorf("get from snapshot: %w", err)
		}
	}
	snap, err := r.app.mapper.ToSnapshot(stored[0])
	if err != nil {
		return nil, nil, fmt.Errorf("get from snapshot: %w", err) // a *codec.MappingError names the aggregate
	}
	agg, err := domain.FromSnapshot[T, PT](snap)
	return agg, &stored[0], err
}

// TakeSnapshot records a snapshot of the aggregate id as recorded at
// version (its latest version when version is 0, so a snapshot at version
// 0 of an aggregate that starts at 0 cannot be asked for). It returns
// ErrSnapshottingDisabled when the application keeps no snapshots, and the
// errors of GetAt. A snapshot that exists already is not an error.
func (r *Repository[T, PT]) TakeSnapshot(ctx context.Context, id uuid.UUID, version int64) error {
	if !r.app.snapshots {
		return ErrSnapshottingDisabled
	}
	var lte *int64
	if version != 0 {
		lte = &version
	}
	agg, err := r.get(ctx, id, lte)
	if err != nil {
		return err
	}
	if err := r.app.putSnapshot(ctx, agg, domain.TakeSnapshot(agg)); err != nil {
		return fmt.Errorf("take snapshot of %s: %w", id, err)
	}
	return nil
}
