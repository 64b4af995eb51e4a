package app_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Every saved event gets an ID of its own; the events of one save share a
// correlation ID, the context's when it has one; events read back carry
// them, and the log reads one correlation.
func TestSavedEventsAreIdentifiedAndCorrelated(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		story := uuid.New()
		save := func(ctx context.Context, events int) *World {
			w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "earth"})
			require.NoError(t, err)
			for range events - 1 {
				require.NoError(t, domain.Trigger(w, SomethingHappened{What: "x"}))
			}
			_, err = a.Save(ctx, w)
			require.NoError(t, err)
			return w
		}
		told := save(app.WithCorrelationID(ctx, story), 3)
		alone1, alone2 := save(ctx, 2), save(ctx, 2)

		ids := map[uuid.UUID]bool{}
		correlations := map[uuid.UUID][]uuid.UUID{} // aggregate: correlations of its events
		for _, w := range []*World{told, alone1, alone2} {
			stored, err := a.Recorder().SelectEvents(ctx, w.ID(), persistence.EventQuery{})
			require.NoError(t, err)
			for _, s := range stored {
				e, err := a.Mapper().ToDomainEvent(s)
				require.NoError(t, err)
				require.NotEqual(t, uuid.Nil, e.ID)
				require.False(t, ids[e.ID], "event IDs are unique")
				ids[e.ID] = true
				require.Equal(t, uuid.Nil, e.CausationID)
				correlations[w.ID()] = append(correlations[w.ID()], e.CorrelationID)
			}
		}
		require.Equal(t, []uuid.UUID{story, story, story}, correlations[told.ID()])
		for _, w := range []*World{alone1, alone2} {
			c := correlations[w.ID()]
			require.NotEqual(t, uuid.Nil, c[0])
			require.NotEqual(t, story, c[0])
			require.Equal(t, c[0], c[1], "one save, one correlation")
		}
		require.NotEqual(t, correlations[alone1.ID()][0], correlations[alone2.ID()][0], "two saves, two correlations")

		ns, err := a.Log().ReadCorrelated(ctx, story, 1, 2)
		require.NoError(t, err)
		require.Len(t, ns, 2, "the limit counts the story's notifications")
		for _, n := range ns {
			require.Equal(t, told.ID(), n.OriginatorID)
		}
		ns, err = a.Log().ReadCorrelated(ctx, story, ns[1].ID+1, 10)
		require.NoError(t, err)
		require.Len(t, ns, 1)
		_, err = a.Log().ReadCorrelated(ctx, uuid.Nil, 1, 10)
		require.ErrorContains(t, err, "nil UUID")
		_, err = a.Log().ReadCorrelated(ctx, story, 1, app.MaxReadLimit+1)
		require.Error(t, err)
	})
}

// A cause gives its ID as causation ID and its correlation (or, without
// one, its ID) to the events saved with it; Stamp does the same to events
// directly and keeps IDs already set.
func TestWithCauseAndStamp(t *testing.T) {
	t.Parallel()
	cause := domain.Event{ID: uuid.New(), CorrelationID: uuid.New()}
	ctx := app.WithCause(t.Context(), cause)
	require.Equal(t, cause.CorrelationID, app.CorrelationID(ctx))
	require.Equal(t, uuid.Nil, app.CorrelationID(t.Context()))
	old := domain.Event{ID: uuid.New()} // recorded before events had correlations
	require.Equal(t, old.ID, app.CorrelationID(app.WithCause(t.Context(), old)))

	set := uuid.New()
	events := []domain.Event{{}, {CorrelationID: set}}
	app.Stamp(events, cause)
	require.Equal(t, cause.ID, events[0].CausationID)
	require.Equal(t, cause.CorrelationID, events[0].CorrelationID)
	require.NotEqual(t, uuid.Nil, events[0].ID)
	require.Equal(t, set, events[1].CorrelationID, "kept")
	require.NotEqual(t, events[0].ID, events[1].ID)
}
