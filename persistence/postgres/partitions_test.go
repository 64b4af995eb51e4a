package postgres_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// A single tracking record keeps its partition, on the pool
// (InsertTracked) and in the caller's transaction (InsertTx), though
// stored_events_insert has no partition argument.
func TestSingleTrackingKeepsItsPartition(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := openPool(t, testConfig(t))
	rec := postgres.NewRecorder(pool)
	_, err := rec.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "upstream", NotificationID: 4, Partition: 2})
	require.NoError(t, err)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := rec.InsertTx(ctx, tx, nil, persistence.Tracking{ApplicationName: "upstream", NotificationID: 3, Partition: 1})
		return err
	})
	require.NoError(t, err)
	_, err = rec.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "upstream", NotificationID: 1})
	require.NoError(t, err)
	positions, err := rec.PartitionPositions(ctx, "upstream", 3)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 3, 4}, positions)
}

// Bad arguments are programming errors, before any round trip.
func TestPartitionsBadArguments(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rec := postgres.NewRecorder(openPool(t, testConfig(t)))
	for _, tt := range []struct {
		partitions int
		lease      time.Duration
	}{{0, time.Minute}, {-1, time.Minute}, {4, 0}, {4, -time.Second}, {1 << 40, time.Minute}} {
		_, err := rec.ClaimPartitions(ctx, uuid.New(), tt.partitions, tt.lease)
		require.ErrorIs(t, err, persistence.ErrProgramming, "%d partitions, lease %s", tt.partitions, tt.lease)
	}
	_, err := rec.PartitionPositions(ctx, "upstream", -1)
	require.ErrorIs(t, err, persistence.ErrProgramming)
	require.ErrorIs(t, rec.AdvancePartitions(ctx, "upstream", []int{1 << 40}, 1), persistence.ErrProgramming)
	_, err = rec.InsertTrackedPage(ctx, nil, []persistence.Tracking{{ApplicationName: "upstream", NotificationID: 1, Partition: 1 << 40}})
	require.ErrorIs(t, err, persistence.ErrProgramming)
	count, err := rec.PartitionCount(ctx)
	require.NoError(t, err)
	require.Zero(t, count, "nothing recorded")
}
