package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// Each write names itself once, with the count in words and the schema.
func TestRecordErrorsNameTheWriteOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := testConfig(t)
	pool := openPool(t, cfg)
	r, snapshots := postgres.NewRecorder(pool), postgres.NewSnapshotRecorder(pool)
	schema := pgx.Identifier{cfg.Schema}.Sanitize()
	id := uuid.New()
	first := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 1, Topic: "t:E", State: []byte("e")}
	second := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 2, Topic: "t:E", State: []byte("e")}
	tracking := persistence.Tracking{ApplicationName: "upstream", NotificationID: 7}
	_, err := r.InsertTracked(ctx, []persistence.StoredEvent{first}, tracking)
	require.NoError(t, err)
	require.NoError(t, snapshots.InsertEvents(ctx, []persistence.StoredEvent{first}))
	conflict := fmt.Sprintf("concurrency conflict: version 1 of %s is already recorded", id)

	_, err = r.InsertNotifications(ctx, []persistence.StoredEvent{first})
	require.EqualError(t, err, fmt.Sprintf("record 1 event in schema %s: %s", schema, conflict))
	require.True(t, persistence.IsConflict(err))

	err = r.InsertEvents(ctx, []persistence.StoredEvent{first, second})
	require.EqualError(t, err, fmt.Sprintf("record 2 events in schema %s: %s", schema, conflict))

	_, err = r.InsertTracked(ctx, []persistence.StoredEvent{second}, tracking)
	require.EqualError(t, err, fmt.Sprintf(
		"record 1 event with tracking in schema %s: tracking conflict: notification 7 of application \"upstream\" is already recorded", schema))
	require.True(t, persistence.IsConflict(err))

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	_, err = r.InsertTx(ctx, tx, []persistence.StoredEvent{first})
	require.EqualError(t, err, fmt.Sprintf("record 1 event in schema %s: %s", schema, conflict))

	err = snapshots.InsertEvents(ctx, []persistence.StoredEvent{first})
	require.EqualError(t, err, fmt.Sprintf("record 1 snapshot in schema %s: %s", schema, conflict))
	require.True(t, persistence.IsConflict(err))

	// The caller's context ending is named once too.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = r.InsertNotifications(canceled, []persistence.StoredEvent{second})
	require.EqualError(t, err, fmt.Sprintf("record 1 event in schema %s: context canceled", schema))
	require.ErrorIs(t, err, context.Canceled)
}
