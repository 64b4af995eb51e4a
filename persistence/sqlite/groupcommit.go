package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/internal/groupcommit"
)

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
// rolled back to it alone. See package groupcommit: a lone save is
// recorded on its caller's goroutine, with its caller's context, as
// without group commit.
type groupCommit struct {
	d       *Database
	observe BatchObserver // nil: none
	group   *groupcommit.Group
}

func newGroupCommit(d *Database) *groupCommit {
	g := &groupCommit{d: d}
	g.group = groupcommit.New(g.record)
	return g
}

// insert records events atomically, possibly in one transaction with other
// callers' events, and returns their notification IDs. When ctx ends while
// the events wait in the queue it returns ctx's error; when it ends once
// they are being recorded, ctx's error wrapping
// persistence.ErrOutcomeUnknown.
func (g *groupCommit) insert(ctx context.Context, events []persistence.StoredEvent) ([]int64, error) {
	req, how := g.group.Save(ctx, events)
	op := recordOp("event", len(events), false)
	switch how {
	case groupcommit.Withdrawn:
		return nil, fmt.Errorf("%s in %s: %w", op, describe(g.d.name), ctx.Err())
	case groupcommit.Unknown:
		return nil, fmt.Errorf("%s in %s: %w: %w", op, describe(g.d.name), persistence.ErrOutcomeUnknown, ctx.Err())
	}
	return req.IDs, req.Err
}

// record writes the saves of batch in one transaction and gives each its
// outcome. A save alone is written as without group commit; in a batch,
// each save has a savepoint, and one whose insert fails is rolled back to
// it and given its error, while the others commit. Any other failure (a
// savepoint that cannot be rolled back to, the commit) fails every save
// of the batch, none of which is then recorded.
func (g *groupCommit) record(ctx context.Context, batch []*groupcommit.Request) {
	events := 0
	for _, req := range batch {
		events += len(req.Events)
	}
	if g.observe != nil {
		g.observe(ctx, len(batch), events)
	}
	if len(batch) == 1 {
		req := batch[0]
		err := g.d.write(ctx, recordOp("event", len(req.Events), false), func(tx *sql.Tx) error {
			var err error
			req.IDs, err = insertEvents(ctx, g.d.queries, tx, req.Events)
			return err
		})
		if err != nil {
			req.IDs, req.Err = nil, err
		}
		return
	}
	saves := make([]error, len(batch))
	ids := make([][]int64, len(batch))
	err := g.d.write(ctx, fmt.Sprintf("record %d saves of %d events", len(batch), events), func(tx *sql.Tx) error {
		for i, req := range batch {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT save"); err != nil {
				return err
			}
			ids[i], saves[i] = insertEvents(ctx, g.d.queries, tx, req.Events)
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
			req.Err = err
		case saves[i] != nil:
			req.Err = g.d.fail(recordOp("event", len(req.Events), false), saves[i])
		default:
			req.IDs = ids[i]
		}
	}
}
