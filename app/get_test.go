package app_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// longWorld saves a world of events events (its creation and events-1
// happenings, "1", "2", …) and returns its history.
func longWorld(t *testing.T, a *app.Application, events int) (uuid.UUID, []string) {
	t.Helper()
	history := make([]string, events-1)
	for i := range history {
		history[i] = fmt.Sprint(i + 1)
	}
	return createWorld(t, a, history...).ID(), history
}

// A get reads a long aggregate a page of events at a time (a thousand):
// every event once and in order, whether the aggregate ends inside a page
// or on its last event, at any version, after a snapshot, and with its
// hash chain verified across the pages.
func TestGetLongAggregates(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{HashChain: true, HashSalt: testSalt, SnapshottingEnabled: true})
		repo := app.NewRepository[World](a)
		for _, events := range []int{2000, 2345} {
			id, history := longWorld(t, a, events)
			got, err := repo.Get(ctx, id)
			require.NoError(t, err)
			require.EqualValues(t, events, got.Version())
			require.Equal(t, history, got.History)
			stored := storedEvents(t, a, id)
			require.Equal(t, stored[events-1].Hash, got.Head(), "the head, the hash of the last event")
			for _, v := range []int64{999, 1000, 1001, 1999, 2000} {
				at, err := repo.GetAt(ctx, id, v)
				require.NoError(t, err)
				require.Equal(t, v, at.Version())
				require.Equal(t, history[:v-1], at.History, "at version %d", v)
				require.Equal(t, stored[v-1].Hash, at.Head(), "the head at version %d", v)
			}
			require.NoError(t, repo.TakeSnapshot(ctx, id, 500))
			fromSnap, err := repo.Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, history, fromSnap.History, "after a snapshot at 500")
		}

		// An event forged on the third page breaks the chain there.
		id, _ := longWorld(t, a, 2345)
		stored := storedEvents(t, a, id)
		forged := stored[2344].Clone()
		forged.OriginatorVersion = 2346
		forged.Hash = a.Hasher().EventHash(forged, stored[2343].Hash)
		_, err := a.Recorder().InsertNotifications(ctx, []persistence.StoredEvent{forged})
		require.NoError(t, err)
		_, err = repo.Get(ctx, id)
		var hashErr *integrity.EventHashError
		require.ErrorAs(t, err, &hashErr)
		require.ErrorIs(t, err, domain.ErrDataIntegrity)
		require.EqualValues(t, 2346, hashErr.Version)
	})
}
