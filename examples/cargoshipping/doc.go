// Package cargoshipping is the cargo shipping example of the Python
// eventsourcing library's documentation: cargo is booked from an origin to
// a destination, routed along an itinerary of voyages, and tracked as it
// is received, loaded, unloaded and claimed.
//
// The Cargo aggregate decides from its route and its handling what its
// transport status is, where it was last seen, which voyage it is on,
// whether it is misdirected, and what handling to expect next. Its events
// hold custom value types, stored by the library's JSON codec: Location
// (a string type whose only values are the constants, such as Hongkong)
// and HandlingActivity (an integer enum) store themselves as their names
// through encoding.TextMarshaler and refuse unknown names when read back;
// Itinerary and Leg are stored as JSON objects. The estimated time of
// arrival is computed when a route is assigned and carried in the
// RouteAssigned event, so a cargo rebuilt from its events is the same
// every time.
//
// BookingApplication offers the use cases with the domain's types;
// BookingService presents them with strings, as a user interface or a web
// service would use them:
//
//	booking, err := cargoshipping.NewBookingApplication(ctx, app.Options{})
//	service := cargoshipping.NewBookingService(booking)
//	id, err := service.BookNewCargo(ctx, "HONGKONG", "STOCKHOLM", deadline)
//	routes, err := service.RequestPossibleRoutesForCargo(ctx, id)
//	err = service.AssignRoute(ctx, id, routes[0])
//	err = service.RegisterHandlingEvent(ctx, id, "", "HONGKONG", "RECEIVE")
//	details, err := service.GetCargoDetails(ctx, id) // next: LOAD HONGKONG V1
//
// The application stores in memory by default; set PERSISTENCE_MODULE to
// "postgres" (with DATABASE_URL or the POSTGRES_* variables) in the
// environment or in app.Options.Env to store in PostgreSQL.
package cargoshipping
