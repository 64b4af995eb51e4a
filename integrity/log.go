package integrity

import (
	"context"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Summary counts what a verification checked.
type Summary struct {
	Aggregates int64
	Events     int64
	// UnhashedEvents have no hash: recorded before the application
	// hash-chained its events, they are not covered.
	UnhashedEvents int64
	Snapshots      int64
	// UnsealedSnapshots have no seal: an application that hash-chains
	// its events does not use them (a strict one refuses them).
	UnsealedSnapshots int64
	Problems          int64
}

// Problem is a problem found by VerifyLog: Err is one of the errors of
// Chain.Next and VerifySnapshot.
type Problem struct {
	OriginatorID uuid.UUID
	Version      int64
	Snapshot     bool
	Err          error
}

// VerifyLog verifies every aggregate of an application in Go: the hash
// chain of the events of events (read in pages of pageSize notifications,
// 1000 when not positive), and, when snapshots is not nil, the seal of
// every snapshot of the aggregates found; when h is strict, each event
// without a hash and each unsealed snapshot is a problem. It calls report for each
// problem (then goes on, the chain resuming from the event reported), and
// progress, when not nil, after each page with the counts so far. It
// returns the counts, and an error only when reading fails. It keeps one
// head per aggregate in memory. The SQL function stored_events_verify does
// the same in PostgreSQL (and also checks each snapshot's head hash
// against the event at its version).
func (h *Hasher) VerifyLog(ctx context.Context, events persistence.ApplicationRecorder, snapshots persistence.AggregateRecorder,
	pageSize int, report func(Problem), progress func(Summary)) (Summary, error) {
	if pageSize <= 0 {
		pageSize = 1000
	}
	var sum Summary
	chains := map[uuid.UUID]*Chain{}
	var order []uuid.UUID
	problem := func(p Problem) {
		sum.Problems++
		if report != nil {
			report(p)
		}
	}
	for start := int64(1); ; {
		page, err := events.SelectNotifications(ctx, persistence.NotificationQuery{Start: start, Limit: pageSize})
		if err != nil {
			return sum, err
		}
		for _, n := range page {
			c, ok := chains[n.OriginatorID]
			if !ok {
				c = h.NewChain(n.OriginatorID)
				chains[n.OriginatorID] = c
				order = append(order, n.OriginatorID)
				sum.Aggregates++
			}
			sum.Events++
			if n.Hash == nil {
				sum.UnhashedEvents++
			}
			if err := c.Next(n.StoredEvent); err != nil {
				problem(Problem{OriginatorID: n.OriginatorID, Version: n.OriginatorVersion, Err: err})
				chains[n.OriginatorID] = h.ChainFrom(n.OriginatorID, n.OriginatorVersion, n.Hash)
			}
		}
		if progress != nil {
			progress(sum)
		}
		if len(page) < pageSize {
			break
		}
		start = page[len(page)-1].ID + 1
	}
	if snapshots == nil {
		return sum, nil
	}
	for _, id := range order {
		snaps, err := snapshots.SelectEvents(ctx, id, persistence.EventQuery{})
		if err != nil {
			return sum, err
		}
		for _, s := range snaps {
			sum.Snapshots++
			if s.Hash == nil {
				sum.UnsealedSnapshots++
				if !h.strict {
					continue
				}
			}
			if err := h.VerifySnapshot(s); err != nil {
				problem(Problem{OriginatorID: id, Version: s.OriginatorVersion, Snapshot: true, Err: err})
			}
		}
	}
	if progress != nil {
		progress(sum)
	}
	return sum, nil
}
