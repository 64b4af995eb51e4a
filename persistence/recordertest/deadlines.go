package recordertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// DeadlineMargin is how late after its own deadline a stalled save may
// return in SavesWithDeadlines: room for a loaded machine, and far less
// than the gaps between the deadlines the tests give it, so that a save
// kept to another one's deadline is caught.
const DeadlineMargin = 500 * time.Millisecond

// StalledSaves is a recorder whose saves stall behind a lock the test
// holds, as SavesWithDeadlines uses it.
type StalledSaves struct {
	Recorder persistence.ApplicationRecorder
	// Started is called after save i has been started, and returns once
	// it is in flight, alone (i = 0), or queued behind the first.
	Started func(i int)
	// Release releases the lock.
	Release func()
}

// SavesWithDeadlines starts a save of two events for each of deadlines
// (0: none, exactly one of them) while s's lock is held, the first alone
// in flight before the others queue. It asserts that each save with a
// deadline returns with context.DeadlineExceeded within DeadlineMargin of
// its own deadline while the lock is held, and that the save without one
// returns only after the lock is released, recorded; then that a save
// whose outcome is not unknown was not recorded, and that the others were
// recorded whole or not at all. It returns the saves' errors.
func SavesWithDeadlines(t *testing.T, s StalledSaves, deadlines []time.Duration) []error {
	t.Helper()
	ctx := t.Context()
	ids := make([]uuid.UUID, len(deadlines))
	errs := make([]error, len(deadlines))
	elapsed := make([]time.Duration, len(deadlines))
	returned := make([]chan struct{}, len(deadlines))
	for i, d := range deadlines {
		ids[i], returned[i] = uuid.New(), make(chan struct{})
		go func() {
			defer close(returned[i])
			start := time.Now()
			saveCtx, cancel := ctx, context.CancelFunc(func() {})
			if d > 0 {
				saveCtx, cancel = context.WithTimeout(ctx, d)
			}
			defer cancel()
			_, errs[i] = s.Recorder.InsertNotifications(saveCtx, []persistence.StoredEvent{event(ids[i], 1), event(ids[i], 2)})
			elapsed[i] = time.Since(start)
		}()
		s.Started(i)
	}
	// The lock is held until every save with a deadline has returned.
	unbounded := -1
	for i, d := range deadlines {
		if d == 0 {
			unbounded = i
			continue
		}
		select {
		case <-returned[i]:
		case <-time.After(time.Minute):
			t.Fatalf("the save with a %v deadline has not returned a minute later, while the lock is held", d)
		}
		require.ErrorIs(t, errs[i], context.DeadlineExceeded, "save %d", i)
		require.Less(t, elapsed[i], d+DeadlineMargin, "save %d returned %v after its %v deadline", i, elapsed[i]-d, d)
	}
	require.GreaterOrEqual(t, unbounded, 0, "one save has no deadline")
	select {
	case <-returned[unbounded]:
		t.Fatalf("the save without a deadline returned while the lock is held: %v", errs[unbounded])
	default:
	}
	s.Release()
	<-returned[unbounded]
	require.NoError(t, errs[unbounded], "the save without a deadline is recorded once the lock is free")

	for i, id := range ids {
		got, err := s.Recorder.SelectEvents(ctx, id, persistence.EventQuery{})
		require.NoError(t, err)
		switch {
		case i == unbounded:
			require.Len(t, got, 2)
		case errors.Is(errs[i], persistence.ErrOutcomeUnknown):
			require.Contains(t, []int{0, 2}, len(got), "save %d is recorded whole or not at all", i)
		default:
			require.Empty(t, got, "save %d was withdrawn before it was recorded: %v", i, errs[i])
		}
	}
	return errs
}
