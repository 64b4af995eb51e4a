package counters_test

import (
	"context"
	"fmt"

	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// Run the system in memory with the single-threaded runner: each command
// on Worlds has been counted by Counters when it returns.
func Example() {
	ctx := context.Background()
	check := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	runner := system.NewSingleThreadedRunner(counters.System(), system.RunnerOptions{
		Env: map[string]string{"PERSISTENCE_MODULE": "memory"},
	})
	check(runner.Start(ctx))
	defer runner.Stop()
	worlds, tally := runner.App(counters.WorldsName), runner.App(counters.CountersName)

	earth, err := counters.CreateWorld(ctx, worlds, "Earth")
	check(err)
	mars, err := counters.CreateWorld(ctx, worlds, "Mars")
	check(err)
	check(counters.MakeItSo(ctx, worlds, earth, "dinosaurs"))
	check(counters.MakeItSo(ctx, worlds, mars, "dinosaurs"))
	check(counters.MakeItSo(ctx, worlds, earth, "trucks"))

	for _, what := range []string{"dinosaurs", "trucks", "internet"} {
		n, err := counters.GetCount(ctx, tally, what)
		check(err)
		fmt.Printf("%s: %d\n", what, n)
	}
	// Output:
	// dinosaurs: 2
	// trucks: 1
	// internet: 0
}
