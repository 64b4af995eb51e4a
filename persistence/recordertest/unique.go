package recordertest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// ErrRecordedTwice is wrapped by the error of UniqueVersions or
// UniqueTracking when what must be recorded once was recorded twice: the
// recorder lacks the key that makes it unique. Their other errors (a
// save failing with an error other than a conflict, none recorded) do not
// wrap it.
var ErrRecordedTwice = errors.New("recorded twice")

// UniqueVersions shows whether r keeps aggregate versions unique
// (optimistic concurrency): writers goroutines record
// version 1 of one aggregate at once, and then one more save records
// version 1 again. Exactly one of the concurrent saves must succeed, the
// others and the last save must fail with a *persistence.ConcurrencyError,
// and the event recorded must be the winner's. It returns an error saying
// what broke.
func UniqueVersions(ctx context.Context, r persistence.ApplicationRecorder, writers int) error {
	id := uuid.New()
	stateOf := func(w int) []byte { return fmt.Appendf(nil, `{"writer":%d}`, w) }
	results := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			e := event(id, 1)
			e.State = stateOf(w)
			_, results[w] = r.InsertNotifications(ctx, []persistence.StoredEvent{e})
		})
	}
	wg.Wait()
	winner := -1
	for w, err := range results {
		var conflict *persistence.ConcurrencyError
		switch {
		case err == nil && winner >= 0:
			return fmt.Errorf("writers %d and %d both recorded version 1 of %s: %w", winner, w, id, ErrRecordedTwice)
		case err == nil:
			winner = w
		case !errors.As(err, &conflict):
			return fmt.Errorf("writer %d: want a *persistence.ConcurrencyError, got %w", w, err)
		}
	}
	if winner < 0 {
		return fmt.Errorf("none of %d writers recorded version 1", writers)
	}
	again := event(id, 1)
	again.State = []byte(`{"again":true}`)
	var conflict *persistence.ConcurrencyError
	if _, err := r.InsertNotifications(ctx, []persistence.StoredEvent{again}); err == nil {
		return fmt.Errorf("version 1 of %s saved again, with no *persistence.ConcurrencyError: %w", id, ErrRecordedTwice)
	} else if !errors.As(err, &conflict) {
		return fmt.Errorf("version 1 of %s saved again: want a *persistence.ConcurrencyError, got %w", id, err)
	}
	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	if err != nil {
		return err
	}
	if len(got) > 1 {
		return fmt.Errorf("%d events recorded for %s, want only writer %d's: %w", len(got), id, winner, ErrRecordedTwice)
	}
	if len(got) != 1 || string(got[0].State) != string(stateOf(winner)) {
		return fmt.Errorf("%d events recorded for %s, want only writer %d's", len(got), id, winner)
	}
	return nil
}

// UniqueTracking shows whether r records each tracking record once
// (exactly-once processing): writers goroutines record, at
// once, an event of their own aggregate with the same tracking record, and
// then one more save uses it again. Exactly one of the concurrent saves
// must succeed, the others and the last save must fail with a
// *persistence.TrackingConflictError, and only the winner's event may be
// recorded. It returns an error saying what broke.
func UniqueTracking(ctx context.Context, r persistence.ProcessRecorder, writers int) error {
	tracking := persistence.Tracking{ApplicationName: "upstream-" + uuid.NewString(), NotificationID: 7}
	ids := make([]uuid.UUID, writers+1)
	for i := range ids {
		ids[i] = uuid.New()
	}
	results := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			_, results[w] = r.InsertTracked(ctx, []persistence.StoredEvent{event(ids[w], 1)}, tracking)
		})
	}
	wg.Wait()
	_, last := r.InsertTracked(ctx, []persistence.StoredEvent{event(ids[writers], 1)}, tracking)
	results = append(results, last)

	winner := -1
	for w, err := range results {
		var conflict *persistence.TrackingConflictError
		switch {
		case err == nil && winner >= 0:
			return fmt.Errorf("saves %d and %d both recorded tracking record %v: %w", winner, w, tracking, ErrRecordedTwice)
		case err == nil:
			winner = w
		case !errors.As(err, &conflict):
			return fmt.Errorf("save %d: want a *persistence.TrackingConflictError, got %w", w, err)
		}
	}
	if winner < 0 || winner == writers {
		return fmt.Errorf("none of %d concurrent saves recorded tracking record %v", writers, tracking)
	}
	for w, id := range ids {
		got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
		if err != nil {
			return err
		}
		if want := map[bool]int{true: 1, false: 0}[w == winner]; len(got) != want {
			return fmt.Errorf("save %d: %d events recorded, want %d", w, len(got), want)
		}
	}
	return nil
}
