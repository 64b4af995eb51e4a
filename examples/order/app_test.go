package order_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/order"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

// noEnv keeps the process environment out of the tests.
func noEnv(string) (string, bool) { return "", false }

// eachStore runs test as parallel subtests on the in-memory store and on
// PostgreSQL (in a fresh schema; skipped when no server can be had).
func eachStore(t *testing.T, test func(t *testing.T, orders *order.Orders)) {
	t.Helper()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		orders, err := order.NewOrders(t.Context(), app.Options{Lookup: noEnv, Env: env})
		require.NoError(t, err)
		t.Cleanup(orders.Close)
		test(t, orders)
	})
}

func lastNotificationID(t *testing.T, orders *order.Orders) int64 {
	t.Helper()
	id, err := orders.Recorder().MaxNotificationID(t.Context())
	require.NoError(t, err)
	return id
}

// The order's life, saved and read back: its state after confirm and
// pickup, stored and rebuilt (lines 2220-2242).
func TestOrdersConfirmAndPickup(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, orders *order.Orders) {
		ctx := t.Context()
		id, err := orders.CreateOrder(ctx, "my order")
		require.NoError(t, err)
		confirmedAt := now()
		pickedUpAt := confirmedAt.Add(time.Minute)
		require.NoError(t, orders.ConfirmOrder(ctx, id, confirmedAt))
		require.NoError(t, orders.PickupOrder(ctx, id, pickedUpAt))

		o, err := orders.GetOrder(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "my order", o.Name)
		require.True(t, confirmedAt.Equal(o.ConfirmedAt))
		require.True(t, pickedUpAt.Equal(o.PickedUpAt))
		require.True(t, o.PickedUpAt.After(o.ConfirmedAt))
		require.Equal(t, int64(3), o.Version())
		require.Equal(t, int64(3), lastNotificationID(t, orders))

		section, err := orders.Log().Section(ctx, "1,10")
		require.NoError(t, err)
		topics := make([]string, 0, len(section.Items))
		for _, item := range section.Items {
			topics = append(topics, item.Topic)
		}
		require.Equal(t, []string{order.TopicStarted, order.TopicConfirmed, order.TopicPickedUp}, topics)
	})
}

// A refused command records nothing: picking up an unconfirmed order
// returns ErrNotConfirmed, and the stored order and the notification log
// are as before (lines 2163-2172, 2290-2306).
func TestOrdersPickupBeforeConfirmRecordsNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, orders *order.Orders) {
		ctx := t.Context()
		id, err := orders.CreateOrder(ctx, "name")
		require.NoError(t, err)
		require.Equal(t, int64(1), lastNotificationID(t, orders))

		require.ErrorIs(t, orders.PickupOrder(ctx, id, now()), order.ErrNotConfirmed)
		require.Equal(t, int64(1), lastNotificationID(t, orders))
		o, err := orders.GetOrder(ctx, id)
		require.NoError(t, err)
		require.Equal(t, int64(1), o.Version())
		require.True(t, o.PickedUpAt.IsZero())

		// Confirmed, it can be picked up.
		require.NoError(t, orders.ConfirmOrder(ctx, id, now()))
		require.NoError(t, orders.PickupOrder(ctx, id, now()))
		require.Equal(t, int64(3), lastNotificationID(t, orders))
	})
}

// A command that changes nothing records nothing: renaming to the same
// name saves no event (lines 1958-1985).
func TestOrdersRenameToSameNameRecordsNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, orders *order.Orders) {
		ctx := t.Context()
		id, err := orders.CreateOrder(ctx, "foo")
		require.NoError(t, err)
		for _, name := range []string{"foo", "foo", "foo", "bar", "bar", "bar", "bar"} {
			require.NoError(t, orders.RenameOrder(ctx, id, name))
		}
		require.Equal(t, int64(2), lastNotificationID(t, orders))
		o, err := orders.GetOrder(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "bar", o.Name)
		require.Equal(t, int64(2), o.Version())
	})
}

func TestOrdersUnknownOrder(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, orders *order.Orders) {
		ctx := t.Context()
		unknown := uuid.New()
		_, err := orders.GetOrder(ctx, unknown)
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		require.ErrorIs(t, orders.ConfirmOrder(ctx, unknown, now()), app.ErrAggregateNotFound)
		require.Equal(t, int64(0), lastNotificationID(t, orders))
	})
}
