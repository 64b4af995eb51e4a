// Package groupcommit coalesces concurrent saves into batches, each
// recorded in one transaction by an adapter (persistence/postgres,
// persistence/sqlite) while every save keeps its own outcome.
//
// A save that finds nothing being recorded is recorded at once, alone, on
// its caller's goroutine and with its caller's context; the saves that
// queue meanwhile are then recorded by a goroutine, batch after batch,
// until the queue is empty. Queued callers only wait for their outcome, so
// each returns when its own context ends, whatever the batch it is in is
// waiting for.
package groupcommit

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// MaxBatchEvents bounds the events of one batch (a save larger than that
// is a batch of its own).
const MaxBatchEvents = 5000

// Request is one caller's save: its context and events, and, once
// recorded, its notification IDs or its error.
type Request struct {
	Ctx    context.Context
	Events []persistence.StoredEvent
	IDs    []int64
	Err    error
	done   chan struct{}
}

// A Recorder records the saves of batch in one transaction, with ctx, and
// sets each one's IDs or Err. A batch of one save is recorded with its
// caller's context.
type Recorder func(ctx context.Context, batch []*Request)

// Group coalesces the saves given to Save. Its zero value is not usable:
// make one with New.
type Group struct {
	record Recorder

	mu      sync.Mutex
	queue   []*Request
	running bool // a save is being recorded, or the recording goroutine runs
}

// New returns a Group whose batches record records.
func New(record Recorder) *Group { return &Group{record: record} }

// Outcome says how Save ended.
type Outcome int

const (
	// Recorded: the request's IDs or Err is its outcome.
	Recorded Outcome = iota
	// Withdrawn: ctx ended while the save waited in the queue; nothing of
	// it was recorded.
	Withdrawn
	// Unknown: ctx ended while the save was being recorded with others;
	// it may or may not be recorded.
	Unknown
)

// Save records events, possibly in one batch with other callers' saves,
// and returns the request and how it ended.
func (g *Group) Save(ctx context.Context, events []persistence.StoredEvent) (*Request, Outcome) {
	req := &Request{Ctx: ctx, Events: events, done: make(chan struct{})}
	g.mu.Lock()
	if !g.running {
		// Alone: record on this goroutine, with this caller's context;
		// saves that queue meanwhile are recorded by the goroutine started
		// after it.
		g.running = true
		g.mu.Unlock()
		g.record(ctx, []*Request{req})
		g.mu.Lock()
		if len(g.queue) > 0 {
			go g.run()
		} else {
			g.running = false
		}
		g.mu.Unlock()
		return req, Recorded
	}
	g.queue = append(g.queue, req)
	g.mu.Unlock()
	select {
	case <-req.done:
		return req, Recorded
	case <-ctx.Done():
		if g.withdraw(req) {
			return req, Withdrawn
		}
		select {
		case <-req.done:
			return req, Recorded
		default:
			return req, Unknown
		}
	}
}

// Queued returns how many saves wait in the queue.
func (g *Group) Queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// withdraw removes req from the queue if it is still waiting there.
func (g *Group) withdraw(req *Request) bool {
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
func (g *Group) run() {
	for {
		g.mu.Lock()
		var batch []*Request
		events := 0
		for len(g.queue) > 0 && (len(batch) == 0 || events+len(g.queue[0].Events) <= MaxBatchEvents) {
			events += len(g.queue[0].Events)
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
		for _, req := range batch {
			close(req.done)
		}
	}
}

// batchContext returns the context to record batch with: a save alone
// uses its caller's; a batch carries several callers' saves, so none may
// cancel it, and it ends at the latest of their deadlines (or never, if one
// has none).
func batchContext(batch []*Request) (context.Context, context.CancelFunc) {
	if len(batch) == 1 {
		return batch[0].Ctx, func() {}
	}
	var latest time.Time
	for _, req := range batch {
		deadline, ok := req.Ctx.Deadline()
		if !ok {
			return context.WithoutCancel(batch[0].Ctx), func() {}
		}
		if deadline.After(latest) {
			latest = deadline
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].Ctx), latest)
}
