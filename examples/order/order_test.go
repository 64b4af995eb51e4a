package order_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/order"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// now returns the time without its monotonic reading, as it is after a
// round trip through storage.
func now() time.Time { return time.Now().UTC().Round(0) }

// After confirm and pickup, the order's state, and a copy replayed from its
// events has the same state (Python docs lines 2220-2242).
func TestOrderConfirmAndPickup(t *testing.T) {
	t.Parallel()
	o, err := order.New("my order")
	require.NoError(t, err)
	require.NoError(t, o.Confirm(now()))
	require.NoError(t, o.Pickup(now().Add(time.Nanosecond)))

	require.Equal(t, "my order", o.Name)
	require.False(t, o.ConfirmedAt.IsZero())
	require.False(t, o.PickedUpAt.IsZero())
	require.True(t, o.PickedUpAt.After(o.ConfirmedAt))

	events := o.CollectEvents()
	require.Len(t, events, 3)
	require.Empty(t, o.PendingEvents())
	// The created event is Started (the @aggregate(created_event_name=
	// "Started") example, lines 2338-2345).
	require.Equal(t, order.Started{Name: "my order"}, events[0].Data)
	require.IsType(t, order.Confirmed{}, events[1].Data)
	require.IsType(t, order.PickedUp{}, events[2].Data)

	replayed, err := domain.Replay[order.Order](events)
	require.NoError(t, err)
	require.Equal(t, o.Name, replayed.Name)
	require.Equal(t, o.CreatedOn(), replayed.CreatedOn())
	require.Equal(t, o.ModifiedOn(), replayed.ModifiedOn())
	require.Equal(t, o.ConfirmedAt, replayed.ConfirmedAt)
	require.Equal(t, o.PickedUpAt, replayed.PickedUpAt)
	require.Equal(t, o.Version(), replayed.Version())
}

// Picking up an order before it is confirmed fails, and triggers nothing:
// there is still only the one pending event (lines 2163-2172, 2290-2306).
// Once confirmed, the order can be picked up.
func TestPickupBeforeConfirmFails(t *testing.T) {
	t.Parallel()
	o, err := order.New("name")
	require.NoError(t, err)
	require.Len(t, o.PendingEvents(), 1)

	err = o.Pickup(now())
	require.ErrorIs(t, err, order.ErrNotConfirmed)
	require.Len(t, o.PendingEvents(), 1)
	require.Equal(t, int64(1), o.Version())
	require.True(t, o.PickedUpAt.IsZero())

	require.NoError(t, o.Confirm(now()))
	require.NoError(t, o.Pickup(now()))
	require.Len(t, o.PendingEvents(), 3)
}

// The documentation's other style: the check is in the body that applies
// the event. Triggering PickedUp on an unconfirmed order fails in Apply,
// and the event is not kept, as if it never happened (lines 2250-2306).
func TestPickedUpRefusedByApply(t *testing.T) {
	t.Parallel()
	o, err := order.New("name")
	require.NoError(t, err)

	err = domain.Trigger(o, order.PickedUp{At: now()})
	var applyErr *domain.ApplyError
	require.ErrorAs(t, err, &applyErr)
	require.ErrorIs(t, err, order.ErrNotConfirmed)
	require.Len(t, o.PendingEvents(), 1)
	require.Equal(t, int64(1), o.Version())
	require.True(t, o.PickedUpAt.IsZero())
}

// A command that would change nothing triggers no event: renaming an order
// to its own name four times and to a new name four times gives two
// pending events, not eight (the update_name example, lines 1958-1985).
func TestRenameToSameNameTriggersNothing(t *testing.T) {
	t.Parallel()
	o, err := order.New("foo")
	require.NoError(t, err)
	for _, name := range []string{"foo", "foo", "foo", "bar", "bar", "bar", "bar"} {
		require.NoError(t, o.Rename(name))
	}
	require.Equal(t, "bar", o.Name)
	events := o.CollectEvents()
	require.Len(t, events, 2)
	require.Equal(t, order.Renamed{Name: "bar"}, events[1].Data)
	require.Equal(t, int64(2), o.Version())
}
