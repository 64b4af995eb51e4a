package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// ClaimPartitions renews and claims leases in one call of
// partition_leases_claim, on the database's clock; see
// persistence.PartitionRecorder. Fewer than 1 partition, or a lease not
// above zero, is an error wrapping persistence.ErrProgramming.
func (r *Recorder) ClaimPartitions(ctx context.Context, instance uuid.UUID, partitions int, lease time.Duration) ([]int, error) {
	if partitions < 1 || partitions > math.MaxInt32 || lease <= 0 {
		return nil, fmt.Errorf("claim partitions: %d partitions, lease %s: %w", partitions, lease, persistence.ErrProgramming)
	}
	held, err := r.queries.PartitionLeasesClaim(ctx, r.pool, db.PartitionLeasesClaimParams{
		Instance:   instance,
		Partitions: int32(partitions),
		// Rounded up: a lease of less than the interval's microsecond is
		// still a lease.
		LeaseMicroseconds: int64((lease + time.Microsecond - 1) / time.Microsecond),
	})
	if err != nil {
		return nil, mapError("claim partitions", err, nil)
	}
	out := make([]int, len(held))
	for i, p := range held {
		out[i] = int(p)
	}
	return out, nil
}

// ReleasePartitions gives up an instance's leases and registration; see
// persistence.PartitionRecorder.
func (r *Recorder) ReleasePartitions(ctx context.Context, instance uuid.UUID) error {
	if err := r.queries.PartitionLeasesRelease(ctx, r.pool, instance); err != nil {
		return mapError("release partitions of "+instance.String(), err, nil)
	}
	return nil
}

// PartitionCount returns the recorded partition count, or 0; see
// persistence.PartitionRecorder.
func (r *Recorder) PartitionCount(ctx context.Context) (int, error) {
	n, err := r.queries.PartitionCount(ctx, r.pool)
	if err != nil {
		return 0, mapError("partition count", err, nil)
	}
	return int(n), nil
}

// PartitionPositions returns the positions of an upstream's partitions, in
// one query; see persistence.PartitionRecorder. A negative count is an
// error wrapping persistence.ErrProgramming.
func (r *Recorder) PartitionPositions(ctx context.Context, applicationName string, partitions int) ([]int64, error) {
	if partitions < 0 || partitions > math.MaxInt32 {
		return nil, fmt.Errorf("partition positions of %s: %d partitions: %w", applicationName, partitions, persistence.ErrProgramming)
	}
	positions, err := r.queries.PartitionPositions(ctx, r.pool, db.PartitionPositionsParams{ApplicationName: applicationName, Partitions: int32(partitions)})
	if err != nil {
		return nil, mapError("partition positions of "+applicationName, err, nil)
	}
	return positions, nil
}

// AdvancePartitions records partitions' positions, in one call of
// partition_positions_advance; see persistence.PartitionRecorder.
func (r *Recorder) AdvancePartitions(ctx context.Context, applicationName string, partitions []int, position int64) error {
	op := fmt.Sprintf("advance partitions of %s to %d", applicationName, position)
	numbers := make([]int32, len(partitions))
	for i, p := range partitions {
		n, err := partitionNumber(p)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		numbers[i] = n
	}
	err := r.queries.PartitionPositionsAdvance(ctx, r.pool, db.PartitionPositionsAdvanceParams{
		ApplicationName: applicationName, Partitions: numbers, Position: position,
	})
	return mapError(op, err, nil)
}
