package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
)

// batches records the batches a group commit reports.
type batches struct {
	mu    sync.Mutex
	saves []int
}

func (b *batches) observe(_ context.Context, saves, _ int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.saves = append(b.saves, saves)
}

func (b *batches) get() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.saves...)
}

// openGrouped opens a new database file whose group commit reports its
// batches to the returned batches.
func openGrouped(t *testing.T) (*Database, *batches) {
	t.Helper()
	d, err := Open(t.Context(), Config{DBName: filepath.Join(t.TempDir(), "events.db"), CreateTable: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	b := &batches{}
	d.ObserveBatches(b.observe)
	return d, b
}

// queued waits until n saves wait in d's group commit queue.
func queued(t *testing.T, d *Database, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return d.group.group.Queued() == n }, 10*time.Second, time.Millisecond)
}

// eventsOf returns n events of the aggregate id, versions from to
// from+n-1.
func eventsOf(id uuid.UUID, from int64, n int) []persistence.StoredEvent {
	var events []persistence.StoredEvent
	for v := from; v < from+int64(n); v++ {
		events = append(events, persistence.StoredEvent{OriginatorID: id, OriginatorVersion: v, Topic: "t", State: []byte("{}")})
	}
	return events
}

type outcome struct {
	ids []int64
	err error
}

// Saves that queue while one is recorded are recorded together, in one
// transaction, each with its own notification IDs, in the order they
// queued.
func TestGroupCommitCoalescesQueuedSaves(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, b := openGrouped(t)
	r := NewRecorder(d)

	d.writeLock <- struct{}{} // another writer of the process writes
	first := make(chan outcome, 1)
	go func() {
		ids, err := r.InsertNotifications(ctx, eventsOf(uuid.New(), 1, 2))
		first <- outcome{ids, err}
	}()
	require.Eventually(t, func() bool { return len(b.get()) == 1 }, 10*time.Second, time.Millisecond, "the first save is being recorded")
	const n = 10
	results := make([]chan outcome, n)
	for i := range n {
		results[i] = make(chan outcome, 1)
		go func() {
			ids, err := r.InsertNotifications(ctx, eventsOf(uuid.New(), 1, 3))
			results[i] <- outcome{ids, err}
		}()
		queued(t, d, i+1) // one at a time, so that they queue in order
	}
	<-d.writeLock

	o := <-first
	require.NoError(t, o.err)
	require.Equal(t, []int64{1, 2}, o.ids)
	for i := range n {
		o := <-results[i]
		require.NoError(t, o.err)
		require.Equal(t, []int64{3 + 3*int64(i), 4 + 3*int64(i), 5 + 3*int64(i)}, o.ids)
	}
	require.Equal(t, []int{1, n}, b.get(), "the queued saves were one batch")
	head, err := r.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2+3*n, head)
}

// In a batch, a save that conflicts (with a recorded event, within
// itself, or with an earlier save of the same batch) fails alone with a
// ConcurrencyError, none of its events recorded, and the others commit.
func TestGroupCommitIsolatesConflictingSaves(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, b := openGrouped(t)
	r := NewRecorder(d)
	existing := uuid.New()
	_, err := r.InsertNotifications(ctx, eventsOf(existing, 1, 1))
	require.NoError(t, err)

	shared, fresh, twice := uuid.New(), uuid.New(), uuid.New()
	saves := [][]persistence.StoredEvent{
		eventsOf(fresh, 1, 2),
		append(eventsOf(existing, 2, 1), eventsOf(existing, 1, 1)...), // version 2 is new, 1 conflicts
		eventsOf(shared, 1, 1),
		append(eventsOf(twice, 1, 1), eventsOf(twice, 1, 1)...), // conflicts with itself
		eventsOf(shared, 1, 2),                                  // conflicts with the third save
		eventsOf(uuid.New(), 1, 1),
	}
	conflicts := map[int]bool{1: true, 3: true, 4: true}

	d.writeLock <- struct{}{}
	results := make([]chan outcome, len(saves))
	for i, events := range saves {
		results[i] = make(chan outcome, 1)
		go func() {
			ids, err := r.InsertNotifications(ctx, events)
			results[i] <- outcome{ids, err}
		}()
		if i == 0 {
			require.Eventually(t, func() bool { return len(b.get()) == 2 }, 10*time.Second, time.Millisecond)
		} else {
			queued(t, d, i)
		}
	}
	<-d.writeLock

	next := int64(2)
	for i := range saves {
		o := <-results[i]
		if conflicts[i] {
			var conflict *persistence.ConcurrencyError
			require.ErrorAs(t, o.err, &conflict, "save %d", i)
			require.Nil(t, o.ids)
			continue
		}
		require.NoError(t, o.err, "save %d", i)
		require.Len(t, o.ids, len(saves[i]))
		require.Equal(t, next, o.ids[0], "save %d: the IDs follow those of the saves before it", i)
		next = o.ids[len(o.ids)-1] + 1
	}
	require.Equal(t, []int{1, 1, len(saves) - 1}, b.get(), "the queued saves were one batch")

	for id, want := range map[uuid.UUID]int{existing: 1, twice: 0, shared: 1, fresh: 2} {
		got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
		require.NoError(t, err)
		require.Len(t, got, want, "events of %s", id)
	}
	page, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 100})
	require.NoError(t, err)
	for i, n := range page {
		require.EqualValues(t, i+1, n.ID, "no gap: the rolled back saves took no IDs")
	}
}

// A queued save whose context ends before it is recorded returns the
// context's error, and is not recorded.
func TestGroupCommitWithdrawsACanceledQueuedSave(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, b := openGrouped(t)
	r := NewRecorder(d)

	d.writeLock <- struct{}{}
	first := make(chan error, 1)
	go func() { first <- r.InsertEvents(ctx, eventsOf(uuid.New(), 1, 1)) }()
	require.Eventually(t, func() bool { return len(b.get()) == 1 }, 10*time.Second, time.Millisecond)
	canceled, cancel := context.WithCancel(ctx)
	withdrawn := uuid.New()
	second := make(chan error, 1)
	go func() { second <- r.InsertEvents(canceled, eventsOf(withdrawn, 1, 1)) }()
	queued(t, d, 1)
	cancel()
	err := <-second
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, persistence.ErrOutcomeUnknown)
	<-d.writeLock
	require.NoError(t, <-first)

	got, err := r.SelectEvents(ctx, withdrawn, persistence.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, got)
	require.Equal(t, []int{1}, b.get())
}

// Saves with mixed deadlines, one with none, stalled together while
// another writer of the process holds the write lock: each returns when
// its own context ends, within a margin of its own deadline (not at the
// latest deadline of its batch, nor when the lock is released), with an
// error that says whether the outcome is unknown; the save without a
// deadline is recorded once the lock is free, and each of the others is
// recorded whole or not at all. The first save is alone in flight when the
// others queue: one with a deadline, or the one without.
func TestGroupCommitSavesWithMixedDeadlinesEachReturnAtTheirOwn(t *testing.T) {
	t.Parallel()
	t.Run("a save with a deadline in flight", func(t *testing.T) {
		t.Parallel()
		errs := stallSavesWithDeadlines(t, []time.Duration{300 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 0})
		require.ErrorIs(t, errs[0], context.DeadlineExceeded)
		require.NotErrorIs(t, errs[0], persistence.ErrOutcomeUnknown, "the first save never had the write lock")
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

// stallSavesWithDeadlines holds the write lock of a new database, as
// another writer of the process would, and runs
// recordertest.SavesWithDeadlines on it.
func stallSavesWithDeadlines(t *testing.T, deadlines []time.Duration) []error {
	t.Helper()
	d, err := Open(t.Context(), Config{DBName: filepath.Join(t.TempDir(), "events.db"), CreateTable: true, LockTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	b := &batches{}
	d.ObserveBatches(b.observe)
	d.writeLock <- struct{}{} // another writer of the process writes
	return recordertest.SavesWithDeadlines(t, recordertest.StalledSaves{
		Recorder: NewRecorder(d),
		Started: func(i int) {
			if i == 0 {
				require.Eventually(t, func() bool { return len(b.get()) == 1 }, 10*time.Second, time.Millisecond, "the first save is being recorded")
			} else {
				queued(t, d, i)
			}
		},
		Release: func() { <-d.writeLock },
	}, deadlines)
}
