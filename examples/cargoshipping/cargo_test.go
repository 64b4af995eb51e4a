package cargoshipping_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/cargoshipping"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestLocationText(t *testing.T) {
	t.Parallel()
	for _, l := range cargoshipping.Locations() {
		text, err := l.MarshalText()
		require.NoError(t, err)
		require.Equal(t, string(l), string(text))
		var back cargoshipping.Location
		require.NoError(t, back.UnmarshalText(text))
		require.Equal(t, l, back)
		parsed, err := cargoshipping.ParseLocation(string(l))
		require.NoError(t, err)
		require.Equal(t, l, parsed)
	}
	require.Len(t, cargoshipping.Locations(), 8)
	for _, bad := range []string{"", "hongkong", "ATLANTIS"} {
		_, err := cargoshipping.ParseLocation(bad)
		require.ErrorIs(t, err, cargoshipping.ErrUnknownLocation, bad)
		_, err = cargoshipping.Location(bad).MarshalText()
		require.ErrorIs(t, err, cargoshipping.ErrUnknownLocation, bad)
	}
}

func TestHandlingActivityText(t *testing.T) {
	t.Parallel()
	for activity, name := range map[cargoshipping.HandlingActivity]string{
		cargoshipping.Receive: "RECEIVE", cargoshipping.Load: "LOAD",
		cargoshipping.Unload: "UNLOAD", cargoshipping.Claim: "CLAIM",
	} {
		require.Equal(t, name, activity.String())
		text, err := json.Marshal(activity)
		require.NoError(t, err)
		require.JSONEq(t, `"`+name+`"`, string(text))
		var back cargoshipping.HandlingActivity
		require.NoError(t, json.Unmarshal(text, &back))
		require.Equal(t, activity, back)
	}
	_, err := cargoshipping.HandlingActivity(0).MarshalText()
	require.ErrorIs(t, err, cargoshipping.ErrUnknownHandlingActivity)
	var a cargoshipping.HandlingActivity
	require.ErrorIs(t, a.UnmarshalText([]byte("INSPECT")), cargoshipping.ErrUnknownHandlingActivity)
	require.Equal(t, "HandlingActivity(9)", cargoshipping.HandlingActivity(9).String())
}

// routedCargo returns a cargo booked from Hongkong to Stockholm, routed,
// received, loaded onto V1 and unloaded in Tokyo by mistake.
func routedCargo(t *testing.T) *cargoshipping.Cargo {
	t.Helper()
	cargo, err := cargoshipping.NewBooking(cargoshipping.Hongkong, cargoshipping.Stockholm, time.Now().UTC().Round(0))
	require.NoError(t, err)
	routes, err := cargoshipping.RegisteredRoutes(cargoshipping.Hongkong, cargoshipping.Stockholm)
	require.NoError(t, err)
	require.NoError(t, cargo.AssignRoute(routes[0]))
	require.NoError(t, cargo.RegisterHandlingEvent("", cargoshipping.Hongkong, cargoshipping.Receive))
	require.NoError(t, cargo.RegisterHandlingEvent("V1", cargoshipping.Hongkong, cargoshipping.Load))
	require.NoError(t, cargo.RegisterHandlingEvent("V1", cargoshipping.Tokyo, cargoshipping.Unload))
	require.True(t, cargo.IsMisdirected)
	return cargo
}

// The cargo's events, with their custom value types, go through the
// application's codec and come back equal; locations and activities are
// stored as their names.
func TestCargoEventsRoundTripThroughTheCodec(t *testing.T) {
	t.Parallel()
	booking := newBooking(t, app.Options{Lookup: noEnv, Env: map[string]string{"PERSISTENCE_MODULE": "memory"}})
	cargo := routedCargo(t)
	events := cargo.CollectEvents()
	stored, err := booking.Mapper().ToStoredEvents(events)
	require.NoError(t, err)
	require.Len(t, stored, 5)
	require.Equal(t, cargoshipping.TopicRouteAssigned, stored[1].Topic)
	require.Contains(t, string(stored[1].State), `"voyage_number":"V1"`)
	require.Contains(t, string(stored[1].State), `"destination":"NEWYORK"`)
	require.Contains(t, string(stored[4].State), `"handling_activity":"UNLOAD"`)
	require.Contains(t, string(stored[4].State), `"location":"TOKYO"`)

	decoded := make([]domain.Event, len(stored))
	for i, s := range stored {
		decoded[i], err = booking.Mapper().ToDomainEvent(s)
		require.NoError(t, err)
		require.Equal(t, events[i].Data, decoded[i].Data, "event %d", i)
	}
	replayed, err := domain.Replay[cargoshipping.Cargo](decoded)
	require.NoError(t, err)
	requireSameCargo(t, cargo, replayed)
}

// A stored location that is not one of the known locations is refused
// when read back.
func TestUnknownStoredLocationIsRefused(t *testing.T) {
	t.Parallel()
	booking := newBooking(t, app.Options{Lookup: noEnv, Env: map[string]string{"PERSISTENCE_MODULE": "memory"}})
	cargo, err := cargoshipping.NewBooking(cargoshipping.NLRTM, cargoshipping.USDAL, time.Now())
	require.NoError(t, err)
	stored, err := booking.Mapper().ToStoredEvents(cargo.CollectEvents())
	require.NoError(t, err)
	require.Contains(t, string(stored[0].State), `"origin":"NLRTM"`)
	stored[0].State = []byte(strings.Replace(string(stored[0].State), `"origin":"NLRTM"`, `"origin":"ATLANTIS"`, 1))
	_, err = booking.Mapper().ToDomainEvent(stored[0])
	require.ErrorIs(t, err, cargoshipping.ErrUnknownLocation)
}

// The estimated time of arrival is in the RouteAssigned event, so a cargo
// rebuilt twice from its events has the same estimate (in the Python
// library's example it is computed again on every replay).
func TestEstimatedTimeOfArrivalIsStable(t *testing.T) {
	t.Parallel()
	cargo := routedCargo(t)
	require.False(t, cargo.EstimatedTimeOfArrival.IsZero())
	events := cargo.CollectEvents()
	first, err := domain.Replay[cargoshipping.Cargo](events)
	require.NoError(t, err)
	second, err := domain.Replay[cargoshipping.Cargo](events)
	require.NoError(t, err)
	require.Equal(t, cargo.EstimatedTimeOfArrival, first.EstimatedTimeOfArrival)
	require.Equal(t, first.EstimatedTimeOfArrival, second.EstimatedTimeOfArrival)
}

// A refused handling event leaves the cargo as it was, with no new
// pending event.
func TestRefusedHandlingEventChangesNothing(t *testing.T) {
	t.Parallel()
	cargo := routedCargo(t)
	pending := len(cargo.PendingEvents())
	version := cargo.Version()
	require.ErrorIs(t, cargo.RegisterHandlingEvent("V9", cargoshipping.Tokyo, cargoshipping.Load), cargoshipping.ErrLegNotFound)
	require.ErrorIs(t, cargo.RegisterHandlingEvent("", cargoshipping.Tokyo, 0), cargoshipping.ErrUnknownHandlingActivity)
	require.ErrorIs(t, cargo.RegisterHandlingEvent("", "ATLANTIS", cargoshipping.Receive), cargoshipping.ErrUnknownLocation)
	require.ErrorIs(t, cargo.AssignRoute(cargoshipping.Itinerary{Origin: cargoshipping.Tokyo, Destination: cargoshipping.Stockholm}),
		cargoshipping.ErrInvalidItinerary)
	require.Len(t, cargo.PendingEvents(), pending)
	require.Equal(t, version, cargo.Version())
	require.Equal(t, cargoshipping.InPort, cargo.TransportStatus)
	require.Equal(t, cargoshipping.Tokyo, cargo.LastKnownLocation)
}

// With snapshots, a cargo rebuilt from its snapshot (the aggregate's
// state with its route and expected activity) equals one rebuilt from its
// events.
func TestCargoSnapshot(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		opts.SnapshottingEnabled = true
		booking := newBooking(t, opts)
		s := cargoshipping.NewBookingService(booking)
		id, err := s.BookNewCargo(ctx, "HONGKONG", "STOCKHOLM", time.Now())
		require.NoError(t, err)
		reroute(t, s, id)
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "", "HONGKONG", "RECEIVE"))
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V1", "HONGKONG", "LOAD"))
		before := details(t, s, id)

		cargo, err := booking.GetCargo(ctx, uuid.MustParse(id))
		require.NoError(t, err)
		repo := app.NewRepository[cargoshipping.Cargo](booking.Application)
		require.NoError(t, repo.TakeSnapshot(ctx, cargo.ID(), 0))
		snapshots, err := booking.Snapshots().SelectEvents(ctx, cargo.ID(), persistence.EventQuery{})
		require.NoError(t, err)
		require.Len(t, snapshots, 1)

		fromSnapshot, err := booking.GetCargo(ctx, cargo.ID())
		require.NoError(t, err)
		requireSameCargo(t, cargo, fromSnapshot)
		require.Equal(t, before, details(t, s, id))

		// The snapshot and the event after it: unloaded in New York, the
		// cargo is next loaded onto the route's second voyage.
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V1", "NEWYORK", "UNLOAD"))
		d := details(t, s, id)
		require.Equal(t, []string{"LOAD", "NEWYORK", "V2"}, d.NextExpectedActivity)
		require.Equal(t, "NEWYORK", d.LastKnownLocation)
		require.False(t, d.IsMisdirected)
	})
}

func requireSameCargo(t *testing.T, want, got *cargoshipping.Cargo) {
	t.Helper()
	require.Equal(t, want.ID(), got.ID())
	require.Equal(t, want.Version(), got.Version())
	require.Equal(t, want.Origin, got.Origin)
	require.Equal(t, want.Destination, got.Destination)
	require.True(t, want.ArrivalDeadline.Equal(got.ArrivalDeadline))
	require.Equal(t, want.TransportStatus, got.TransportStatus)
	require.Equal(t, want.RoutingStatus, got.RoutingStatus)
	require.Equal(t, want.IsMisdirected, got.IsMisdirected)
	require.True(t, want.EstimatedTimeOfArrival.Equal(got.EstimatedTimeOfArrival))
	require.Equal(t, want.NextExpectedActivity, got.NextExpectedActivity)
	require.Equal(t, want.Route, got.Route)
	require.Equal(t, want.LastKnownLocation, got.LastKnownLocation)
	require.Equal(t, want.CurrentVoyageNumber, got.CurrentVoyageNumber)
}
