package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// maxBatchRows bounds the events of one group commit.
const maxBatchRows = 5000

// groupCommit coalesces concurrent inserts into one call of
// stored_events_insert_batch: one lock, one round trip and one commit
// (one WAL flush) for many saves, each keeping its own outcome. A save that
// finds nothing being recorded is recorded at once, alone, on its caller's
// goroutine and with its caller's context; the saves that queue meanwhile
// are then recorded by a goroutine, batch after batch, until the queue is
// empty. Queued callers only wait for their outcome, so each returns when
// its own context ends, whatever the batch it is in is waiting for.
type groupCommit struct {
	pool    *pgxpool.Pool
	queries *db.Queries
	observe BatchObserver // nil: none

	mu      sync.Mutex
	queue   []*saveRequest
	running bool // a save is being recorded, or the recording goroutine runs
}

// saveRequest is one caller's events and, once done is closed, its outcome.
type saveRequest struct {
	ctx    context.Context
	events []persistence.StoredEvent
	ids    []int64
	err    error
	done   chan struct{}
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
	req := &saveRequest{ctx: ctx, events: events, done: make(chan struct{})}
	g.mu.Lock()
	if !g.running {
		// Alone: record on this goroutine, with this caller's context;
		// saves that queue meanwhile are recorded by the goroutine started
		// after it.
		g.running = true
		g.mu.Unlock()
		g.observed(ctx, 1, len(events))
		req.ids, req.err = insertOne(ctx, g.queries, g.pool, events, nil)
		g.mu.Lock()
		if len(g.queue) > 0 {
			go g.run()
		} else {
			g.running = false
		}
		g.mu.Unlock()
		return req.outcome()
	}
	g.queue = append(g.queue, req)
	g.mu.Unlock()
	select {
	case <-req.done:
		return req.outcome()
	case <-ctx.Done():
		if g.withdraw(req) {
			return nil, ctx.Err()
		}
		select {
		case <-req.done:
			return req.outcome()
		default:
			return nil, fmt.Errorf("%w: %w", persistence.ErrOutcomeUnknown, ctx.Err())
		}
	}
}

// outcome returns the result of a recorded request. A failure while the
// caller's context has ended (the driver gave up on the statement when it
// did) leaves the outcome unknown, unless the database refused the events.
func (req *saveRequest) outcome() ([]int64, error) {
	err := req.err
	if err != nil && req.ctx.Err() != nil && !errors.Is(err, persistence.ErrIntegrity) && !errors.Is(err, persistence.ErrOutcomeUnknown) {
		err = fmt.Errorf("%w: %w", persistence.ErrOutcomeUnknown, err)
	}
	return req.ids, err
}

// withdraw removes req from the queue if it is still waiting there.
func (g *groupCommit) withdraw(req *saveRequest) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.queue, req)
	if i < 0 {
		return false
	}
	g.queue = slices.Delete(g.queue, i, i+1)
	return true
}

// run records batches of queued saves until the queue is empty.
func (g *groupCommit) run() {
	for {
		g.mu.Lock()
		var batch []*saveRequest
		rows := 0
		for len(g.queue) > 0 && (len(batch) == 0 || rows+len(g.queue[0].events) <= maxBatchRows) {
			rows += len(g.queue[0].events)
			batch = append(batch, g.queue[0])
			g.queue = g.queue[1:]
		}
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()

		batchCtx, cancel := batchContext(batch)
		g.record(batchCtx, batch)
		cancel()
	}
}

// batchContext returns the context to record batch with: a save alone
// uses its caller's; a batch carries several callers' saves, so none may
// cancel it, and it ends at the latest of their deadlines (or never, if one
// has none).
func batchContext(batch []*saveRequest) (context.Context, context.CancelFunc) {
	if len(batch) == 1 {
		return batch[0].ctx, func() {}
	}
	var latest time.Time
	for _, req := range batch {
		deadline, ok := req.ctx.Deadline()
		if !ok {
			return context.WithoutCancel(batch[0].ctx), func() {}
		}
		if deadline.After(latest) {
			latest = deadline
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), latest)
}

// record inserts the events of batch in one call and gives each save its
// outcome. A save alone takes the simpler single-save procedure.
func (g *groupCommit) record(ctx context.Context, batch []*saveRequest) {
	if g.observe != nil {
		events := 0
		for _, req := range batch {
			events += len(req.events)
		}
		g.observed(ctx, len(batch), events)
	}
	if len(batch) == 1 {
		req := batch[0]
		req.ids, req.err = insertOne(ctx, g.queries, g.pool, req.events, nil)
		close(req.done)
		return
	}
	var all []persistence.StoredEvent
	var saves []int32
	for i, req := range batch {
		all = append(all, req.events...)
		for range req.events {
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
			req.err = classify(err, nil)
		} else {
			req.ids, req.err = outcome(req.events, results[offset:offset+len(req.events)])
		}
		offset += len(req.events)
		close(req.done)
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
