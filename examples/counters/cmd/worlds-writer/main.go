// Command worlds-writer records worlds in the Worlds application, on
// PostgreSQL, and exits: the leader's side of the multi-process mode of
// the Worlds → Counters system, whose Counters process application runs
// in cmd/counters-process. It makes the Python library's worlds: the first has
// dinosaurs, trucks and internet happen to it, the second dinosaurs and
// trucks, the third dinosaurs, and so on.
//
//	DATABASE_URL=postgres://... go run ./examples/counters/cmd/worlds-writer [-worlds 3]
//
// It needs PostgreSQL: DATABASE_URL, or PERSISTENCE_MODULE=postgres with
// the POSTGRES_* variables. Worlds uses the schema "worlds"
// (WORLDS_POSTGRES_SCHEMA overrides; set it as for counters-process). See
// the package documentation of examples/counters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
)

func main() {
	n := flag.Int("worlds", 3, "how many worlds to record (3: the Python library's worlds)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{}, *n, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worlds-writer:", err)
		os.Exit(1)
	}
}

// errNeedsPostgres is returned when the configuration does not select
// PostgreSQL.
var errNeedsPostgres = errors.New("the Worlds writer needs PostgreSQL to share its events with the Counters process: " +
	"set DATABASE_URL (or PERSISTENCE_MODULE=postgres and the POSTGRES_* variables)")

// run records n worlds in the Worlds application configured by env,
// writing what it does to out.
func run(ctx context.Context, env config.Environment, n int, out io.Writer) error {
	if n < 1 {
		return fmt.Errorf("-worlds %d: at least one world is needed", n)
	}
	env.Name = "" // the configuration of the whole system
	if module, err := app.ModuleFromEnv(env); err != nil {
		return err
	} else if module != app.Postgres {
		return errNeedsPostgres
	}
	w, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer w.Close()
	before, err := w.Recorder().MaxNotificationID(ctx)
	if err != nil {
		return err
	}
	ids, err := counters.MakeWorlds(ctx, w, n)
	if err != nil {
		return fmt.Errorf("after %d worlds: %w", len(ids), err)
	}
	after, err := w.Recorder().MaxNotificationID(ctx)
	if err != nil {
		return err
	}
	for i, id := range ids {
		fmt.Fprintf(out, "world %d (%s): %s\n", i+1, id, counters.SeedHistory(i))
	}
	fmt.Fprintf(out, "recorded %d worlds in the schema %q: Worlds has %d notifications (%d new)\n", n, w.Schema(), after, after-before)
	return nil
}
