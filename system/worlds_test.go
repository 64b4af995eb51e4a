package system_test

import (
	"context"
	"fmt"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// The tests run the Python library's Worlds → Counters system of examples/counters
// (counters.System, counters.Policy). What they need beyond it follows.

// countersWith returns the system of counters.System with policy, such as
// counters.Policy wrapped with a fault, in place of counters.Policy.
func countersWith(policy system.Policy) *system.System {
	sys, err := system.New([]system.App{
		{Name: counters.WorldsName, Registry: worlds.NewRegistry()},
		{Name: counters.CountersName, Registry: counters.NewRegistry(), Policy: policy},
	}, []string{counters.WorldsName, counters.CountersName})
	if err != nil {
		panic(err)
	}
	return sys
}

// makeItSo creates a world in the Worlds application w and makes the
// given things happen in it, one save per command.
func makeItSo(ctx context.Context, w *app.Application, things ...string) error {
	id, err := counters.CreateWorld(ctx, w, "world")
	if err != nil {
		return err
	}
	for _, what := range things {
		if err := counters.MakeItSo(ctx, w, id, what); err != nil {
			return err
		}
	}
	return nil
}

// seedCounts runs the Python library's example commands on the Worlds
// application w, calls wait, and checks the counts of the Counters
// application c.
func seedCounts(ctx context.Context, w, c *app.Application, wait func() error) error {
	if _, err := counters.MakeWorlds(ctx, w, 3); err != nil {
		return err
	}
	if err := wait(); err != nil {
		return err
	}
	for name, want := range map[string]int{"dinosaurs": 3, "trucks": 2, "internet": 1, "spaceships": 0} {
		got, err := counters.GetCount(ctx, c, name)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("count of %s: got %d, want %d", name, got, want)
		}
	}
	return nil
}
