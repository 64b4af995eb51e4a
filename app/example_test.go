package app_test

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
)

// Dog is an event-sourced aggregate: it embeds domain.Base and applies
// events to its state.
type Dog struct {
	domain.Base
	Name   string
	Tricks []string
}

type Registered struct{ Name string }
type TrickAdded struct{ Trick string }

func (d *Dog) Apply(event any) error {
	switch e := event.(type) {
	case Registered:
		d.Name = e.Name
	case TrickAdded:
		d.Tricks = append(d.Tricks, e.Trick)
	}
	return nil
}

// The README's quick start: register types, create an aggregate, save it,
// get it back, and read the notification log.
func Example() {
	ctx := context.Background()
	reg := codec.NewRegistry()
	reg.Register("dogs:Dog", &Dog{})
	reg.Register("dogs:Registered", Registered{})
	reg.Register("dogs:TrickAdded", TrickAdded{})

	// In memory by default; PERSISTENCE_MODULE=postgres and DATABASE_URL for Postgres.
	dogs, err := app.New(ctx, app.Options{Name: "Dogs", Registry: reg})
	if err != nil {
		panic(err)
	}
	defer dogs.Close()

	dog, _ := domain.Create[Dog](uuid.New(), Registered{Name: "Fido"})
	_ = domain.Trigger(dog, TrickAdded{Trick: "roll over"})
	_ = domain.Trigger(dog, TrickAdded{Trick: "play dead"})
	ids, _ := dogs.Save(ctx, dog)

	again, _ := app.NewRepository[Dog](dogs).Get(ctx, dog.ID())
	section, _ := dogs.Log().Section(ctx, "1,10")
	fmt.Println(ids, again.Name, again.Tricks, again.Version())
	fmt.Println(section.ID, section.Items[2].Topic)
	// Output:
	// [1 2 3] Fido [roll over play dead] 3
	// 1,3 dogs:TrickAdded
}
