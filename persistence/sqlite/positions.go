package sqlite

import (
	"context"
	"slices"
)

// TrackingPosition is where the process application that records in a
// database stands on an upstream application it follows.
type TrackingPosition struct {
	// Upstream is the name of the application whose notifications are
	// tracked.
	Upstream string
	// Tracked is the notification ID up to which every notification of
	// Upstream is processed: the largest one tracked or, when the
	// follower's instances divide the upstream log in partitions, the
	// lowest of the partitions' positions.
	Tracked int64
}

// TrackingPositions returns the position of the database's application on
// each upstream application it tracks, in the order of their names (none
// for an application that tracks nothing). It reads the names and then
// each position, not in one transaction: a follower at work may have moved
// on between them. A database without the event store's tables gives an
// error wrapping persistence.ErrProgramming. It is safe for concurrent use.
func (r *Recorder) TrackingPositions(ctx context.Context) ([]TrackingPosition, error) {
	names, err := r.d.queries.TrackedApplications(ctx, r.d.db)
	if err != nil {
		return nil, r.d.fail("tracked applications", err)
	}
	partitions, err := r.PartitionCount(ctx)
	if err != nil {
		return nil, err
	}
	positions := make([]TrackingPosition, 0, len(names))
	for _, name := range names {
		pos := TrackingPosition{Upstream: name}
		if partitions == 0 {
			pos.Tracked, err = r.MaxTrackingID(ctx, name)
		} else {
			var each []int64
			if each, err = r.PartitionPositions(ctx, name, partitions); err == nil {
				pos.Tracked = slices.Min(each) // partitions > 0
			}
		}
		if err != nil {
			return nil, err
		}
		positions = append(positions, pos)
	}
	return positions, nil
}
