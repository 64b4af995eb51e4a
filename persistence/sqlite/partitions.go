package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/db/sqlitedb"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// ClaimPartitions renews and claims leases in one write transaction; see
// persistence.PartitionRecorder. Lease times run on the clock of the
// process that claims, so the processes that share a database file share
// one machine's clock. Fewer than 1 partition, or a lease not above zero,
// is an error wrapping persistence.ErrProgramming.
func (r *Recorder) ClaimPartitions(ctx context.Context, instance uuid.UUID, partitions int, lease time.Duration) ([]int, error) {
	if partitions < 1 || lease <= 0 {
		return nil, fmt.Errorf("claim partitions: %d partitions, lease %s: %w", partitions, lease, persistence.ErrProgramming)
	}
	q, owner := r.d.queries, instance.String()
	var held []int
	err := r.d.write(ctx, "claim partitions", func(tx *sql.Tx) error {
		recorded, err := q.PartitionCount(ctx, tx)
		if err != nil {
			return err
		}
		if recorded == 0 {
			for p := range int64(partitions) {
				if err := q.PartitionLeasesInsert(ctx, tx, sqlitedb.PartitionLeasesInsertParams{Partition: p, Partitions: int64(partitions)}); err != nil {
					return err
				}
				if err := q.PartitionPositionsStart(ctx, tx, p); err != nil {
					return err
				}
			}
		} else if recorded != int64(partitions) {
			return &persistence.PartitionCountError{Recorded: int(recorded), Requested: partitions}
		}
		// The lock may have been waited for: read the clock now.
		now := time.Now()
		until := now.Add(lease).UnixMicro()
		if err := q.FollowerInstancesUpsert(ctx, tx, sqlitedb.FollowerInstancesUpsertParams{Instance: owner, ExpiresAt: until}); err != nil {
			return err
		}
		if err := q.FollowerInstancesDeleteExpired(ctx, tx, now.UnixMicro()); err != nil {
			return err
		}
		live, err := q.FollowerInstancesCount(ctx, tx)
		if err != nil {
			return err
		}
		share := (int64(partitions) + live - 1) / live
		// Renew the first share of the instance's leases, give up the rest.
		own, err := q.PartitionLeasesOwned(ctx, tx, owner)
		if err != nil {
			return err
		}
		for i, p := range own {
			set := sqlitedb.PartitionLeasesSetParams{Owner: owner, ExpiresAt: until, Partition: p}
			if int64(i) >= share {
				set.Owner, set.ExpiresAt = "", 0
			}
			if err := q.PartitionLeasesSet(ctx, tx, set); err != nil {
				return err
			}
		}
		kept := min(int64(len(own)), share)
		free, err := q.PartitionLeasesFree(ctx, tx, sqlitedb.PartitionLeasesFreeParams{Now: now.UnixMicro(), Lim: share - kept})
		if err != nil {
			return err
		}
		for _, p := range free {
			if err := q.PartitionLeasesSet(ctx, tx, sqlitedb.PartitionLeasesSetParams{Owner: owner, ExpiresAt: until, Partition: p}); err != nil {
				return err
			}
		}
		ps, err := q.PartitionLeasesOwned(ctx, tx, owner)
		if err != nil {
			return err
		}
		held = make([]int, len(ps))
		for i, p := range ps {
			held[i] = int(p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return held, nil
}

// ReleasePartitions gives up an instance's leases and registration, in one
// write transaction; see persistence.PartitionRecorder.
func (r *Recorder) ReleasePartitions(ctx context.Context, instance uuid.UUID) error {
	return r.d.write(ctx, "release partitions of "+instance.String(), func(tx *sql.Tx) error {
		if err := r.d.queries.FollowerInstancesDelete(ctx, tx, instance.String()); err != nil {
			return err
		}
		return r.d.queries.PartitionLeasesRelease(ctx, tx, instance.String())
	})
}

// PartitionCount returns the recorded partition count, or 0; see
// persistence.PartitionRecorder.
func (r *Recorder) PartitionCount(ctx context.Context) (int, error) {
	n, err := r.d.queries.PartitionCount(ctx, r.d.db)
	return int(n), r.d.fail("partition count", err)
}

// PartitionPositions returns the positions of an upstream's partitions;
// see persistence.PartitionRecorder. A negative count is an error wrapping
// persistence.ErrProgramming.
func (r *Recorder) PartitionPositions(ctx context.Context, applicationName string, partitions int) ([]int64, error) {
	op := "partition positions of " + applicationName
	if partitions < 0 {
		return nil, fmt.Errorf("%s: %d partitions: %w", op, partitions, persistence.ErrProgramming)
	}
	// One read transaction (a plain BEGIN: _txlock applies to writers
	// only), so that the tracking records and the positions agree.
	tx, err := r.d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, r.d.fail(op, err)
	}
	defer tx.Rollback() // it only read: ending it is all that is left to do
	tracked, err := r.d.queries.TrackingMaxByPartition(ctx, tx, applicationName)
	if err != nil {
		return nil, r.d.fail(op, err)
	}
	recorded, err := r.d.queries.PartitionPositionsOf(ctx, tx, applicationName)
	if err != nil {
		return nil, r.d.fail(op, err)
	}
	positions := make([]int64, partitions)
	raise := func(p, position int64) {
		if p >= 0 && p < int64(partitions) {
			positions[p] = max(positions[p], position)
		}
	}
	for _, t := range tracked {
		raise(t.Partition, t.MaxID)
	}
	for _, x := range recorded {
		raise(x.Partition, x.Position)
	}
	return positions, nil
}

// AdvancePartitions records partitions' positions, in one write
// transaction; see persistence.PartitionRecorder.
func (r *Recorder) AdvancePartitions(ctx context.Context, applicationName string, partitions []int, position int64) error {
	op := fmt.Sprintf("advance partitions of %s to %d", applicationName, position)
	return r.d.write(ctx, op, func(tx *sql.Tx) error {
		for _, p := range partitions {
			err := r.d.queries.PartitionPositionsAdvance(ctx, tx, sqlitedb.PartitionPositionsAdvanceParams{
				ApplicationName: applicationName, Partition: int64(p), Position: position})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
