package order

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
)

// Name is the application's name. It prefixes the application's
// environment variables (ORDERS_POSTGRES_SCHEMA) and names its Postgres
// schema ("orders") by default.
const Name = "Orders"

// The topics under which the example's types are stored.
const (
	TopicOrder     = "order:Order"
	TopicStarted   = "order:Order.Started"
	TopicRenamed   = "order:Order.Renamed"
	TopicConfirmed = "order:Order.Confirmed"
	TopicPickedUp  = "order:Order.PickedUp"
)

// NewRegistry returns a registry of the Order aggregate and its events.
func NewRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(TopicOrder, Order{})
	r.Register(TopicStarted, Started{})
	r.Register(TopicRenamed, Renamed{})
	r.Register(TopicConfirmed, Confirmed{})
	r.Register(TopicPickedUp, PickedUp{})
	return r
}

// Orders is the application of orders. It embeds the *app.Application, so
// Save, Log, Mapper and Close are at hand. It is safe for concurrent use;
// concurrent commands on one order may fail with a
// *persistence.ConcurrencyError, with nothing saved, and can be retried.
type Orders struct {
	*app.Application
	orders *app.Repository[Order, *Order]
}

// NewOrders builds an Orders application. opts configures it as for
// app.New (Env, Lookup, ...); Name defaults to Name and Registry to
// NewRegistry(). Close it when done.
func NewOrders(ctx context.Context, opts app.Options) (*Orders, error) {
	if opts.Name == "" {
		opts.Name = Name
	}
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Orders{Application: a, orders: app.NewRepository[Order](a)}, nil
}

// CreateOrder starts and saves an order named name and returns its ID.
func (o *Orders) CreateOrder(ctx context.Context, name string) (uuid.UUID, error) {
	order, err := New(name)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := o.Save(ctx, order); err != nil {
		return uuid.Nil, fmt.Errorf("create order %q: %w", name, err)
	}
	return order.ID(), nil
}

// GetOrder returns the order id, rebuilt from its events. An unknown id is
// errors.Is(err, app.ErrAggregateNotFound).
func (o *Orders) GetOrder(ctx context.Context, id uuid.UUID) (*Order, error) {
	return o.orders.Get(ctx, id)
}

// RenameOrder gives the order id the name name; nothing is recorded when it
// has that name already.
func (o *Orders) RenameOrder(ctx context.Context, id uuid.UUID, name string) error {
	return o.update(ctx, id, func(order *Order) error { return order.Rename(name) })
}

// ConfirmOrder confirms the order id at at.
func (o *Orders) ConfirmOrder(ctx context.Context, id uuid.UUID, at time.Time) error {
	return o.update(ctx, id, func(order *Order) error { return order.Confirm(at) })
}

// PickupOrder records that the order id was picked up at at. It returns an
// error that is errors.Is(err, ErrNotConfirmed), and records nothing, when
// the order has not been confirmed.
func (o *Orders) PickupOrder(ctx context.Context, id uuid.UUID, at time.Time) error {
	return o.update(ctx, id, func(order *Order) error { return order.Pickup(at) })
}

// update gets the order id, runs command on it and saves what it
// triggered, which may be nothing.
func (o *Orders) update(ctx context.Context, id uuid.UUID, command func(*Order) error) error {
	order, err := o.orders.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := command(order); err != nil {
		return err
	}
	if _, err := o.Save(ctx, order); err != nil {
		return fmt.Errorf("save order %s: %w", id, err)
	}
	return nil
}
