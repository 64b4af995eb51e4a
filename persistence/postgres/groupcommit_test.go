package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/db"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
)

func ev(id uuid.UUID, version int64) persistence.StoredEvent {
	return persistence.StoredEvent{OriginatorID: id, OriginatorVersion: version, Topic: "t:E", State: []byte(fmt.Sprint(version))}
}

// The batch procedure judges each save as if the saves ran one after
// another, under the lock.
func TestInsertBatchProcedureIsolatesConflictingSaves(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := openPool(t, testConfig(t))
	rec := postgres.NewRecorder(pool)
	a, b, c, d, e := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	_, err := rec.InsertNotifications(ctx, []persistence.StoredEvent{ev(b, 1)})
	require.NoError(t, err)

	saves := [][]persistence.StoredEvent{
		{ev(a, 1), ev(a, 2)}, // 1: fine
		{ev(c, 1), ev(b, 1)}, // 2: b1 is recorded already
		{ev(d, 1), ev(a, 2)}, // 3: a2 belongs to save 1
		{ev(e, 1), ev(e, 1)}, // 4: repeats a key within the save
		{ev(c, 1)},           // 5: c1 was in save 2, which failed: fine
		{ev(d, 1), ev(d, 2)}, // 6: d1 was in save 3, which failed: fine
	}
	var arg db.StoredEventsInsertBatchParams
	for i, save := range saves {
		for _, e := range save {
			arg.OriginatorIds = append(arg.OriginatorIds, e.OriginatorID)
			arg.OriginatorVersions = append(arg.OriginatorVersions, e.OriginatorVersion)
			arg.Topics = append(arg.Topics, e.Topic)
			arg.States = append(arg.States, e.State)
			arg.SaveNumbers = append(arg.SaveNumbers, int32(i+1))
			arg.CorrelationIds = append(arg.CorrelationIds, uuid.UUID{byte(i + 1)})
			arg.EventHashes = append(arg.EventHashes, []byte{byte(i + 1)})
		}
	}
	results, err := db.New().StoredEventsInsertBatch(ctx, pool, arg)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 3, 0, -1, 0, -1, 0, -1, 4, 5, 6}, results)

	ns, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100})
	require.NoError(t, err)
	var keys []string
	for _, n := range ns {
		keys = append(keys, fmt.Sprintf("%d:%s@%d", n.ID, n.OriginatorID, n.OriginatorVersion))
		if n.ID > 1 { // the metadata of each row is its own save's
			save := map[uuid.UUID]byte{a: 1, c: 5, d: 6}[n.OriginatorID]
			require.Equal(t, uuid.UUID{save}, n.CorrelationID, "notification %d", n.ID)
			require.Equal(t, []byte{save}, n.Hash, "notification %d", n.ID)
			require.Equal(t, uuid.Nil, n.EventID, "a NULL array records NULL")
		}
	}
	require.Equal(t, []string{
		fmt.Sprintf("1:%s@1", b), fmt.Sprintf("2:%s@1", a), fmt.Sprintf("3:%s@2", a),
		fmt.Sprintf("4:%s@1", c), fmt.Sprintf("5:%s@1", d), fmt.Sprintf("6:%s@2", d),
	}, keys)
}

// Saves that queue while the lock is held are recorded together, in one
// call of the procedure: the listener hears one notification per call.
func TestGroupCommitCoalescesConcurrentSaves(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.PoolSize = 4
	pool := openPool(t, cfg)
	rec := postgres.NewRecorder(pool)

	listener, err := pgx.Connect(ctx, cfg.ConnString)
	require.NoError(t, err)
	t.Cleanup(func() { listener.Close(context.Background()) })
	_, err = listener.Exec(ctx, "LISTEN "+cfg.Schema)
	require.NoError(t, err)

	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = blocker.Exec(ctx, "LOCK TABLE stored_events IN EXCLUSIVE MODE")
	require.NoError(t, err)

	const saves = 64
	contested := uuid.New()
	var wg sync.WaitGroup
	ids := make([][]int64, saves)
	errs := make([]error, saves)
	for i := 0; i < saves; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			events := []persistence.StoredEvent{ev(uuid.New(), 1), ev(uuid.New(), 1)}
			if i%8 == 0 {
				// Eight saves contest one aggregate version: one wins.
				events = append(events, ev(contested, 1))
			}
			ids[i], errs[i] = rec.InsertNotifications(ctx, events)
		}(i)
	}
	requireQueuedBehindLock(t, rec, saves)
	require.NoError(t, blocker.Commit(ctx))
	wg.Wait()

	winners := 0
	for i := range errs {
		if i%8 == 0 && errs[i] != nil {
			var conflict *persistence.ConcurrencyError
			require.ErrorAs(t, errs[i], &conflict)
			require.Equal(t, contested, conflict.OriginatorID)
			require.Nil(t, ids[i])
			continue
		}
		require.NoError(t, errs[i])
		if i%8 == 0 {
			winners++
			require.Len(t, ids[i], 3)
		} else {
			require.Len(t, ids[i], 2)
		}
	}
	require.Equal(t, 1, winners, "exactly one save of the contested version wins")

	calls := 0
	for {
		waitCtx, cancelWait := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := listener.WaitForNotification(waitCtx)
		cancelWait()
		if err != nil {
			require.True(t, errors.Is(err, context.DeadlineExceeded) || waitCtx.Err() != nil, "%v", err)
			break
		}
		calls++
	}
	require.GreaterOrEqual(t, calls, 1)
	require.LessOrEqual(t, calls, 3, "64 queued saves are recorded in at most a few calls (the first leader's, then the rest together)")

	// The losing saves were checked before inserting, so they used no ids:
	// 56 saves of 2 events and the winner's 3, gapless.
	max, err := rec.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(56*2+3), max)
}

// A save whose context ends while it waits for the lock returns then, not
// when the database lets it through. Whether a save that timed out was
// recorded is unknown to its caller (the server may still run the
// statement when the lock is released), but it is recorded whole or not at
// all, and the recorder goes on working.
func TestSaveReturnsAtItsDeadline(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := openPool(t, testConfig(t))
	rec := postgres.NewRecorder(pool)
	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = blocker.Exec(ctx, "LOCK TABLE stored_events IN EXCLUSIVE MODE")
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 4)
	ids := make([]uuid.UUID, 4)
	start := time.Now()
	for i := range errs {
		ids[i] = uuid.New()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			saveCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, errs[i] = rec.InsertNotifications(saveCtx, []persistence.StoredEvent{ev(ids[i], 1), ev(ids[i], 2)})
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	require.Less(t, elapsed, 5*time.Second, "the saves returned at their deadlines, not when the lock was released")
	require.NoError(t, blocker.Commit(ctx))

	_, err = rec.InsertNotifications(ctx, []persistence.StoredEvent{ev(uuid.New(), 1)})
	require.NoError(t, err, "the recorder works after the timeouts")
	for _, id := range ids {
		got, err := rec.SelectEvents(ctx, id, persistence.EventQuery{})
		require.NoError(t, err)
		require.Contains(t, []int{0, 2}, len(got), "a timed-out save is recorded whole or not at all")
	}
}

// Saves with mixed deadlines, one with none, stalled together behind a
// held insert lock: each returns when its own context ends, within a
// margin of its own deadline (not at the latest deadline of its batch, nor
// when the lock is released), with an error that says whether the outcome
// is unknown; the save without a deadline is recorded once the lock is
// free, and each of the others is recorded whole or not at all. The first
// save is alone in flight when the others queue: one with a deadline, or
// the one without.
func TestSavesWithMixedDeadlinesEachReturnAtTheirOwn(t *testing.T) {
	t.Parallel()
	t.Run("a save with a deadline in flight", func(t *testing.T) {
		t.Parallel()
		errs := stallSavesWithDeadlines(t, []time.Duration{300 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 0})
		require.ErrorIs(t, errs[0], persistence.ErrOutcomeUnknown, "the first save was in flight when its deadline passed")
		require.ErrorIs(t, errs[1], persistence.ErrOutcomeUnknown, "the queued saves were being recorded together when their deadlines passed")
		require.ErrorIs(t, errs[2], persistence.ErrOutcomeUnknown)
	})
	t.Run("the save without a deadline in flight", func(t *testing.T) {
		t.Parallel()
		errs := stallSavesWithDeadlines(t, []time.Duration{0, 300 * time.Millisecond, 3 * time.Second})
		for i := range errs[1:] {
			require.NotErrorIs(t, errs[1+i], persistence.ErrOutcomeUnknown, "save %d waited in the queue behind the stalled first save, and was withdrawn", 1+i)
		}
	})
}

// stallSavesWithDeadlines holds the insert lock of a fresh schema and runs
// recordertest.SavesWithDeadlines on it.
func stallSavesWithDeadlines(t *testing.T, deadlines []time.Duration) []error {
	t.Helper()
	ctx := t.Context()
	cfg := testConfig(t)
	cfg.PoolSize = len(deadlines) + 2
	pool := openPool(t, cfg)
	batches := make(chan int, 16)
	rec := postgres.NewRecorder(pool, postgres.ObserveBatches(func(_ context.Context, saves, _ int) { batches <- saves }))
	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer blocker.Rollback(ctx)
	_, err = blocker.Exec(ctx, "LOCK TABLE stored_events IN EXCLUSIVE MODE")
	require.NoError(t, err)
	return recordertest.SavesWithDeadlines(t, recordertest.StalledSaves{
		Recorder: rec,
		Started: func(i int) {
			if i == 0 {
				require.Equal(t, 1, <-batches, "the first save is recorded alone") // in flight before the others start
			}
		},
		Release: func() { require.NoError(t, blocker.Commit(ctx)) },
	}, deadlines)
}

// ObserveBatches is told of each group commit: a save alone is a batch of
// one, and saves that queue behind the lock are one batch, whose saves and
// events are all counted.
func TestGroupCommitObserveBatches(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.PoolSize = 4
	pool := openPool(t, cfg)
	var mu sync.Mutex
	var batches [][2]int // saves, events
	rec := postgres.NewRecorder(pool, postgres.ObserveBatches(func(_ context.Context, saves, events int) {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, [2]int{saves, events})
	}))

	_, err := rec.InsertNotifications(ctx, []persistence.StoredEvent{ev(uuid.New(), 1), ev(uuid.New(), 1)})
	require.NoError(t, err)
	require.Equal(t, [][2]int{{1, 2}}, batches, "a save alone")

	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = blocker.Exec(ctx, "LOCK TABLE stored_events IN EXCLUSIVE MODE")
	require.NoError(t, err)
	const saves = 16
	var wg sync.WaitGroup
	errs := make([]error, saves)
	for i := range saves {
		wg.Go(func() {
			_, errs[i] = rec.InsertNotifications(ctx, []persistence.StoredEvent{ev(uuid.New(), 1), ev(uuid.New(), 1), ev(uuid.New(), 1)})
		})
	}
	requireQueuedBehindLock(t, rec, saves)
	require.NoError(t, blocker.Commit(ctx))
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "save %d", i)
	}

	mu.Lock()
	defer mu.Unlock()
	total, events, largest := 0, 0, 0
	for _, b := range batches[1:] {
		total, events, largest = total+b[0], events+b[1], max(largest, b[0])
	}
	require.Equal(t, saves, total, "every save is in one batch: %v", batches)
	require.Equal(t, 3*saves, events)
	require.Greater(t, largest, 1, "saves queued behind the lock are one batch: %v", batches)
}

// requireQueuedBehindLock waits until saves concurrent saves on rec wait
// behind the table lock: the first, recorded alone, in the database, the
// others in the group commit queue.
func requireQueuedBehindLock(t *testing.T, rec *postgres.Recorder, saves int) {
	t.Helper()
	require.Eventually(t, func() bool { return postgres.QueuedSaves(rec) == saves-1 },
		10*time.Second, time.Millisecond, "saves queued behind the lock")
}
