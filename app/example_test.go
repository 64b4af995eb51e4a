package app_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
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

// dogTypes registers the dogs' aggregate and event types under their topics.
func dogTypes() *codec.Registry {
	reg := codec.NewRegistry()
	reg.Register("dogs:Dog", &Dog{})
	reg.Register("dogs:Registered", Registered{})
	reg.Register("dogs:TrickAdded", TrickAdded{})
	return reg
}

// Build an application, save an aggregate's new events in one atomic
// insert, and get the aggregate back from its events.
func ExampleNew() {
	ctx := context.Background()
	dogs, err := app.New(ctx, app.Options{
		Name:     "Dogs",
		Registry: dogTypes(),
		// Read no process environment: in memory, whatever
		// PERSISTENCE_MODULE or DATABASE_URL say.
		Lookup: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		panic(err)
	}
	defer dogs.Close()
	fmt.Println(dogs.Module(), dogs.Name())

	dog, err := domain.Create[Dog](uuid.New(), Registered{Name: "Fido"})
	if err != nil {
		panic(err)
	}
	if err := domain.Trigger(dog, TrickAdded{Trick: "sit"}); err != nil {
		panic(err)
	}
	ids, err := dogs.Save(ctx, dog) // the notification IDs of the events
	if err != nil {
		panic(err)
	}
	fmt.Println("saved", ids, "pending", len(dog.PendingEvents()))

	again, err := app.NewRepository[Dog](dogs).Get(ctx, dog.ID())
	if err != nil {
		panic(err)
	}
	fmt.Println(again.Name, again.Tricks, again.Version())

	_, err = app.NewRepository[Dog](dogs).Get(ctx, uuid.New())
	fmt.Println(errors.Is(err, app.ErrAggregateNotFound))
	// Output:
	// memory Dogs
	// saved [1 2] pending 0
	// Fido [sit] 2
	// true
}

// Read the notification log, in which every event of the application has
// its place, in linked sections: each names the next, until one that is
// not full, where a follower has caught up for now.
func ExampleNotificationLog_Section() {
	ctx := context.Background()
	dogs, err := app.New(ctx, app.Options{
		Name:        "Dogs",
		Registry:    dogTypes(),
		SectionSize: 2,
		Lookup:      func(string) (string, bool) { return "", false }, // in memory
	})
	if err != nil {
		panic(err)
	}
	defer dogs.Close()
	for _, name := range []string{"Fido", "Rex"} {
		dog, err := domain.Create[Dog](uuid.New(), Registered{Name: name})
		if err != nil {
			panic(err)
		}
		if err := domain.Trigger(dog, TrickAdded{Trick: "sit"}); err != nil {
			panic(err)
		}
		if _, err := dogs.Save(ctx, dog); err != nil {
			panic(err)
		}
	}
	dog, _ := domain.Create[Dog](uuid.New(), Registered{Name: "Lassie"})
	if _, err := dogs.Save(ctx, dog); err != nil {
		panic(err)
	}

	for id := "1,2"; id != ""; {
		section, err := dogs.Log().Section(ctx, id)
		if err != nil {
			panic(err)
		}
		fmt.Printf("section %q, next %q:\n", section.ID, section.NextID)
		for _, n := range section.Items {
			fmt.Println(" ", n.ID, n.Topic, n.OriginatorVersion)
		}
		id = section.NextID
	}
	// Output:
	// section "1,2", next "3,4":
	//   1 dogs:Registered 1
	//   2 dogs:TrickAdded 2
	// section "3,4", next "5,6":
	//   3 dogs:Registered 1
	//   4 dogs:TrickAdded 2
	// section "5,5", next "":
	//   5 dogs:Registered 1
}

// Save an aggregate in a transaction of your own, together with a row of
// your own tables: both commit, or neither. The transaction may be begun
// on the application's pool, as here, or on a pool of your own on the
// same database. (Not run: it needs PostgreSQL.)
func ExampleApplication_SaveTx() {
	ctx := context.Background()
	dogs, err := app.New(ctx, app.Options{
		Name:        "Dogs",
		Registry:    dogTypes(),
		DatabaseURL: "postgres://dogs@localhost:5432/kennel",
	})
	if err != nil {
		panic(err)
	}
	defer dogs.Close()

	dog, err := domain.Create[Dog](uuid.New(), Registered{Name: "Fido"})
	if err != nil {
		panic(err)
	}
	tx, err := dogs.Pool().Begin(ctx)
	if err != nil {
		panic(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	if _, err := dogs.SaveTx(ctx, tx, dog); err != nil {
		panic(err) // SaveTx never rolls tx back itself; the deferred Rollback does
	}
	if _, err := tx.Exec(ctx, "INSERT INTO public.licences (dog_id, name) VALUES ($1, $2)", dog.ID(), dog.Name); err != nil {
		panic(err)
	}
	if err := tx.Commit(ctx); err != nil {
		panic(err)
	}
}

// A projection keeps a read model of the Dogs application's log in a
// table of its own: each notification's row and its tracking record commit
// in one transaction, so each notification is projected once, and after
// a crash the projection resumes after the last one it committed. (Not
// run: it needs PostgreSQL.)
func ExampleApplication_SaveTrackedTx() {
	ctx := context.Background()
	const url = "postgres://dogs@localhost:5432/kennel"
	dogs, err := app.New(ctx, app.Options{Name: "Dogs", Registry: dogTypes(), DatabaseURL: url})
	if err != nil {
		panic(err)
	}
	defer dogs.Close()
	names, err := app.New(ctx, app.Options{Name: "DogNames", Registry: codec.NewRegistry(), DatabaseURL: url, Schema: "dog_names"})
	if err != nil {
		panic(err)
	}
	defer names.Close()

	project := func(n persistence.Notification) error {
		event, err := dogs.Mapper().ToDomainEvent(n.StoredEvent)
		if err != nil {
			return err
		}
		tx, err := names.Pool().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
		if _, err := tx.Exec(ctx, "INSERT INTO public.dog_names (dog_id, name) VALUES ($1, $2)",
			event.OriginatorID, event.Data.(Registered).Name); err != nil {
			return err
		}
		tracking := persistence.Tracking{ApplicationName: dogs.Name(), NotificationID: n.ID}
		if _, err := names.SaveTrackedTx(ctx, tx, tracking, nil); err != nil {
			return err // a *persistence.TrackingConflictError if projected already
		}
		return tx.Commit(ctx)
	}
	last, err := names.Recorder().MaxTrackingID(ctx, dogs.Name())
	if err != nil {
		panic(err)
	}
	registrations, err := dogs.Log().ReadNotifications(ctx, last+1, app.MaxReadLimit, "dogs:Registered")
	if err != nil {
		panic(err)
	}
	for _, n := range registrations {
		if err := project(n); err != nil {
			panic(err)
		}
	}
}
