package memory_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
	"github.com/eventsourcing-go/eventsourcing/persistence/recordertest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	recordertest.Run(t, func(*testing.T) persistence.ProcessRecorder { return memory.NewRecorder() })
}

func TestSnapshotConformance(t *testing.T) {
	t.Parallel()
	recordertest.RunSnapshots(t, func(*testing.T) persistence.AggregateRecorder { return memory.NewAggregateRecorder() })
}

func TestNotificationIDsGapless(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := memory.NewRecorder()
	id := uuid.New()
	_, err := r.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: id, OriginatorVersion: 1}})
	require.NoError(t, err)
	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: uuid.New(), OriginatorVersion: 1}, {OriginatorID: id, OriginatorVersion: 1}})
	require.Error(t, err)
	ids, err := r.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: id, OriginatorVersion: 2}, {OriginatorID: id, OriginatorVersion: 3}})
	require.NoError(t, err)
	require.Equal(t, []int64{2, 3}, ids)
}

func TestRecordedStateIsCopied(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := memory.NewRecorder()
	id := uuid.New()
	state := []byte("abc")
	require.NoError(t, r.InsertEvents(ctx, []persistence.StoredEvent{{OriginatorID: id, OriginatorVersion: 1, State: state}}))
	state[0] = 'X'
	got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	require.Equal(t, "abc", string(got[0].State))
	got[0].State[0] = 'Y'
	ns, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, "abc", string(ns[0].State))
}

// Each write names itself once, with the count in words.
func TestRecordErrorsNameTheWriteOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := memory.NewRecorder()
	id := uuid.MustParse("7b2c1f0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b")
	first := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 1}
	second := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 2}
	tracking := persistence.Tracking{ApplicationName: "upstream", NotificationID: 7}
	_, err := r.InsertTracked(ctx, []persistence.StoredEvent{first}, tracking)
	require.NoError(t, err)
	const conflict = "concurrency conflict: version 1 of 7b2c1f0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b is already recorded"

	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{first})
	require.EqualError(t, err, "record 1 event: "+conflict)
	require.True(t, persistence.IsConflict(err))
	err = r.InsertEvents(ctx, []persistence.StoredEvent{first, second})
	require.EqualError(t, err, "record 2 events: "+conflict)
	_, err = r.InsertTracked(ctx, []persistence.StoredEvent{second}, tracking)
	require.EqualError(t, err, `record 1 event with tracking: tracking conflict: notification 7 of application "upstream" is already recorded`)
	require.True(t, persistence.IsConflict(err))

	snapshots := memory.NewAggregateRecorder()
	require.NoError(t, snapshots.InsertEvents(ctx, []persistence.StoredEvent{first}))
	require.EqualError(t, snapshots.InsertEvents(ctx, []persistence.StoredEvent{first}), "record 1 event: "+conflict)
}
