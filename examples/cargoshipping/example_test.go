package cargoshipping_test

import (
	"context"
	"fmt"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/cargoshipping"
)

// Book a cargo from Hongkong to Stockholm, route it, and follow it as it
// is received, loaded, unloaded in the wrong port, rerouted and finally
// claimed.
func Example() {
	ctx := context.Background()
	check := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	booking, err := cargoshipping.NewBookingApplication(ctx, app.Options{Env: map[string]string{"PERSISTENCE_MODULE": "memory"}})
	check(err)
	defer booking.Close()
	service := cargoshipping.NewBookingService(booking)

	id, err := service.BookNewCargo(ctx, "HONGKONG", "STOCKHOLM", time.Now().Add(14*24*time.Hour))
	check(err)
	show := func(step string) {
		d, err := service.GetCargoDetails(ctx, id)
		check(err)
		fmt.Printf("%-18s %-15s %-10s misdirected=%-5v next=%v\n", step, d.TransportStatus, d.LastKnownLocation, d.IsMisdirected, d.NextExpectedActivity)
	}
	route := func() {
		routes, err := service.RequestPossibleRoutesForCargo(ctx, id)
		check(err)
		preferred, _ := cargoshipping.SelectPreferredItinerary(routes)
		check(service.AssignRoute(ctx, id, preferred))
	}

	show("booked")
	route()
	show("routed")
	for _, h := range []struct{ voyage, location, activity string }{
		{"", "HONGKONG", "RECEIVE"},
		{"V1", "HONGKONG", "LOAD"},
		{"V1", "TOKYO", "UNLOAD"},
	} {
		check(service.RegisterHandlingEvent(ctx, id, h.voyage, h.location, h.activity))
		show(h.activity + " " + h.location)
	}
	route()
	show("rerouted")
	for _, h := range []struct{ voyage, location, activity string }{
		{"V3", "TOKYO", "LOAD"},
		{"V3", "HAMBURG", "UNLOAD"},
		{"V4", "HAMBURG", "LOAD"},
		{"V4", "STOCKHOLM", "UNLOAD"},
		{"", "STOCKHOLM", "CLAIM"},
	} {
		check(service.RegisterHandlingEvent(ctx, id, h.voyage, h.location, h.activity))
		show(h.activity + " " + h.location)
	}
	// Output:
	// booked             NOT_RECEIVED               misdirected=false next=[]
	// routed             NOT_RECEIVED               misdirected=false next=[RECEIVE HONGKONG]
	// RECEIVE HONGKONG   IN_PORT         HONGKONG   misdirected=false next=[LOAD HONGKONG V1]
	// LOAD HONGKONG      ONBOARD_CARRIER HONGKONG   misdirected=false next=[UNLOAD NEWYORK V1]
	// UNLOAD TOKYO       IN_PORT         TOKYO      misdirected=true  next=[]
	// rerouted           IN_PORT         TOKYO      misdirected=false next=[RECEIVE HONGKONG]
	// LOAD TOKYO         ONBOARD_CARRIER TOKYO      misdirected=false next=[UNLOAD HAMBURG V3]
	// UNLOAD HAMBURG     IN_PORT         HAMBURG    misdirected=false next=[LOAD HAMBURG V4]
	// LOAD HAMBURG       ONBOARD_CARRIER HAMBURG    misdirected=false next=[UNLOAD STOCKHOLM V4]
	// UNLOAD STOCKHOLM   IN_PORT         STOCKHOLM  misdirected=false next=[CLAIM STOCKHOLM]
	// CLAIM STOCKHOLM    CLAIMED         STOCKHOLM  misdirected=false next=[]
}
