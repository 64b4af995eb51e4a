package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// SaveTx and SaveTrackedTx call no OnRecorded functions, not even once the
// caller commits, since the transaction could have rolled back; Save
// does. A Watch (RunProcess's wake-up) is woken by the commit.
func TestSaveTxCallsNoOnRecordedFunctions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := postgresApp(t, app.Options{})
	var calls atomic.Int32
	a.OnRecorded(func(context.Context, []int64) error { calls.Add(1); return nil })
	woken := make(chan struct{}, 10)
	watchCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Watch(watchCtx, func() { woken <- struct{}{} }) }()
	defer func() { stop(); require.NoError(t, <-done) }()
	awake := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatalf("not woken %s", what)
		}
	}
	awake("when it starts")

	inTx := func(save func(tx pgx.Tx) error) {
		t.Helper()
		tx, err := a.Pool().Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		require.NoError(t, save(tx))
		require.NoError(t, tx.Commit(ctx))
	}
	inTx(func(tx pgx.Tx) error {
		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "earth"})
		require.NoError(t, err)
		_, err = a.SaveTx(ctx, tx, w)
		return err
	})
	awake("by the commit of SaveTx")
	inTx(func(tx pgx.Tx) error {
		w, err := domain.Create[World](uuid.New(), WorldCreated{Name: "mars"})
		require.NoError(t, err)
		_, err = a.SaveTrackedTx(ctx, tx, persistence.Tracking{ApplicationName: "Upstream", NotificationID: 1}, w.PendingEvents(), w)
		return err
	})
	awake("by the commit of SaveTrackedTx")
	require.Zero(t, calls.Load(), "no OnRecorded function after SaveTx or SaveTrackedTx")

	createWorld(t, a)
	require.EqualValues(t, 1, calls.Load(), "Save calls the OnRecorded function once")
}

// A failed save on PostgreSQL says each layer's part once: the
// application's verb, then the recorder's, then the conflict.
func TestSaveConflictErrorNamesEachLayerOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := postgresApp(t, app.Options{})
	schema := pgx.Identifier{a.Schema()}.Sanitize()
	w := createWorld(t, a)
	stale, err := app.NewRepository[World](a).Get(ctx, w.ID())
	require.NoError(t, err)
	require.NoError(t, domain.Trigger(w, SomethingHappened{What: "dinosaurs"}))
	_, err = a.Save(ctx, w)
	require.NoError(t, err)
	conflict := fmt.Sprintf("concurrency conflict: version 2 of %s is already recorded", w.ID())

	require.NoError(t, domain.Trigger(stale, SomethingHappened{What: "trucks"}))
	_, err = a.Save(ctx, stale)
	require.EqualError(t, err, fmt.Sprintf("save: record 1 event in schema %s: %s", schema, conflict))
	require.True(t, persistence.IsConflict(err))

	tracking := persistence.Tracking{ApplicationName: "Upstream", NotificationID: 7}
	_, err = a.SaveTracked(ctx, tracking, stale.PendingEvents(), stale)
	require.EqualError(t, err, fmt.Sprintf("save tracking Upstream#7: record 1 event with tracking in schema %s: %s", schema, conflict))

	tx, err := a.Pool().Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	_, err = a.SaveTx(ctx, tx, stale)
	require.EqualError(t, err, fmt.Sprintf("save: record 1 event in schema %s: %s", schema, conflict))
}
