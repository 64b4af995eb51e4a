package postgres

import (
	"context"
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
// (one WAL flush) for many saves, each keeping its own outcome. The first
// caller to find no batch in flight leads: it records the queued saves,
// then hands the lead to the first save queued meanwhile. Without
// concurrency a save is recorded at once, alone.
type groupCommit struct {
	pool    *pgxpool.Pool
	queries *db.Queries

	mu     sync.Mutex
	queue  []*saveRequest
	busy   bool         // a batch is in flight, or the lead is being handed over
	leader *saveRequest // the queued save handed the lead, if any
}

// saveRequest is one caller's events and, once done is closed, its outcome.
type saveRequest struct {
	ctx    context.Context
	events []StoredEvent
	ids    []int64
	err    error
	done   chan struct{}
	lead   chan struct{}
}

// insert records events atomically, possibly in one transaction with other
// callers' events, and returns their notification IDs.
func (g *groupCommit) insert(ctx context.Context, events []StoredEvent) ([]int64, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("insert %d events: %w", len(events), err)
	}
	req := &saveRequest{ctx: ctx, events: events, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, req)
	leading := !g.busy
	g.busy = true
	g.mu.Unlock()
	if leading {
		g.flush()
	}
	handedLead := req.lead // a closed channel stays ready: nil it once used
	for {
		select {
		case <-req.done:
			return req.ids, req.err
		case <-handedLead:
			handedLead = nil
			g.flush()
		case <-ctx.Done():
			if g.withdraw(req) {
				return nil, fmt.Errorf("insert %d events: %w", len(events), ctx.Err())
			}
			if handedLead != nil {
				// Handed the lead: record the queued saves first (this
				// one with its own, ended, context), so others go on.
				select {
				case <-req.done:
					return req.ids, req.err
				case <-handedLead:
					g.flush()
				}
			}
			select {
			case <-req.done:
				return req.ids, req.err
			default:
				return nil, fmt.Errorf("insert %d events: %w: the outcome is unknown; the events may yet be recorded", len(events), ctx.Err())
			}
		}
	}
}

// withdraw removes req from the queue if it is still waiting there and
// has not been handed the lead.
func (g *groupCommit) withdraw(req *saveRequest) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.queue, req)
	if i < 0 || g.leader == req {
		return false
	}
	g.queue = slices.Delete(g.queue, i, i+1)
	return true
}

// flush records one batch of queued saves, then hands the lead to the
// first save queued meanwhile, or ends the busy period.
func (g *groupCommit) flush() {
	g.mu.Lock()
	g.leader = nil
	var batch []*saveRequest
	rows := 0
	for len(g.queue) > 0 && (len(batch) == 0 || rows+len(g.queue[0].events) <= maxBatchRows) {
		rows += len(g.queue[0].events)
		batch = append(batch, g.queue[0])
		g.queue = g.queue[1:]
	}
	g.mu.Unlock()

	batchCtx, cancel := batchContext(batch)
	g.record(batchCtx, batch)
	cancel()

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.leader = g.queue[0]
		close(g.leader.lead)
	} else {
		g.busy = false
	}
	g.mu.Unlock()
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
	if len(batch) == 1 {
		req := batch[0]
		req.ids, req.err = insertOne(ctx, g.queries, g.pool, req.events, nil)
		close(req.done)
		return
	}
	var all []StoredEvent
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
	})
	if err == nil && len(results) != len(all) {
		err = fmt.Errorf("insert procedure returned %d results for %d events", len(results), len(all))
	}
	offset := 0
	for _, req := range batch {
		if err != nil {
			req.err = mapError(fmt.Sprintf("insert %d events", len(req.events)), err, nil)
		} else {
			req.ids, req.err = outcome(req.events, results[offset:offset+len(req.events)])
		}
		offset += len(req.events)
		close(req.done)
	}
}

// outcome reads one save's results: notification ids, or a conflict.
func outcome(events []StoredEvent, results []int64) ([]int64, error) {
	if results[0] > 0 {
		return results, nil
	}
	conflict := &persistence.ConcurrencyError{}
	if i := slices.Index(results, -1); i >= 0 {
		conflict.OriginatorID, conflict.Version = events[i].OriginatorID, events[i].OriginatorVersion
	}
	return nil, fmt.Errorf("insert %d events: %w", len(events), conflict)
}
