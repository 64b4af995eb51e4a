package cargoshipping

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
)

// Name is the application's name. It prefixes the application's
// environment variables (BOOKING_POSTGRES_SCHEMA) and names its Postgres
// schema ("booking") by default.
const Name = "Booking"

// The topics under which the example's types are stored.
const (
	TopicCargo                   = "cargoshipping:Cargo"
	TopicBookingStarted          = "cargoshipping:Cargo.BookingStarted"
	TopicDestinationChanged      = "cargoshipping:Cargo.DestinationChanged"
	TopicRouteAssigned           = "cargoshipping:Cargo.RouteAssigned"
	TopicHandlingEventRegistered = "cargoshipping:Cargo.HandlingEventRegistered"
)

// NewRegistry returns a registry of the Cargo aggregate and its events.
// The value types inside them need no registration: Location and
// HandlingActivity store themselves as their names (encoding.TextMarshaler),
// and Itinerary, Leg and ExpectedActivity as JSON objects.
func NewRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(TopicCargo, Cargo{})
	r.Register(TopicBookingStarted, BookingStarted{})
	r.Register(TopicDestinationChanged, DestinationChanged{})
	r.Register(TopicRouteAssigned, RouteAssigned{})
	r.Register(TopicHandlingEventRegistered, HandlingEventRegistered{})
	return r
}

// BookingApplication is the application that books cargo, routes it and
// tracks its handling, with the domain's types (see BookingService for
// the same with strings). It embeds the *app.Application, so Save, Log,
// Mapper and Close are at hand. It is safe for concurrent use; concurrent
// commands on one cargo may fail with a *persistence.ConcurrencyError,
// with nothing saved, and can be retried. An unknown tracking ID is
// errors.Is(err, app.ErrAggregateNotFound).
type BookingApplication struct {
	*app.Application
	cargos *app.Repository[Cargo, *Cargo]
}

// NewBookingApplication builds a BookingApplication. opts configures it as
// for app.New (Env, Lookup, snapshotting, ...); Name defaults to Name and
// Registry to NewRegistry(). Close it when done.
func NewBookingApplication(ctx context.Context, opts app.Options) (*BookingApplication, error) {
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
	return &BookingApplication{Application: a, cargos: app.NewRepository[Cargo](a)}, nil
}

// BookNewCargo books and saves a new cargo and returns its tracking ID.
func (b *BookingApplication) BookNewCargo(ctx context.Context, origin, destination Location, arrivalDeadline time.Time) (uuid.UUID, error) {
	cargo, err := NewBooking(origin, destination, arrivalDeadline)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := b.Save(ctx, cargo); err != nil {
		return uuid.Nil, fmt.Errorf("book new cargo: %w", err)
	}
	return cargo.ID(), nil
}

// ChangeDestination changes the destination of the cargo trackingID.
func (b *BookingApplication) ChangeDestination(ctx context.Context, trackingID uuid.UUID, destination Location) error {
	return b.update(ctx, trackingID, func(c *Cargo) error { return c.ChangeDestination(destination) })
}

// RequestPossibleRoutesForCargo returns the routes on offer for the cargo
// trackingID, from where it was last seen (its origin, before it was
// handled) to its destination, or an error wrapping ErrNoRoute.
func (b *BookingApplication) RequestPossibleRoutesForCargo(ctx context.Context, trackingID uuid.UUID) ([]Itinerary, error) {
	cargo, err := b.GetCargo(ctx, trackingID)
	if err != nil {
		return nil, err
	}
	from := cargo.LastKnownLocation
	if from == "" {
		from = cargo.Origin
	}
	return RegisteredRoutes(from, cargo.Destination)
}

// AssignRoute assigns the itinerary to the cargo trackingID.
func (b *BookingApplication) AssignRoute(ctx context.Context, trackingID uuid.UUID, itinerary Itinerary) error {
	return b.update(ctx, trackingID, func(c *Cargo) error { return c.AssignRoute(itinerary) })
}

// RegisterHandlingEvent records that activity happened to the cargo
// trackingID at location, on the voyage voyageNumber ("" when not on a
// voyage). It returns the errors of Cargo.RegisterHandlingEvent, with
// nothing saved.
func (b *BookingApplication) RegisterHandlingEvent(ctx context.Context, trackingID uuid.UUID, voyageNumber string, location Location, activity HandlingActivity) error {
	return b.update(ctx, trackingID, func(c *Cargo) error {
		return c.RegisterHandlingEvent(voyageNumber, location, activity)
	})
}

// GetCargo returns the cargo trackingID, rebuilt from its events.
func (b *BookingApplication) GetCargo(ctx context.Context, trackingID uuid.UUID) (*Cargo, error) {
	return b.cargos.Get(ctx, trackingID)
}

// update gets the cargo trackingID, runs command on it and saves it.
func (b *BookingApplication) update(ctx context.Context, trackingID uuid.UUID, command func(*Cargo) error) error {
	cargo, err := b.GetCargo(ctx, trackingID)
	if err != nil {
		return err
	}
	if err := command(cargo); err != nil {
		return err
	}
	if _, err := b.Save(ctx, cargo); err != nil {
		return fmt.Errorf("save cargo %s: %w", trackingID, err)
	}
	return nil
}
