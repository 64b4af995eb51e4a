package cargoshipping

import "errors"

// ErrUnknownLocation is returned by ParseLocation, by the BookingService
// for a location name it does not know, and when a Location that is not one
// of the constants is stored or read back.
var ErrUnknownLocation = errors.New("unknown location")

// ErrUnknownHandlingActivity is returned by ParseHandlingActivity, by the
// BookingService for an activity name it does not know, and by
// Cargo.RegisterHandlingEvent for an invalid HandlingActivity.
var ErrUnknownHandlingActivity = errors.New("unsupported handling activity")

// ErrNoRoute is returned by RegisteredRoutes and
// RequestPossibleRoutesForCargo when no route is on offer between two
// locations.
var ErrNoRoute = errors.New("no route")

// ErrNotRouted is returned by Cargo.RegisterHandlingEvent when no route has
// been assigned to the cargo.
var ErrNotRouted = errors.New("cargo has no route")

// ErrLegNotFound is returned by Cargo.RegisterHandlingEvent for a load at
// a location and onto a voyage that no leg of the cargo's route has.
var ErrLegNotFound = errors.New("no leg with that origin and voyage number")

// ErrInvalidItinerary is returned by Cargo.AssignRoute for an itinerary
// with no legs or with an unknown location.
var ErrInvalidItinerary = errors.New("invalid itinerary")

// ErrRouteNotOffered is returned by BookingService.AssignRoute when the
// route given is not one of the routes on offer for the cargo.
var ErrRouteNotOffered = errors.New("route not offered for the cargo")
