package system_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// The seed's Worlds → Counters system: counters count the things that
// happen in all worlds.

type World struct {
	domain.Base
	History []string
}

type WorldCreated struct{}
type SomethingHappened struct{ What string }

func (w *World) Apply(event any) error {
	if e, ok := event.(SomethingHappened); ok {
		w.History = append(w.History, e.What)
	}
	return nil
}

func worldTypes() *codec.Registry {
	r := codec.NewRegistry()
	r.Register("worlds:World", &World{})
	r.Register("worlds:WorldCreated", WorldCreated{})
	r.Register("worlds:SomethingHappened", SomethingHappened{})
	return r
}

type Counter struct {
	domain.Base
	Name  string
	Count int
}

type CounterStarted struct{ Name string }
type CounterIncremented struct{}

func (c *Counter) Apply(event any) error {
	switch e := event.(type) {
	case CounterStarted:
		c.Name = e.Name
	case CounterIncremented:
		c.Count++
	}
	return nil
}

func counterID(name string) uuid.UUID { return domain.NameID("/counters/" + name) }

func counterTypes() *codec.Registry {
	r := codec.NewRegistry()
	r.Register("counters:Counter", &Counter{})
	r.Register("counters:CounterStarted", CounterStarted{})
	r.Register("counters:CounterIncremented", CounterIncremented{})
	return r
}

// countThings is the Counters policy.
func countThings(ctx context.Context, p *system.ProcessApplication, event domain.Event, pe *system.ProcessEvent) error {
	happened, ok := event.Data.(SomethingHappened)
	if !ok {
		return nil
	}
	counters := app.NewRepository[Counter](p.Application)
	c, err := counters.Get(ctx, counterID(happened.What))
	if errors.Is(err, app.ErrAggregateNotFound) {
		c, err = domain.Create[Counter](counterID(happened.What), CounterStarted{Name: happened.What})
	}
	if err != nil {
		return err
	}
	if err := domain.Trigger(c, CounterIncremented{}); err != nil {
		return err
	}
	pe.Save(c)
	return nil
}

func worldsAndCounters(policy system.Policy) *system.System {
	sys, err := system.New([]system.App{
		{Name: "Worlds", Registry: worldTypes()},
		{Name: "Counters", Registry: counterTypes(), Policy: policy},
	}, []string{"Worlds", "Counters"})
	if err != nil {
		panic(err)
	}
	return sys
}

// makeItSo creates a world and makes the given things happen in it, one
// save per command.
func makeItSo(ctx context.Context, worlds *app.Application, things ...string) error {
	w, err := domain.Create[World](uuid.New(), WorldCreated{})
	if err != nil {
		return err
	}
	if _, err := worlds.Save(ctx, w); err != nil {
		return err
	}
	for _, what := range things {
		if err := domain.Trigger(w, SomethingHappened{What: what}); err != nil {
			return err
		}
		if _, err := worlds.Save(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// count returns the count of the named counter, 0 if it does not exist.
func count(ctx context.Context, counters *app.Application, name string) (int, error) {
	c, err := app.NewRepository[Counter](counters).Get(ctx, counterID(name))
	if errors.Is(err, app.ErrAggregateNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return c.Count, nil
}

// seedCounts runs the seed's commands and checks its counts.
func seedCounts(ctx context.Context, worlds, counters *app.Application, wait func() error) error {
	for _, things := range [][]string{{"dinosaurs", "trucks", "internet"}, {"dinosaurs", "trucks"}, {"dinosaurs"}} {
		if err := makeItSo(ctx, worlds, things...); err != nil {
			return err
		}
	}
	if err := wait(); err != nil {
		return err
	}
	for name, want := range map[string]int{"dinosaurs": 3, "trucks": 2, "internet": 1, "spaceships": 0} {
		got, err := count(ctx, counters, name)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("count of %s: got %d, want %d", name, got, want)
		}
	}
	return nil
}
