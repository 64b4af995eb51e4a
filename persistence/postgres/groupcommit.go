package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/internal/groupcommit"
)

// groupCommit coalesces concurrent inserts into one call of
// stored_events_insert_batch: one lock, one round trip and one commit
// (one WAL flush) for many saves, each keeping its own outcome (see
// package groupcommit: a lone save is recorded on its caller's goroutine,
// with its caller's context).
type groupCommit struct {
	pool    *pgxpool.Pool
	queries *db.Queries
	observe BatchObserver // nil: none
	group   *groupcommit.Group
}

func newGroupCommit(pool *pgxpool.Pool, queries *db.Queries) *groupCommit {
	g := &groupCommit{pool: pool, queries: queries}
	g.group = groupcommit.New(g.record)
	return g
}

// insert records events atomically, possibly in one transaction with other
// callers' events, and returns their notification IDs. When ctx ends first
// it returns ctx's error, wrapping persistence.ErrOutcomeUnknown too if
// the events were already being recorded. Its errors name no operation:
// the Recorder names it.
func (g *groupCommit) insert(ctx context.Context, events []persistence.StoredEvent) ([]int64, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req, how := g.group.Save(ctx, events)
	switch how {
	case groupcommit.Withdrawn:
		return nil, ctx.Err()
	case groupcommit.Unknown:
		return nil, fmt.Errorf("%w: %w", persistence.ErrOutcomeUnknown, ctx.Err())
	}
	return outcomeOf(req)
}

// outcomeOf returns the result of a recorded request. A failure while the
// caller's context has ended (the driver gave up on the statement when it
// did) leaves the outcome unknown, unless the database refused the events.
func outcomeOf(req *groupcommit.Request) ([]int64, error) {
	err := req.Err
	if err != nil && req.Ctx.Err() != nil && !errors.Is(err, persistence.ErrIntegrity) && !errors.Is(err, persistence.ErrOutcomeUnknown) {
		err = fmt.Errorf("%w: %w", persistence.ErrOutcomeUnknown, err)
	}
	return req.IDs, err
}

// record inserts the events of batch in one call and gives each save its
// outcome. A save alone takes the simpler single-save procedure.
func (g *groupCommit) record(ctx context.Context, batch []*groupcommit.Request) {
	events := 0
	for _, req := range batch {
		events += len(req.Events)
	}
	g.observed(ctx, len(batch), events)
	if len(batch) == 1 {
		req := batch[0]
		req.IDs, req.Err = insertOne(ctx, g.queries, g.pool, req.Events, nil)
		return
	}
	var all []persistence.StoredEvent
	var saves []int32
	for i, req := range batch {
		all = append(all, req.Events...)
		for range req.Events {
			saves = append(saves, int32(i+1))
		}
	}
	c := toColumns(all)
	results, err := g.queries.StoredEventsInsertBatch(ctx, g.pool, db.StoredEventsInsertBatchParams{
		OriginatorIds: c.ids, OriginatorVersions: c.versions, Topics: c.topics, States: c.states, SaveNumbers: saves,
		EventIds: c.eventIDs, CorrelationIds: c.correlationIDs, CausationIds: c.causationIDs, TraceContexts: c.traceContexts, EventHashes: c.hashes,
	})
	if err == nil && len(results) != len(all) {
		err = fmt.Errorf("the insert procedure returned %d results for %d events", len(results), len(all))
	}
	offset := 0
	for _, req := range batch {
		if err != nil {
			req.Err = classify(err, nil)
		} else {
			req.IDs, req.Err = outcome(req.Events, results[offset:offset+len(req.Events)])
		}
		offset += len(req.Events)
	}
}

// observed tells the observer, if any, of a batch of saves holding events.
func (g *groupCommit) observed(ctx context.Context, saves, events int) {
	if g.observe != nil {
		g.observe(ctx, saves, events)
	}
}

// outcome reads one save's results: notification ids, or a conflict.
func outcome(events []persistence.StoredEvent, results []int64) ([]int64, error) {
	if results[0] > 0 {
		return results, nil
	}
	conflict := &persistence.ConcurrencyError{}
	if i := slices.Index(results, -1); i >= 0 {
		conflict.OriginatorID, conflict.Version = events[i].OriginatorID, events[i].OriginatorVersion
	}
	return nil, conflict
}
