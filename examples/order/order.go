package order

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// ErrNotConfirmed is returned by Order.Pickup, and by Apply for a PickedUp
// event, when the order has not been confirmed.
var ErrNotConfirmed = errors.New("order is not confirmed")

// Order is an aggregate: a named order that is confirmed and then picked
// up. A zero ConfirmedAt or PickedUpAt means it has not happened yet. An
// Order is not safe for concurrent use.
type Order struct {
	domain.Base
	Name        string    `json:"name"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	PickedUpAt  time.Time `json:"pickedup_at,omitzero"`
}

// Started is the event that creates an Order.
type Started struct {
	Name string `json:"name"`
}

// Renamed is the event that gives an Order a new name.
type Renamed struct {
	Name string `json:"name"`
}

// Confirmed is the event that confirms an Order at At.
type Confirmed struct {
	At time.Time `json:"at"`
}

// PickedUp is the event that records that an Order was picked up at At.
type PickedUp struct {
	At time.Time `json:"at"`
}

// New starts an Order named name, with a new random ID and its pending
// Started event.
func New(name string) (*Order, error) {
	return domain.Create[Order](uuid.New(), Started{Name: name})
}

// Rename gives the order the name name. When the order already has that
// name it does nothing: no event is triggered, so there is nothing to save.
func (o *Order) Rename(name string) error {
	if name == o.Name {
		return nil
	}
	return domain.Trigger(o, Renamed{Name: name})
}

// Confirm confirms the order at at. As in the Python library's example, it
// is not refused when the order is confirmed already: the new time
// replaces the old.
func (o *Order) Confirm(at time.Time) error {
	return domain.Trigger(o, Confirmed{At: at})
}

// Pickup records that the order was picked up at at. It returns
// ErrNotConfirmed, and triggers nothing, when the order has not been
// confirmed.
func (o *Order) Pickup(at time.Time) error {
	if o.ConfirmedAt.IsZero() {
		return fmt.Errorf("pick up order %s: %w", o.ID(), ErrNotConfirmed)
	}
	return domain.Trigger(o, PickedUp{At: at})
}

// Apply evolves the order's state from one of its events. It refuses a
// PickedUp event for an order that has not been confirmed (ErrNotConfirmed).
func (o *Order) Apply(data any) error {
	switch e := data.(type) {
	case Started:
		o.Name = e.Name
	case Renamed:
		o.Name = e.Name
	case Confirmed:
		o.ConfirmedAt = e.At
	case PickedUp:
		if o.ConfirmedAt.IsZero() {
			return ErrNotConfirmed
		}
		o.PickedUpAt = e.At
	default:
		return fmt.Errorf("order: unknown event %T", data)
	}
	return nil
}
