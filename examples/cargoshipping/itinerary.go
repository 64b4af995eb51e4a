package cargoshipping

import "fmt"

// Leg is one voyage of an itinerary: from Origin to Destination on the
// voyage VoyageNumber.
type Leg struct {
	Origin       Location `json:"origin"`
	Destination  Location `json:"destination"`
	VoyageNumber string   `json:"voyage_number"`
}

// Itinerary is a route along which cargo is shipped from Origin to
// Destination, leg by leg.
type Itinerary struct {
	Origin      Location `json:"origin"`
	Destination Location `json:"destination"`
	Legs        []Leg    `json:"legs"`
}

// route is the key of the registered routes.
type route struct{ from, to Location }

// registeredRoutes are the itineraries on offer, as in the Python
// eventsourcing library's cargo shipping example.
var registeredRoutes = map[route][]Itinerary{
	{Hongkong, Stockholm}: {{
		Origin: Hongkong, Destination: Stockholm,
		Legs: []Leg{
			{Origin: Hongkong, Destination: NewYork, VoyageNumber: "V1"},
			{Origin: NewYork, Destination: Stockholm, VoyageNumber: "V2"},
		},
	}},
	{Tokyo, Stockholm}: {{
		Origin: Tokyo, Destination: Stockholm,
		Legs: []Leg{
			{Origin: Tokyo, Destination: Hamburg, VoyageNumber: "V3"},
			{Origin: Hamburg, Destination: Stockholm, VoyageNumber: "V4"},
		},
	}},
}

// RegisteredRoutes returns the itineraries on offer from from to to, or an
// error wrapping ErrNoRoute when there are none. The itineraries returned
// are copies.
func RegisteredRoutes(from, to Location) ([]Itinerary, error) {
	itineraries, ok := registeredRoutes[route{from, to}]
	if !ok {
		return nil, fmt.Errorf("can't find routes from %s to %s: %w", from, to, ErrNoRoute)
	}
	out := make([]Itinerary, len(itineraries))
	for i, it := range itineraries {
		out[i] = it.clone()
	}
	return out, nil
}

// clone returns a copy of the itinerary that shares no legs with it.
func (it Itinerary) clone() Itinerary {
	it.Legs = append([]Leg(nil), it.Legs...)
	return it
}
