// Command counters runs the Worlds → Counters system in one process, with
// the concurrent runner: it makes the Python library's three worlds, waits until
// the Counters process application has caught up, and prints the counts.
//
//	go run ./examples/counters/cmd/counters                              # in memory
//	DATABASE_URL=postgres://... go run ./examples/counters/cmd/counters  # on PostgreSQL
//
// With DATABASE_URL set and PERSISTENCE_MODULE unset it records in
// PostgreSQL, in the schemas "worlds" and "counters"
// (WORLDS_POSTGRES_SCHEMA and COUNTERS_POSTGRES_SCHEMA override); each run
// adds three worlds, so the counts grow. See the package documentation of
// examples/counters for running Counters in a process of its own.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "counters:", err)
		os.Exit(1)
	}
}

// run runs the system with the configuration in env, writing what it does
// to out.
func run(ctx context.Context, env config.Environment, out io.Writer) (err error) {
	env.Name = "" // the configuration of the whole system
	runner := system.NewConcurrentRunner(counters.System(), system.RunnerOptions{Env: env.Values, Lookup: env.Lookup})
	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer func() {
		if stopErr := runner.Stop(); err == nil {
			err = stopErr
		}
	}()
	w, c := runner.App(counters.WorldsName), runner.App(counters.CountersName)
	fmt.Fprintf(out, "persistence module: %s\n", w.Module())

	ids, err := counters.MakeWorlds(ctx, w, 3)
	if err != nil {
		return err
	}
	for i, id := range ids {
		fmt.Fprintf(out, "world %d (%s): %s\n", i+1, id, counters.SeedHistory(i))
	}
	if err := runner.WaitCaughtUp(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "counters caught up")
	for _, what := range counters.Things {
		n, err := counters.GetCount(ctx, c, what)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "count of %s: %d\n", what, n)
	}
	return nil
}
