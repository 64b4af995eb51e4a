package recordertest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Insert records events as one save and returns their notification IDs,
// as persistence.ApplicationRecorder.InsertNotifications does. A save that
// conflicts must fail with an error wrapping persistence.ErrIntegrity.
type Insert func(ctx context.Context, events []persistence.StoredEvent) ([]int64, error)

// TailingReaderMisses shows whether a reader that tails r's notification
// log can miss a notification (insert order must be commit
// order). writers goroutines each make batches saves of one to three
// events of their own aggregate with insert, every seventh save repeating
// a version so that it conflicts and leaves a gap; meanwhile one reader
// reads, as fast as it can, the notifications after the last one it has
// seen, until the writers are done and nothing new comes.
//
// It returns the IDs acknowledged to a writer that the reader never saw,
// in ascending order (none when commits land in ID order), and how many
// IDs were acknowledged. An error reports what else went wrong: a failed
// save, a conflicting save that did not fail, or a notification that came
// out of order, twice, unacknowledged, or holding another event.
func TailingReaderMisses(ctx context.Context, r persistence.ApplicationRecorder, insert Insert, writers, batches int) (missed []int64, acknowledged int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu    sync.Mutex
		acked = map[int64]persistence.StoredEvent{}
		wg    sync.WaitGroup
		errs  = make(chan error, writers+1)
	)
	for w := range writers {
		wg.Go(func() {
			if err := writeBatches(ctx, insert, w, batches, func(ids []int64, batch []persistence.StoredEvent) {
				mu.Lock()
				defer mu.Unlock()
				for i, n := range ids {
					acked[n] = batch[i]
				}
			}); err != nil {
				errs <- fmt.Errorf("writer %d: %w", w, err)
				cancel()
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	seen, readErr := tail(ctx, r, writersDone)
	if readErr != nil {
		cancel()
	}
	<-writersDone
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if readErr != nil {
		all = append(all, readErr)
	}
	if len(all) > 0 {
		return nil, len(acked), errors.Join(all...)
	}

	seenIDs := map[int64]bool{}
	for _, n := range seen {
		if seenIDs[n.ID] {
			return nil, len(acked), fmt.Errorf("notification %d was read twice", n.ID)
		}
		seenIDs[n.ID] = true
		want, ok := acked[n.ID]
		if !ok {
			return nil, len(acked), fmt.Errorf("notification %d was not acknowledged to any writer", n.ID)
		}
		if !want.Equal(n.StoredEvent) {
			return nil, len(acked), fmt.Errorf("notification %d holds the wrong event", n.ID)
		}
	}
	for id := range acked {
		if !seenIDs[id] {
			missed = append(missed, id)
		}
	}
	sort.Slice(missed, func(i, j int) bool { return missed[i] < missed[j] })
	return missed, len(acked), nil
}

// writeBatches makes one writer's saves, reporting each acknowledged save.
func writeBatches(ctx context.Context, insert Insert, w, batches int, acknowledge func([]int64, []persistence.StoredEvent)) error {
	id := uuid.New()
	version := int64(0)
	for b := range batches {
		size := 1 + (w+b)%3
		var batch []persistence.StoredEvent
		for i := range size {
			batch = append(batch, event(id, version+int64(i)+1))
		}
		conflicting := b%7 == 3 && version > 0
		if conflicting {
			batch = append(batch, event(id, version)) // recorded already
		}
		ids, err := insert(ctx, batch)
		switch {
		case conflicting && !errors.Is(err, persistence.ErrIntegrity):
			return fmt.Errorf("save %d repeats version %d: want an integrity error, got %v", b, version, err)
		case conflicting:
			continue
		case err != nil:
			return fmt.Errorf("save %d: %w", b, err)
		case len(ids) != len(batch):
			return fmt.Errorf("save %d of %d events returned %d ids", b, len(batch), len(ids))
		}
		acknowledge(ids, batch)
		version += int64(size)
	}
	return nil
}

// tail reads r's notifications in small pages after the last one seen
// until writersDone is closed and a read after that returns nothing.
func tail(ctx context.Context, r persistence.ApplicationRecorder, writersDone <-chan struct{}) ([]persistence.Notification, error) {
	var seen []persistence.Notification
	last := int64(0)
	for {
		finished := false
		select {
		case <-writersDone:
			finished = true
		default:
		}
		ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: last + 1, Limit: 7})
		if err != nil {
			return seen, fmt.Errorf("reader: %w", err)
		}
		for _, n := range ns {
			if n.ID <= last {
				return seen, fmt.Errorf("reader: notification %d came after %d", n.ID, last)
			}
			last = n.ID
		}
		seen = append(seen, ns...)
		if finished && len(ns) == 0 {
			return seen, nil
		}
	}
}
