package cargoshipping

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// CargoDetails presents a cargo with simple types. Empty strings, a zero
// EstimatedTimeOfArrival and a nil NextExpectedActivity mean "none".
type CargoDetails struct {
	ID                     string
	Origin                 string
	Destination            string
	ArrivalDeadline        time.Time
	TransportStatus        string
	RoutingStatus          string
	IsMisdirected          bool
	EstimatedTimeOfArrival time.Time
	// NextExpectedActivity is the activity and the location, and for
	// loading and unloading the voyage number: ["LOAD", "HONGKONG", "V1"]
	// or ["CLAIM", "STOCKHOLM"].
	NextExpectedActivity []string
	LastKnownLocation    string
	CurrentVoyageNumber  string
}

// LegDetails presents a Leg with strings.
type LegDetails struct {
	Origin       string
	Destination  string
	VoyageNumber string
}

// ItineraryDetails presents an Itinerary with strings.
type ItineraryDetails struct {
	Origin      string
	Destination string
	Legs        []LegDetails
}

// BookingService presents a BookingApplication with simple types: tracking
// IDs, locations and activities as strings. It is safe for concurrent use.
// Besides the application's errors, it returns an error wrapping
// ErrUnknownLocation or ErrUnknownHandlingActivity for a name it does not
// know, and uuid's parse error for a malformed tracking ID.
type BookingService struct {
	app *BookingApplication
}

// NewBookingService returns a BookingService that uses app.
func NewBookingService(app *BookingApplication) *BookingService {
	return &BookingService{app: app}
}

// BookNewCargo books a new cargo from origin to destination, to arrive by
// arrivalDeadline, and returns its tracking ID.
func (s *BookingService) BookNewCargo(ctx context.Context, origin, destination string, arrivalDeadline time.Time) (string, error) {
	from, err := ParseLocation(origin)
	if err != nil {
		return "", err
	}
	to, err := ParseLocation(destination)
	if err != nil {
		return "", err
	}
	id, err := s.app.BookNewCargo(ctx, from, to, arrivalDeadline)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// GetCargoDetails returns the details of the cargo trackingID.
func (s *BookingService) GetCargoDetails(ctx context.Context, trackingID string) (CargoDetails, error) {
	id, err := uuid.Parse(trackingID)
	if err != nil {
		return CargoDetails{}, fmt.Errorf("tracking id %q: %w", trackingID, err)
	}
	cargo, err := s.app.GetCargo(ctx, id)
	if err != nil {
		return CargoDetails{}, err
	}
	var next []string
	if a := cargo.NextExpectedActivity; a != nil {
		next = []string{a.Activity.String(), string(a.Location)}
		if a.VoyageNumber != "" {
			next = append(next, a.VoyageNumber)
		}
	}
	return CargoDetails{
		ID:                     cargo.ID().String(),
		Origin:                 string(cargo.Origin),
		Destination:            string(cargo.Destination),
		ArrivalDeadline:        cargo.ArrivalDeadline,
		TransportStatus:        string(cargo.TransportStatus),
		RoutingStatus:          string(cargo.RoutingStatus),
		IsMisdirected:          cargo.IsMisdirected,
		EstimatedTimeOfArrival: cargo.EstimatedTimeOfArrival,
		NextExpectedActivity:   next,
		LastKnownLocation:      string(cargo.LastKnownLocation),
		CurrentVoyageNumber:    cargo.CurrentVoyageNumber,
	}, nil
}

// ChangeDestination changes the destination of the cargo trackingID.
func (s *BookingService) ChangeDestination(ctx context.Context, trackingID, destination string) error {
	id, err := uuid.Parse(trackingID)
	if err != nil {
		return fmt.Errorf("tracking id %q: %w", trackingID, err)
	}
	to, err := ParseLocation(destination)
	if err != nil {
		return err
	}
	return s.app.ChangeDestination(ctx, id, to)
}

// RequestPossibleRoutesForCargo returns the routes on offer for the cargo
// trackingID, or an error wrapping ErrNoRoute.
func (s *BookingService) RequestPossibleRoutesForCargo(ctx context.Context, trackingID string) ([]ItineraryDetails, error) {
	id, err := uuid.Parse(trackingID)
	if err != nil {
		return nil, fmt.Errorf("tracking id %q: %w", trackingID, err)
	}
	routes, err := s.app.RequestPossibleRoutesForCargo(ctx, id)
	if err != nil {
		return nil, err
	}
	details := make([]ItineraryDetails, len(routes))
	for i, r := range routes {
		details[i] = itineraryDetails(r)
	}
	return details, nil
}

// AssignRoute assigns to the cargo trackingID the route on offer that
// route describes, or returns an error wrapping ErrRouteNotOffered when no
// route on offer matches it.
func (s *BookingService) AssignRoute(ctx context.Context, trackingID string, route ItineraryDetails) error {
	id, err := uuid.Parse(trackingID)
	if err != nil {
		return fmt.Errorf("tracking id %q: %w", trackingID, err)
	}
	routes, err := s.app.RequestPossibleRoutesForCargo(ctx, id)
	if err != nil {
		return err
	}
	for _, r := range routes {
		d := itineraryDetails(r)
		if d.Origin == route.Origin && d.Destination == route.Destination && slices.Equal(d.Legs, route.Legs) {
			return s.app.AssignRoute(ctx, id, r)
		}
	}
	return fmt.Errorf("assign route to cargo %s: %w", id, ErrRouteNotOffered)
}

// RegisterHandlingEvent records that handlingActivity ("RECEIVE", "LOAD",
// "UNLOAD" or "CLAIM") happened to the cargo trackingID at location, on
// the voyage voyageNumber ("" when not on a voyage).
func (s *BookingService) RegisterHandlingEvent(ctx context.Context, trackingID, voyageNumber, location, handlingActivity string) error {
	id, err := uuid.Parse(trackingID)
	if err != nil {
		return fmt.Errorf("tracking id %q: %w", trackingID, err)
	}
	at, err := ParseLocation(location)
	if err != nil {
		return err
	}
	activity, err := ParseHandlingActivity(handlingActivity)
	if err != nil {
		return err
	}
	return s.app.RegisterHandlingEvent(ctx, id, voyageNumber, at, activity)
}

func itineraryDetails(it Itinerary) ItineraryDetails {
	legs := make([]LegDetails, len(it.Legs))
	for i, leg := range it.Legs {
		legs[i] = LegDetails{Origin: string(leg.Origin), Destination: string(leg.Destination), VoyageNumber: leg.VoyageNumber}
	}
	return ItineraryDetails{Origin: string(it.Origin), Destination: string(it.Destination), Legs: legs}
}

// SelectPreferredItinerary picks the route to assign from the routes on
// offer: the first, as in the Python library's example, where price and
// time of delivery could decide instead. It returns false when there are
// none.
func SelectPreferredItinerary(itineraries []ItineraryDetails) (ItineraryDetails, bool) {
	if len(itineraries) == 0 {
		return ItineraryDetails{}, false
	}
	return itineraries[0], true
}
