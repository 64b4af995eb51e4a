package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// partitionKey names a partition of an upstream application's log.
type partitionKey struct {
	upstream  string
	partition int
}

// leases are the partition leases of a follower, on the process's clock.
type leases struct {
	count     int                     // 0 until the first claim
	owner     []uuid.UUID             // per partition; uuid.Nil is free
	expires   []time.Time             // per partition
	instances map[uuid.UUID]time.Time // live instances and when they expire
	positions map[partitionKey]int64  // recorded by AdvancePartitions
}

func newLeases() *leases {
	return &leases{instances: map[uuid.UUID]time.Time{}, positions: map[partitionKey]int64{}}
}

// ClaimPartitions renews and claims leases; see
// persistence.PartitionRecorder.
func (r *Recorder) ClaimPartitions(ctx context.Context, instance uuid.UUID, partitions int, lease time.Duration) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if partitions < 1 || lease <= 0 {
		return nil, fmt.Errorf("claim partitions: %d partitions, lease %s: %w", partitions, lease, persistence.ErrProgramming)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.leases
	if l.count == 0 {
		l.count = partitions
		l.owner = make([]uuid.UUID, partitions)
		l.expires = make([]time.Time, partitions)
		for name, last := range r.maxTracking {
			for p := range partitions {
				l.positions[partitionKey{name, p}] = last
			}
		}
	} else if l.count != partitions {
		return nil, fmt.Errorf("claim partitions: %w", &persistence.PartitionCountError{Recorded: l.count, Requested: partitions})
	}
	now := time.Now()
	until := now.Add(lease)
	l.instances[instance] = until
	for id, expires := range l.instances {
		if expires.Before(now) {
			delete(l.instances, id)
		}
	}
	share := (partitions + len(l.instances) - 1) / len(l.instances)
	var held []int
	for p := range partitions {
		if l.owner[p] == instance {
			if len(held) < share {
				held = append(held, p)
				l.expires[p] = until
			} else {
				l.owner[p] = uuid.Nil
			}
		}
	}
	for p := 0; p < partitions && len(held) < share; p++ {
		if l.owner[p] == uuid.Nil || l.expires[p].Before(now) {
			l.owner[p], l.expires[p] = instance, until
			held = append(held, p)
		}
	}
	slices.Sort(held)
	return held, nil
}

// ReleasePartitions gives up an instance's leases; see
// persistence.PartitionRecorder.
func (r *Recorder) ReleasePartitions(ctx context.Context, instance uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.leases
	delete(l.instances, instance)
	for p, owner := range l.owner {
		if owner == instance {
			l.owner[p] = uuid.Nil
		}
	}
	return nil
}

// PartitionCount returns the recorded partition count, or 0; see
// persistence.PartitionRecorder.
func (r *Recorder) PartitionCount(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.leases.count, nil
}

// PartitionPositions returns the positions of an upstream's partitions;
// see persistence.PartitionRecorder.
func (r *Recorder) PartitionPositions(ctx context.Context, applicationName string, partitions int) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	positions := make([]int64, partitions)
	for p := range positions {
		key := partitionKey{applicationName, p}
		positions[p] = max(r.partitionMax[key], r.leases.positions[key])
	}
	return positions, nil
}

// AdvancePartitions records partitions' positions; see
// persistence.PartitionRecorder.
func (r *Recorder) AdvancePartitions(ctx context.Context, applicationName string, partitions []int, position int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range partitions {
		key := partitionKey{applicationName, p}
		r.leases.positions[key] = max(r.leases.positions[key], position)
	}
	return nil
}
