package counters

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// The names of the system's applications. They prefix the applications'
// environment variables (WORLDS_POSTGRES_SCHEMA, COUNTERS_POSTGRES_SCHEMA)
// and name their Postgres schemas ("worlds", "counters") by default.
const (
	WorldsName   = worlds.Name
	CountersName = "Counters"
)

// The topics under which the Counters application stores its types.
const (
	TopicCounter            = "counters:Counter"
	TopicCounterCreated     = "counters:CounterCreated"
	TopicCounterIncremented = "counters:CounterIncremented"
)

// NewRegistry returns a registry of the Counter aggregate and its events,
// the Counters application's types.
func NewRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(TopicCounter, Counter{})
	r.Register(TopicCounterCreated, CounterCreated{})
	r.Register(TopicCounterIncremented, CounterIncremented{})
	return r
}

// Policy is the Counters policy: for each worlds.SomethingHappened event
// of the Worlds application it gets the counter of what happened (creating
// it the first time), increments it and saves it through pe, so that the
// increment is recorded with the tracking record of the event. It ignores
// every other event.
func Policy(ctx context.Context, p *system.ProcessApplication, event domain.Event, pe *system.ProcessEvent) error {
	happened, ok := event.Data.(worlds.SomethingHappened)
	if !ok {
		return nil
	}
	counter, err := app.NewRepository[Counter](p.Application).Get(ctx, CounterID(happened.What))
	if errors.Is(err, app.ErrAggregateNotFound) {
		counter, err = NewCounter(happened.What)
	}
	if err != nil {
		return err
	}
	if err := counter.Increment(); err != nil {
		return err
	}
	pe.Save(counter)
	return nil
}

// System returns the Python library's system of two applications: Worlds (the
// worlds.World aggregates) and the process application Counters, which
// follows Worlds with Policy. Run it with system.NewSingleThreadedRunner,
// system.NewConcurrentRunner, or, on PostgreSQL, with Counters in its own
// OS process (system.RunProcess).
func System() *system.System {
	sys, err := system.New([]system.App{
		{Name: WorldsName, Registry: worlds.NewRegistry()},
		{Name: CountersName, Registry: NewRegistry(), Policy: Policy},
	}, []string{WorldsName, CountersName})
	if err != nil {
		panic(fmt.Sprintf("counters: %v", err)) // the definition above is valid
	}
	return sys
}

// GetCount returns how many times the thing name happened according to
// the Counters application counters: 0 when its counter does not exist.
func GetCount(ctx context.Context, counters *app.Application, name string) (int, error) {
	counter, err := app.NewRepository[Counter](counters).Get(ctx, CounterID(name))
	if errors.Is(err, app.ErrAggregateNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get count of %q: %w", name, err)
	}
	return counter.Count, nil
}

// CreateWorld creates and saves a world named name in the Worlds
// application w (for example runner.App(WorldsName)) and returns its ID.
func CreateWorld(ctx context.Context, w *app.Application, name string) (uuid.UUID, error) {
	world, err := worlds.NewWorld(name)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := w.Save(ctx, world); err != nil {
		return uuid.Nil, fmt.Errorf("create world %q: %w", name, err)
	}
	return world.ID(), nil
}

// MakeItSo records, in the Worlds application w, that what happened to
// the world id. An unknown id is errors.Is(err, app.ErrAggregateNotFound).
func MakeItSo(ctx context.Context, w *app.Application, id uuid.UUID, what string) error {
	world, err := app.NewRepository[worlds.World](w).Get(ctx, id)
	if err != nil {
		return err
	}
	if err := world.MakeItSo(what); err != nil {
		return err
	}
	if _, err := w.Save(ctx, world); err != nil {
		return fmt.Errorf("make it so on world %s: %w", id, err)
	}
	return nil
}

// Things are the things that happen in the Python library's worlds.
var Things = []string{"dinosaurs", "trucks", "internet"}

// SeedHistory returns what happens to the i-th (from 0) world that
// MakeWorlds makes: the Python library's three worlds have [dinosaurs trucks
// internet], [dinosaurs trucks] and [dinosaurs]; further worlds repeat
// the pattern.
func SeedHistory(i int) []string {
	return append([]string(nil), Things[:len(Things)-i%len(Things)]...)
}

// MakeWorlds runs the Python library's commands on n worlds in the Worlds
// application w: it creates them ("world 1", "world 2", ...), then makes
// the first thing of each world's SeedHistory happen to every world, then
// the second, and so on, one save per command. It returns the worlds' IDs.
// With n = 3 the counts are dinosaurs 3, trucks 2, internet 1.
func MakeWorlds(ctx context.Context, w *app.Application, n int) ([]uuid.UUID, error) {
	if n < 0 {
		return nil, fmt.Errorf("make %d worlds: the number of worlds cannot be negative", n)
	}
	ids := make([]uuid.UUID, n)
	for i := range ids {
		var err error
		if ids[i], err = CreateWorld(ctx, w, fmt.Sprintf("world %d", i+1)); err != nil {
			return ids[:i], err
		}
	}
	for round := range Things {
		for i, id := range ids {
			if history := SeedHistory(i); round < len(history) {
				if err := MakeItSo(ctx, w, id, history[round]); err != nil {
					return ids, err
				}
			}
		}
	}
	return ids, nil
}
