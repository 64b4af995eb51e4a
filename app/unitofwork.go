package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// UnitOfWork holds aggregates that have been changed and handed over to be
// recorded, but are not recorded yet: a process application's page of
// upstream notifications is recorded in one transaction at its end. A
// Repository of the same application, given a context that carries the
// unit of work (see Context), gets an aggregate from it before the store,
// so that processing a notification sees what processing the earlier
// notifications of the page changed. It is not safe for concurrent use.
type UnitOfWork struct {
	app  *Application
	aggs map[uuid.UUID]domain.Aggregate
	// touched are the aggregates put or handed out since Forget.
	touched []domain.Aggregate
}

// NewUnitOfWork returns an empty unit of work of a.
func NewUnitOfWork(a *Application) *UnitOfWork {
	return &UnitOfWork{app: a, aggs: map[uuid.UUID]domain.Aggregate{}}
}

// Context returns ctx carrying u.
func (u *UnitOfWork) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, unitOfWorkKey{}, u)
}

// Put adds aggs, whose pending events have been collected to be recorded.
// The aggregates themselves are handed out by Repository.Get afterwards,
// not copies: who gets one may change it further.
func (u *UnitOfWork) Put(aggs ...domain.Aggregate) {
	for _, agg := range aggs {
		u.aggs[agg.ID()] = agg
	}
	u.touched = append(u.touched, aggs...)
}

// Forget drops the aggregates, put or handed out since the last Forget,
// that have pending events nobody collected (changed without being handed
// over to be recorded): their state is no longer what will be recorded,
// so the next Get reads the store.
func (u *UnitOfWork) Forget() {
	for _, agg := range u.touched {
		if len(agg.PendingEvents()) > 0 && u.aggs[agg.ID()] == agg {
			delete(u.aggs, agg.ID())
		}
	}
	u.touched = u.touched[:0]
}

// Clear drops every aggregate, when the unit of work has been recorded or
// abandoned.
func (u *UnitOfWork) Clear() {
	clear(u.aggs)
	u.touched = u.touched[:0]
}

type unitOfWorkKey struct{}

// fromUnitOfWork returns the aggregate id held by the unit of work that
// ctx carries for a, if any.
func fromUnitOfWork(ctx context.Context, a *Application, id uuid.UUID) (domain.Aggregate, bool) {
	u, ok := ctx.Value(unitOfWorkKey{}).(*UnitOfWork)
	if !ok || u.app != a {
		return nil, false
	}
	agg, ok := u.aggs[id]
	if ok {
		u.touched = append(u.touched, agg)
	}
	return agg, ok
}
