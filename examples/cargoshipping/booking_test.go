package cargoshipping_test

import (
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/cargoshipping"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// noEnv keeps the process environment out of the tests.
func noEnv(string) (string, bool) { return "", false }

// eachStore runs test as parallel subtests on the in-memory store and on
// PostgreSQL (in a fresh schema; skipped when no server can be had).
func eachStore(t *testing.T, test func(t *testing.T, opts app.Options)) {
	t.Helper()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		test(t, app.Options{Lookup: noEnv, Env: env})
	})
}

func newBooking(t *testing.T, opts app.Options) *cargoshipping.BookingApplication {
	t.Helper()
	b, err := cargoshipping.NewBookingApplication(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

func details(t *testing.T, s *cargoshipping.BookingService, id string) cargoshipping.CargoDetails {
	t.Helper()
	d, err := s.GetCargoDetails(t.Context(), id)
	require.NoError(t, err)
	return d
}

// reroute assigns the preferred route on offer, as the test of the Python
// library's example does.
func reroute(t *testing.T, s *cargoshipping.BookingService, id string) {
	t.Helper()
	routes, err := s.RequestPossibleRoutesForCargo(t.Context(), id)
	require.NoError(t, err)
	route, ok := cargoshipping.SelectPreferredItinerary(routes)
	require.True(t, ok)
	require.NoError(t, s.AssignRoute(t.Context(), id, route))
}

// test_admin_can_book_new_cargo (Python docs lines 8094-8114): book NLRTM
// to USDAL, change the destination to AUMEL; the arrival deadline, in a
// time zone other than UTC, survives storage.
func TestAdminCanBookNewCargo(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		s := cargoshipping.NewBookingService(newBooking(t, opts))
		arrivalDeadline := time.Now().In(time.FixedZone("UTC+2", 2*60*60)).Add(3 * 7 * 24 * time.Hour).Round(0)

		id, err := s.BookNewCargo(ctx, "NLRTM", "USDAL", arrivalDeadline)
		require.NoError(t, err)
		d := details(t, s, id)
		require.NotEmpty(t, d.ID)
		require.Equal(t, id, d.ID)
		require.Equal(t, "NLRTM", d.Origin)
		require.Equal(t, "USDAL", d.Destination)

		require.NoError(t, s.ChangeDestination(ctx, id, "AUMEL"))
		d = details(t, s, id)
		require.Equal(t, "AUMEL", d.Destination)
		require.True(t, arrivalDeadline.Equal(d.ArrivalDeadline), "%s != %s", arrivalDeadline, d.ArrivalDeadline)
		_, wantOffset := arrivalDeadline.Zone()
		_, gotOffset := d.ArrivalDeadline.Zone()
		require.Equal(t, wantOffset, gotOffset)
	})
}

// test_scenario_cargo_from_hongkong_to_stockholm (Python docs lines
// 8116-8307), step by step.
func TestScenarioCargoFromHongkongToStockholm(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		booking := newBooking(t, opts)
		s := cargoshipping.NewBookingService(booking)
		arrivalDeadline := time.Now().Add(2 * 7 * 24 * time.Hour)

		// Use case 1: booking (lines 8126-8152).
		id, err := s.BookNewCargo(ctx, "HONGKONG", "STOCKHOLM", arrivalDeadline)
		require.NoError(t, err)
		d := details(t, s, id)
		require.Equal(t, "NOT_RECEIVED", d.TransportStatus)
		require.Equal(t, "NOT_ROUTED", d.RoutingStatus)
		require.False(t, d.IsMisdirected)
		require.True(t, d.EstimatedTimeOfArrival.IsZero())
		require.Nil(t, d.NextExpectedActivity)

		// Use case 2: routing (lines 8154-8180).
		routes, err := s.RequestPossibleRoutesForCargo(ctx, id)
		require.NoError(t, err)
		require.Equal(t, []cargoshipping.ItineraryDetails{{
			Origin: "HONGKONG", Destination: "STOCKHOLM",
			Legs: []cargoshipping.LegDetails{
				{Origin: "HONGKONG", Destination: "NEWYORK", VoyageNumber: "V1"},
				{Origin: "NEWYORK", Destination: "STOCKHOLM", VoyageNumber: "V2"},
			},
		}}, routes)
		reroute(t, s, id)
		d = details(t, s, id)
		require.Equal(t, "NOT_RECEIVED", d.TransportStatus)
		require.Equal(t, "ROUTED", d.RoutingStatus)
		require.False(t, d.IsMisdirected)
		require.False(t, d.EstimatedTimeOfArrival.IsZero())
		require.Equal(t, []string{"RECEIVE", "HONGKONG"}, d.NextExpectedActivity)

		// Use case 3: handling. Received in Hongkong (lines 8182-8207).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "", "HONGKONG", "RECEIVE"))
		d = details(t, s, id)
		require.Equal(t, "IN_PORT", d.TransportStatus)
		require.Equal(t, "HONGKONG", d.LastKnownLocation)
		require.Equal(t, []string{"LOAD", "HONGKONG", "V1"}, d.NextExpectedActivity)

		// Loaded onto voyage V1 (lines 8209-8224).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V1", "HONGKONG", "LOAD"))
		d = details(t, s, id)
		require.Equal(t, "V1", d.CurrentVoyageNumber)
		require.Equal(t, "HONGKONG", d.LastKnownLocation)
		require.Equal(t, "ONBOARD_CARRIER", d.TransportStatus)
		require.Equal(t, []string{"UNLOAD", "NEWYORK", "V1"}, d.NextExpectedActivity)

		// Incorrectly unloaded in Tokyo (lines 8226-8233).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V1", "TOKYO", "UNLOAD"))
		d = details(t, s, id)
		require.Empty(t, d.CurrentVoyageNumber)
		require.Equal(t, "TOKYO", d.LastKnownLocation)
		require.Equal(t, "IN_PORT", d.TransportStatus)
		require.True(t, d.IsMisdirected)
		require.Nil(t, d.NextExpectedActivity)

		// Rerouted from Tokyo (lines 8235-8238).
		reroute(t, s, id)

		// Loaded in Tokyo (lines 8240-8253).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V3", "TOKYO", "LOAD"))
		d = details(t, s, id)
		require.Equal(t, "V3", d.CurrentVoyageNumber)
		require.Equal(t, "TOKYO", d.LastKnownLocation)
		require.Equal(t, "ONBOARD_CARRIER", d.TransportStatus)
		require.False(t, d.IsMisdirected)
		require.Equal(t, []string{"UNLOAD", "HAMBURG", "V3"}, d.NextExpectedActivity)

		// Unloaded in Hamburg (lines 8255-8265).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V3", "HAMBURG", "UNLOAD"))
		d = details(t, s, id)
		require.Empty(t, d.CurrentVoyageNumber)
		require.Equal(t, "HAMBURG", d.LastKnownLocation)
		require.Equal(t, "IN_PORT", d.TransportStatus)
		require.False(t, d.IsMisdirected)
		require.Equal(t, []string{"LOAD", "HAMBURG", "V4"}, d.NextExpectedActivity)

		// Loaded in Hamburg (lines 8267-8280).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V4", "HAMBURG", "LOAD"))
		d = details(t, s, id)
		require.Equal(t, "V4", d.CurrentVoyageNumber)
		require.Equal(t, "HAMBURG", d.LastKnownLocation)
		require.Equal(t, "ONBOARD_CARRIER", d.TransportStatus)
		require.False(t, d.IsMisdirected)
		require.Equal(t, []string{"UNLOAD", "STOCKHOLM", "V4"}, d.NextExpectedActivity)

		// Unloaded in Stockholm (lines 8282-8295).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "V4", "STOCKHOLM", "UNLOAD"))
		d = details(t, s, id)
		require.Empty(t, d.CurrentVoyageNumber)
		require.Equal(t, "STOCKHOLM", d.LastKnownLocation)
		require.Equal(t, "IN_PORT", d.TransportStatus)
		require.False(t, d.IsMisdirected)
		require.Equal(t, []string{"CLAIM", "STOCKHOLM"}, d.NextExpectedActivity)

		// Finally claimed in Stockholm (lines 8297-8307).
		require.NoError(t, s.RegisterHandlingEvent(ctx, id, "", "STOCKHOLM", "CLAIM"))
		d = details(t, s, id)
		require.Empty(t, d.CurrentVoyageNumber)
		require.Equal(t, "STOCKHOLM", d.LastKnownLocation)
		require.Equal(t, "CLAIMED", d.TransportStatus)
		require.False(t, d.IsMisdirected)
		require.Nil(t, d.NextExpectedActivity)

		// Every step was one event: booked, routed, three handling events,
		// rerouted, and five more handling events.
		last, err := booking.Recorder().MaxNotificationID(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(11), last)
	})
}

// Refused commands return errors and record nothing.
func TestBookingRefusals(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		booking := newBooking(t, opts)
		s := cargoshipping.NewBookingService(booking)
		lastID := func() int64 {
			id, err := booking.Recorder().MaxNotificationID(ctx)
			require.NoError(t, err)
			return id
		}

		_, err := s.BookNewCargo(ctx, "ATLANTIS", "STOCKHOLM", time.Now())
		require.ErrorIs(t, err, cargoshipping.ErrUnknownLocation)
		require.Equal(t, int64(0), lastID())

		id, err := s.BookNewCargo(ctx, "NLRTM", "USDAL", time.Now())
		require.NoError(t, err)
		require.Equal(t, int64(1), lastID())

		// No route is on offer from NLRTM to USDAL ("Can't find routes").
		_, err = s.RequestPossibleRoutesForCargo(ctx, id)
		require.ErrorIs(t, err, cargoshipping.ErrNoRoute)
		require.ErrorIs(t, s.AssignRoute(ctx, id, cargoshipping.ItineraryDetails{}), cargoshipping.ErrNoRoute)

		// Handling before a route is assigned.
		require.ErrorIs(t, s.RegisterHandlingEvent(ctx, id, "", "NLRTM", "RECEIVE"), cargoshipping.ErrNotRouted)
		require.ErrorIs(t, s.RegisterHandlingEvent(ctx, id, "", "NLRTM", "INSPECT"), cargoshipping.ErrUnknownHandlingActivity)
		require.ErrorIs(t, s.ChangeDestination(ctx, id, "ATLANTIS"), cargoshipping.ErrUnknownLocation)
		require.Equal(t, int64(1), lastID())

		// A route that is not on offer is refused.
		id, err = s.BookNewCargo(ctx, "HONGKONG", "STOCKHOLM", time.Now())
		require.NoError(t, err)
		require.ErrorIs(t, s.AssignRoute(ctx, id, cargoshipping.ItineraryDetails{Origin: "HONGKONG", Destination: "STOCKHOLM"}),
			cargoshipping.ErrRouteNotOffered)
		reroute(t, s, id)
		require.Equal(t, int64(3), lastID())

		// A load onto a voyage that no leg starts there on ("Can't find leg").
		require.ErrorIs(t, s.RegisterHandlingEvent(ctx, id, "V2", "HONGKONG", "LOAD"), cargoshipping.ErrLegNotFound)
		require.Equal(t, int64(3), lastID())

		// Unknown and malformed tracking IDs.
		_, err = s.GetCargoDetails(ctx, uuid.NewString())
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		_, err = s.GetCargoDetails(ctx, "not a uuid")
		require.Error(t, err)
		require.ErrorIs(t, s.ChangeDestination(ctx, uuid.NewString(), "AUMEL"), app.ErrAggregateNotFound)
	})
}
