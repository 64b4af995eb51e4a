package persistence

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// EventStore stores and retrieves domain events: it maps them with Mapper
// and records them with Recorder. It is safe for concurrent use.
type EventStore struct {
	Mapper   *Mapper
	Recorder AggregateRecorder
}

// Put records events atomically: all or none. When Recorder is an
// ApplicationRecorder it returns their notification IDs, in order
// (requirement 12); otherwise nil. A version conflict is a
// *ConcurrencyError; a mapping failure a *MappingError, with nothing
// recorded.
func (s *EventStore) Put(ctx context.Context, events []domain.Event) ([]int64, error) {
	stored, err := s.Mapper.ToStoredEvents(events)
	if err != nil {
		return nil, err
	}
	if app, ok := s.Recorder.(ApplicationRecorder); ok {
		return app.InsertNotifications(ctx, stored)
	}
	return nil, s.Recorder.InsertEvents(ctx, stored)
}

// Get returns the events of one aggregate chosen by q (see EventQuery),
// mapped back to domain events. A stored event that cannot be mapped gives
// a *MappingError.
func (s *EventStore) Get(ctx context.Context, originatorID uuid.UUID, q EventQuery) ([]domain.Event, error) {
	stored, err := s.Recorder.SelectEvents(ctx, originatorID, q)
	if err != nil {
		return nil, err
	}
	events := make([]domain.Event, len(stored))
	for i, se := range stored {
		if events[i], err = s.Mapper.ToDomainEvent(se); err != nil {
			return nil, fmt.Errorf("get events of %s: %w", originatorID, err)
		}
	}
	return events, nil
}
