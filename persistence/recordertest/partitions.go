package recordertest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// partitionRecorder is a process recorder that divides upstream logs in
// partitions.
type partitionRecorder interface {
	persistence.ProcessRecorder
	persistence.PartitionRecorder
}

// runPartitions runs the cases of persistence.PartitionRecorder, for
// recorders that implement it.
func runPartitions(t *testing.T, newRecorder func(t *testing.T) persistence.ProcessRecorder) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r partitionRecorder)
	}{
		{"FirstClaimTakesEveryPartition", testFirstClaimTakesEveryPartition},
		{"ClaimWithAnotherCountIsRefused", testClaimWithAnotherCount},
		{"InstancesShareThePartitionsFairly", testInstancesShareFairly},
		{"ExpiredLeasesAreClaimed", testExpiredLeasesAreClaimed},
		{"ReleasedPartitionsAreClaimedAtOnce", testReleasedPartitions},
		{"PartitionPositions", testPartitionPositions},
		{"FirstClaimStartsAfterTrackingWithoutPartitions", testFirstClaimStartsAfterTracking},
		{"ConcurrentClaimsNeverShareAPartition", testConcurrentClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, ok := newRecorder(t).(partitionRecorder)
			if !ok {
				t.Fatalf("the recorder does not implement persistence.PartitionRecorder")
			}
			tt.fn(t, r)
		})
	}
}

func claim(t *testing.T, r partitionRecorder, instance uuid.UUID, partitions int, lease time.Duration) []int {
	t.Helper()
	held, err := r.ClaimPartitions(t.Context(), instance, partitions, lease)
	require.NoError(t, err)
	require.True(t, slices.IsSorted(held), "partitions in ascending order: %v", held)
	return held
}

func testFirstClaimTakesEveryPartition(t *testing.T, r partitionRecorder) {
	count, err := r.PartitionCount(t.Context())
	require.NoError(t, err)
	require.Zero(t, count)
	require.Equal(t, []int{0, 1, 2, 3}, claim(t, r, uuid.New(), 4, time.Minute))
	count, err = r.PartitionCount(t.Context())
	require.NoError(t, err)
	require.Equal(t, 4, count)
}

func testClaimWithAnotherCount(t *testing.T, r partitionRecorder) {
	a := uuid.New()
	claim(t, r, a, 4, time.Minute)
	_, err := r.ClaimPartitions(t.Context(), uuid.New(), 8, time.Minute)
	var countErr *persistence.PartitionCountError
	require.ErrorAs(t, err, &countErr)
	require.ErrorIs(t, err, persistence.ErrPartitionCount)
	require.Equal(t, persistence.PartitionCountError{Recorded: 4, Requested: 8}, *countErr)
	require.False(t, persistence.IsRetryable(err))
	// Nothing changed: a still holds every partition.
	require.Equal(t, []int{0, 1, 2, 3}, claim(t, r, a, 4, time.Minute))
}

func testInstancesShareFairly(t *testing.T, r partitionRecorder) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	require.Equal(t, []int{0, 1, 2, 3, 4}, claim(t, r, a, 5, time.Minute))
	require.Empty(t, claim(t, r, b, 5, time.Minute), "every partition is held")
	require.Equal(t, []int{0, 1, 2}, claim(t, r, a, 5, time.Minute), "a keeps its share of 3 (5/2 rounded up)")
	require.Equal(t, []int{3, 4}, claim(t, r, b, 5, time.Minute))
	require.Empty(t, claim(t, r, c, 5, time.Minute))
	require.Equal(t, []int{0, 1}, claim(t, r, a, 5, time.Minute), "share 2 of 5 among 3")
	require.Equal(t, []int{2}, claim(t, r, c, 5, time.Minute))
	require.Equal(t, []int{3, 4}, claim(t, r, b, 5, time.Minute))
}

func testExpiredLeasesAreClaimed(t *testing.T, r partitionRecorder) {
	a, b := uuid.New(), uuid.New()
	require.Equal(t, []int{0, 1, 2}, claim(t, r, a, 3, 50*time.Millisecond))
	time.Sleep(200 * time.Millisecond) // a dies: it renews nothing
	require.Equal(t, []int{0, 1, 2}, claim(t, r, b, 3, time.Minute), "a's leases and registration expired")
	require.Empty(t, claim(t, r, a, 3, time.Minute), "a is back, but b holds every partition")
	require.Equal(t, []int{0, 1}, claim(t, r, b, 3, time.Minute), "b gives up one, keeping its share")
	require.Equal(t, []int{2}, claim(t, r, a, 3, time.Minute))
}

func testReleasedPartitions(t *testing.T, r partitionRecorder) {
	ctx := t.Context()
	a, b := uuid.New(), uuid.New()
	claim(t, r, a, 4, time.Minute)
	claim(t, r, b, 4, time.Minute)
	require.Equal(t, []int{0, 1}, claim(t, r, a, 4, time.Minute))
	require.Equal(t, []int{2, 3}, claim(t, r, b, 4, time.Minute))
	require.NoError(t, r.ReleasePartitions(ctx, a))
	require.Equal(t, []int{0, 1, 2, 3}, claim(t, r, b, 4, time.Minute), "a is no longer live and holds nothing")
}

func testPartitionPositions(t *testing.T, r partitionRecorder) {
	ctx := t.Context()
	positions, err := r.PartitionPositions(ctx, "upstream", 3)
	require.NoError(t, err)
	require.Equal(t, []int64{0, 0, 0}, positions)
	_, err = r.InsertTrackedPage(ctx, []persistence.StoredEvent{event(uuid.New(), 1)}, []persistence.Tracking{
		{ApplicationName: "upstream", NotificationID: 3, Partition: 1},
		{ApplicationName: "upstream", NotificationID: 5, Partition: 1},
		{ApplicationName: "upstream", NotificationID: 6, Partition: 2},
		{ApplicationName: "other", NotificationID: 9, Partition: 0},
	})
	require.NoError(t, err)
	positions, err = r.PartitionPositions(ctx, "upstream", 3)
	require.NoError(t, err)
	require.Equal(t, []int64{0, 5, 6}, positions)

	require.NoError(t, r.AdvancePartitions(ctx, "upstream", []int{0, 1}, 8))
	require.NoError(t, r.AdvancePartitions(ctx, "upstream", []int{0}, 4), "a lower position changes nothing")
	positions, err = r.PartitionPositions(ctx, "upstream", 3)
	require.NoError(t, err)
	require.Equal(t, []int64{8, 8, 6}, positions)

	// The same notification cannot be tracked in another partition.
	_, err = r.InsertTrackedPage(ctx, nil, []persistence.Tracking{{ApplicationName: "upstream", NotificationID: 6, Partition: 0}})
	require.True(t, persistence.IsConflict(err), "got %v", err)
	positions, err = r.PartitionPositions(ctx, "other", 2)
	require.NoError(t, err)
	require.Equal(t, []int64{9, 0}, positions)
}

func testFirstClaimStartsAfterTracking(t *testing.T, r partitionRecorder) {
	ctx := t.Context()
	for _, id := range []int64{1, 2, 7} {
		_, err := r.InsertTracked(ctx, nil, persistence.Tracking{ApplicationName: "upstream", NotificationID: id})
		require.NoError(t, err)
	}
	claim(t, r, uuid.New(), 4, time.Minute)
	positions, err := r.PartitionPositions(ctx, "upstream", 4)
	require.NoError(t, err)
	require.Equal(t, []int64{7, 7, 7, 7}, positions, "everything up to 7 was processed before the log was divided")
	positions, err = r.PartitionPositions(ctx, "never-tracked", 4)
	require.NoError(t, err)
	require.Equal(t, []int64{0, 0, 0, 0}, positions)
}

func testConcurrentClaims(t *testing.T, r partitionRecorder) {
	const partitions, instances = 16, 4
	ids := make([]uuid.UUID, instances)
	for i := range ids {
		ids[i] = uuid.New()
	}
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := r.ClaimPartitions(t.Context(), id, partitions, time.Minute); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(t, errors.Join(slices.Collect(func(yield func(error) bool) {
		for err := range errs {
			if !yield(err) {
				return
			}
		}
	})...))
	// Two more rounds settle the shares: 4 each, each partition once.
	held := map[int]uuid.UUID{}
	for round := range 2 {
		clear(held)
		for _, id := range ids {
			for _, p := range claim(t, r, id, partitions, time.Minute) {
				require.NotContains(t, held, p, "round %d: partition %d held twice", round, p)
				held[p] = id
			}
		}
	}
	require.Len(t, held, partitions)
}
