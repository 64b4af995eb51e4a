package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// maxBatchEvents bounds the events of one group commit.
const maxBatchEvents = 5000

// BatchObserver is told of each group commit (see
// Recorder.InsertNotifications) as it is recorded: how many saves it
// records together, and how many events they hold. ctx is the context the
// batch is recorded with (that of its first save). It runs on the
// recording goroutine, before the write, and must be quick and safe for
// concurrent use.
type BatchObserver func(ctx context.Context, saves, events int)

// ObserveBatches calls observe for each group commit of d's recorders, a
// save alone included (then saves is 1): for a histogram of batch sizes,
// say. Tracked saves are not group commits. Call it before d records
// anything.
func (d *Database) ObserveBatches(observe BatchObserver) { d.group.observe = observe }

// groupCommit coalesces concurrent saves of events (without tracking
// records) into one write transaction, so that they share one commit, one
// fsync, while each keeps its own outcome: each save is recorded under a
// SAVEPOINT of its own, and a save that fails (a version conflict) is
// rolled back to it alone. A save that finds nothing being recorded is
// recorded at once, alone, on its caller's goroutine and with its caller's
// context, as without group commit; the saves that queue meanwhile are
// then recorded by a goroutine, batch after batch, until the queue is
// empty. Queued callers only wait for their outcome, so each returns when
// its own context ends.
type groupCommit struct {
	d       *Database
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
// callers' events, and returns their notification IDs. When ctx ends while
// the events wait in the queue it returns ctx's error; when it ends once
// they are being recorded, ctx's error wrapping
// persistence.ErrOutcomeUnknown.
func (g *groupCommit) insert(ctx context.Context, events []persistence.StoredEvent) ([]int64, error) {
	req := &saveRequest{ctx: ctx, events: events, done: make(chan struct{})}
	g.mu.Lock()
	if !g.running {
		g.running = true
		g.mu.Unlock()
		g.record(ctx, []*saveRequest{req})
		g.mu.Lock()
		if len(g.queue) > 0 {
			go g.run()
		} else {
			g.running = false
		}
		g.mu.Unlock()
		return req.ids, req.err
	}
	g.queue = append(g.queue, req)
	g.mu.Unlock()
	select {
	case <-req.done:
		return req.ids, req.err
	case <-ctx.Done():
		if g.withdraw(req) {
			return nil, fmt.Errorf("%s in %s: %w", recordOp("event", len(events), false), describe(g.d.name), ctx.Err())
		}
		select {
		case <-req.done:
			return req.ids, req.err
		default:
			return nil, fmt.Errorf("%s in %s: %w: %w", recordOp("event", len(events), false), describe(g.d.name),
				persistence.ErrOutcomeUnknown, ctx.Err())
		}
	}
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
		events := 0
		for len(g.queue) > 0 && (len(batch) == 0 || events+len(g.queue[0].events) <= maxBatchEvents) {
			events += len(g.queue[0].events)
			batch = append(batch, g.queue[0])
			g.queue = g.queue[1:]
		}
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		ctx, cancel := batchContext(batch)
		g.record(ctx, batch)
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

// record writes the saves of batch in one transaction and gives each its
// outcome. A save alone is written as without group commit; in a batch,
// each save has a savepoint, and one whose insert fails is rolled back to
// it and given its error, while the others commit. Any other failure (a
// savepoint that cannot be rolled back to, the commit) fails every save
// of the batch, none of which is then recorded.
func (g *groupCommit) record(ctx context.Context, batch []*saveRequest) {
	defer func() {
		for _, req := range batch {
			close(req.done)
		}
	}()
	if g.observe != nil {
		events := 0
		for _, req := range batch {
			events += len(req.events)
		}
		g.observe(ctx, len(batch), events)
	}
	if len(batch) == 1 {
		req := batch[0]
		err := g.d.write(ctx, recordOp("event", len(req.events), false), func(tx *sql.Tx) error {
			var err error
			req.ids, err = insertEvents(ctx, g.d.queries, tx, req.events)
			return err
		})
		if err != nil {
			req.ids, req.err = nil, err
		}
		return
	}
	saves := make([]error, len(batch))
	ids := make([][]int64, len(batch))
	events := 0
	for _, req := range batch {
		events += len(req.events)
	}
	err := g.d.write(ctx, fmt.Sprintf("record %d saves of %d events", len(batch), events), func(tx *sql.Tx) error {
		for i, req := range batch {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT save"); err != nil {
				return err
			}
			ids[i], saves[i] = insertEvents(ctx, g.d.queries, tx, req.events)
			if saves[i] != nil {
				ids[i] = nil
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO save"); err != nil {
					return errors.Join(saves[i], err)
				}
			}
			if _, err := tx.ExecContext(ctx, "RELEASE save"); err != nil {
				return err
			}
		}
		return nil
	})
	for i, req := range batch {
		switch {
		case err != nil:
			req.err = err
		case saves[i] != nil:
			req.err = g.d.fail(recordOp("event", len(req.events), false), saves[i])
		default:
			req.ids = ids[i]
		}
	}
}
