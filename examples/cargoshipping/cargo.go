package cargoshipping

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// TransportStatus is where a cargo is in its transport.
type TransportStatus string

// The transport statuses.
const (
	NotReceived    TransportStatus = "NOT_RECEIVED"
	InPort         TransportStatus = "IN_PORT"
	OnboardCarrier TransportStatus = "ONBOARD_CARRIER"
	Claimed        TransportStatus = "CLAIMED"
)

// RoutingStatus tells whether a route has been assigned to a cargo.
type RoutingStatus string

// The routing statuses.
const (
	NotRouted RoutingStatus = "NOT_ROUTED"
	Routed    RoutingStatus = "ROUTED"
)

// EstimatedTransitTime is how long after a route is assigned the cargo is
// expected to arrive.
const EstimatedTransitTime = 7 * 24 * time.Hour

// ExpectedActivity is the handling a cargo is expected to have next: an
// activity at a location and, for loading and unloading, on a voyage
// (VoyageNumber is empty for receiving and claiming).
type ExpectedActivity struct {
	Activity     HandlingActivity `json:"activity"`
	Location     Location         `json:"location"`
	VoyageNumber string           `json:"voyage_number,omitempty"`
}

// Cargo is an aggregate: a cargo booked from an origin to a destination by
// an arrival deadline, the route assigned to it, and what its handling
// tells about it: its transport status, where it was last seen, the voyage
// it is on, whether it is misdirected, and the handling expected next.
// Zero values (a zero time, an empty location or voyage number, a nil
// route or expected activity) mean "none". A Cargo is not safe for
// concurrent use.
type Cargo struct {
	domain.Base
	Origin                 Location          `json:"origin"`
	Destination            Location          `json:"destination"`
	ArrivalDeadline        time.Time         `json:"arrival_deadline"`
	TransportStatus        TransportStatus   `json:"transport_status"`
	RoutingStatus          RoutingStatus     `json:"routing_status"`
	IsMisdirected          bool              `json:"is_misdirected"`
	EstimatedTimeOfArrival time.Time         `json:"estimated_time_of_arrival,omitzero"`
	NextExpectedActivity   *ExpectedActivity `json:"next_expected_activity,omitempty"`
	Route                  *Itinerary        `json:"route,omitempty"`
	LastKnownLocation      Location          `json:"last_known_location,omitzero"`
	CurrentVoyageNumber    string            `json:"current_voyage_number,omitempty"`
}

// BookingStarted is the event that creates a Cargo.
type BookingStarted struct {
	Origin          Location  `json:"origin"`
	Destination     Location  `json:"destination"`
	ArrivalDeadline time.Time `json:"arrival_deadline"`
}

// DestinationChanged is the event that changes a Cargo's destination.
type DestinationChanged struct {
	Destination Location `json:"destination"`
}

// RouteAssigned is the event that assigns a route to a Cargo. It carries
// the estimated time of arrival, computed when the route was assigned, so
// that a cargo rebuilt from its events has the same estimate every time.
type RouteAssigned struct {
	Route                  Itinerary `json:"route"`
	EstimatedTimeOfArrival time.Time `json:"estimated_time_of_arrival"`
}

// HandlingEventRegistered is the event that records the handling of a
// Cargo: HandlingActivity at Location, on the voyage VoyageNumber (empty
// when the activity is not on a voyage).
type HandlingEventRegistered struct {
	TrackingID       uuid.UUID        `json:"tracking_id"`
	VoyageNumber     string           `json:"voyage_number,omitempty"`
	Location         Location         `json:"location"`
	HandlingActivity HandlingActivity `json:"handling_activity"`
}

// NewBooking books a new cargo from origin to destination, to arrive by
// arrivalDeadline, with a new random tracking ID. It returns an error
// wrapping ErrUnknownLocation for an unknown location.
func NewBooking(origin, destination Location, arrivalDeadline time.Time) (*Cargo, error) {
	if err := checkLocations(origin, destination); err != nil {
		return nil, fmt.Errorf("book new cargo: %w", err)
	}
	return domain.Create[Cargo](uuid.New(), BookingStarted{
		Origin: origin, Destination: destination, ArrivalDeadline: arrivalDeadline,
	})
}

// ChangeDestination changes the cargo's destination. It returns an error
// wrapping ErrUnknownLocation for an unknown location.
func (c *Cargo) ChangeDestination(destination Location) error {
	if err := checkLocations(destination); err != nil {
		return fmt.Errorf("change destination of cargo %s: %w", c.ID(), err)
	}
	return domain.Trigger(c, DestinationChanged{Destination: destination})
}

// AssignRoute assigns the itinerary to the cargo: it is then routed, not
// misdirected, expected to arrive EstimatedTransitTime from now, and next
// expected to be received at its origin. It returns an error wrapping
// ErrInvalidItinerary for an itinerary with no legs or unknown locations.
func (c *Cargo) AssignRoute(itinerary Itinerary) error {
	if err := checkItinerary(itinerary); err != nil {
		return fmt.Errorf("assign route to cargo %s: %w", c.ID(), err)
	}
	return domain.Trigger(c, RouteAssigned{
		Route:                  itinerary.clone(),
		EstimatedTimeOfArrival: domain.Now().Add(EstimatedTransitTime),
	})
}

// RegisterHandlingEvent records that activity happened to the cargo at
// location, on the voyage voyageNumber ("" when not on a voyage). It
// returns an error, and records nothing, when the cargo has no route
// (ErrNotRouted), for an unknown location or activity (ErrUnknownLocation,
// ErrUnknownHandlingActivity), and for a load that no leg of the route
// starts at location on voyageNumber (ErrLegNotFound).
func (c *Cargo) RegisterHandlingEvent(voyageNumber string, location Location, activity HandlingActivity) error {
	var err error
	switch {
	case c.Route == nil:
		err = ErrNotRouted
	case !activity.IsValid():
		err = fmt.Errorf("%d: %w", int(activity), ErrUnknownHandlingActivity)
	default:
		err = checkLocations(location)
	}
	if err == nil && activity == Load {
		if _, ok := c.Route.legFrom(location, voyageNumber); !ok {
			err = fmt.Errorf("origin %s, voyage %q: %w", location, voyageNumber, ErrLegNotFound)
		}
	}
	if err != nil {
		return fmt.Errorf("register handling event of cargo %s: %w", c.ID(), err)
	}
	return domain.Trigger(c, HandlingEventRegistered{
		TrackingID: c.ID(), VoyageNumber: voyageNumber, Location: location, HandlingActivity: activity,
	})
}

// Apply evolves the cargo's state from one of its events.
func (c *Cargo) Apply(data any) error {
	switch e := data.(type) {
	case BookingStarted:
		c.Origin, c.Destination, c.ArrivalDeadline = e.Origin, e.Destination, e.ArrivalDeadline
		c.TransportStatus, c.RoutingStatus = NotReceived, NotRouted
	case DestinationChanged:
		c.Destination = e.Destination
	case RouteAssigned:
		route := e.Route.clone()
		c.Route = &route
		c.RoutingStatus = Routed
		c.EstimatedTimeOfArrival = e.EstimatedTimeOfArrival
		c.NextExpectedActivity = &ExpectedActivity{Activity: Receive, Location: c.Origin}
		c.IsMisdirected = false
	case HandlingEventRegistered:
		return c.handled(e)
	default:
		return fmt.Errorf("cargo: unknown event %T", data)
	}
	return nil
}

// handled evolves the cargo's state from a handling event. It changes
// nothing when it returns an error.
func (c *Cargo) handled(e HandlingEventRegistered) error {
	if c.Route == nil {
		return ErrNotRouted
	}
	if len(c.Route.Legs) == 0 {
		return fmt.Errorf("no legs: %w", ErrInvalidItinerary)
	}
	switch e.HandlingActivity {
	case Receive:
		c.TransportStatus = InPort
		c.LastKnownLocation = e.Location
		c.NextExpectedActivity = &ExpectedActivity{Activity: Load, Location: e.Location, VoyageNumber: c.Route.Legs[0].VoyageNumber}
	case Load:
		leg, ok := c.Route.legFrom(e.Location, e.VoyageNumber)
		if !ok {
			return fmt.Errorf("origin %s, voyage %q: %w", e.Location, e.VoyageNumber, ErrLegNotFound)
		}
		c.TransportStatus = OnboardCarrier
		c.CurrentVoyageNumber = e.VoyageNumber
		c.NextExpectedActivity = &ExpectedActivity{Activity: Unload, Location: leg.Destination, VoyageNumber: e.VoyageNumber}
	case Unload:
		c.CurrentVoyageNumber = ""
		c.LastKnownLocation = e.Location
		c.TransportStatus = InPort
		if e.Location == c.Destination {
			c.NextExpectedActivity = &ExpectedActivity{Activity: Claim, Location: e.Location}
		} else if next, ok := c.Route.legAfter(e.Location, e.VoyageNumber); ok {
			c.NextExpectedActivity = &ExpectedActivity{Activity: Load, Location: e.Location, VoyageNumber: next.VoyageNumber}
		} else {
			c.IsMisdirected = true
			c.NextExpectedActivity = nil
		}
	case Claim:
		c.NextExpectedActivity = nil
		c.TransportStatus = Claimed
	default:
		return fmt.Errorf("%s: %w", e.HandlingActivity, ErrUnknownHandlingActivity)
	}
	return nil
}

// legFrom returns the leg of the itinerary that starts at location on the
// voyage voyageNumber.
func (it *Itinerary) legFrom(location Location, voyageNumber string) (Leg, bool) {
	for _, leg := range it.Legs {
		if leg.Origin == location && leg.VoyageNumber == voyageNumber {
			return leg, true
		}
	}
	return Leg{}, false
}

// legAfter returns the leg that follows the leg of the voyage voyageNumber
// when that leg ends at location and the next one starts there: where the
// cargo is loaded next after being unloaded at location. Any other unload
// away from the cargo's destination counts as misdirected. (The Python
// library's example looks only for a leg ending at location and a leg of
// the voyage, which need not be the same leg; when they are not, it fails
// or leaves the expected activity as it was.)
func (it *Itinerary) legAfter(location Location, voyageNumber string) (Leg, bool) {
	for i, leg := range it.Legs {
		if leg.VoyageNumber == voyageNumber && leg.Destination == location && i+1 < len(it.Legs) {
			next := it.Legs[i+1]
			return next, next.Origin == location
		}
	}
	return Leg{}, false
}

func checkLocations(locations ...Location) error {
	for _, l := range locations {
		if !l.IsValid() {
			return fmt.Errorf("%q: %w", string(l), ErrUnknownLocation)
		}
	}
	return nil
}

func checkItinerary(it Itinerary) error {
	if len(it.Legs) == 0 {
		return fmt.Errorf("no legs: %w", ErrInvalidItinerary)
	}
	locations := []Location{it.Origin, it.Destination}
	for _, leg := range it.Legs {
		locations = append(locations, leg.Origin, leg.Destination)
	}
	if err := checkLocations(locations...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidItinerary, err)
	}
	return nil
}
