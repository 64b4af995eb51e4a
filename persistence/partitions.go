package persistence

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// PartitionRecorder is implemented by process recorders on which several
// instances of one process application divide their upstream logs in
// partitions (by a hash of the originator ID): each instance holds leases
// on some partitions and processes only their notifications. The leases
// and the partition count are kept in the recorder, so that every instance
// agrees on them; lease times run on the recorder's clock.
//
// Tracking records carry their partition (Tracking.Partition). A
// partition's position is the notification ID up to which every one of
// its notifications is processed: all the tracking records of a partition
// are the partition's notifications up to its position, with no gaps.
type PartitionRecorder interface {
	// ClaimPartitions registers the instance as live until lease from now
	// and renews the leases it holds by as much; then it gives up the
	// partitions it holds beyond its fair share (the partition count
	// divided by the live instances, rounded up) and claims free or expired
	// ones up to it. It returns the partitions the instance holds, in
	// ascending order. The first claim of a follower records its partition
	// count and, for each upstream it has tracked, the largest
	// notification ID tracked as the position of every partition (the
	// tracking of a follower that did not divide its logs has no gaps). A
	// claim with another count returns a *PartitionCountError and changes
	// nothing.
	ClaimPartitions(ctx context.Context, instance uuid.UUID, partitions int, lease time.Duration) ([]int, error)
	// ReleasePartitions gives up the instance's leases and registration,
	// so that other instances may claim its partitions at once.
	ReleasePartitions(ctx context.Context, instance uuid.UUID) error
	// PartitionCount returns the partition count that the first claim
	// recorded, or 0 if none did.
	PartitionCount(ctx context.Context) (int, error)
	// PartitionPositions returns the position of each partition 0 to
	// partitions-1 of the named upstream application: the larger of the
	// largest notification ID tracked in the partition and of the
	// position that AdvancePartitions recorded (0 if neither).
	PartitionPositions(ctx context.Context, applicationName string, partitions int) ([]int64, error)
	// AdvancePartitions records that every notification of the named
	// upstream application up to position is processed in each of
	// partitions. A position below the one recorded leaves it as it is.
	AdvancePartitions(ctx context.Context, applicationName string, partitions []int, position int64) error
}

// ErrPartitionCount is wrapped by a *PartitionCountError.
var ErrPartitionCount = errors.New("partition count differs from the one recorded")

// PartitionCountError is returned when an instance of a process
// application claims partitions with a count other than the one its first
// instance recorded: the positions of the partitions would not hold for
// another division. It is a configuration error; a retry does not cure it.
type PartitionCountError struct {
	Recorded, Requested int
}

func (e *PartitionCountError) Error() string {
	return fmt.Sprintf("the follower divides its upstream logs in %d partitions, not %d: every instance must be configured with the same count, which cannot change once recorded", e.Recorded, e.Requested)
}

// Unwrap returns ErrPartitionCount.
func (e *PartitionCountError) Unwrap() error { return ErrPartitionCount }
