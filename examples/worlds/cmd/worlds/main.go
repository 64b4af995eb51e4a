// Command worlds runs the Worlds example: it creates a world, makes three
// things happen to it, reads its history back, gets it as it was at each
// version, and reads the application's notification log, decoding each
// notification back to a domain event.
//
//	go run ./examples/worlds/cmd/worlds                              # in memory
//	DATABASE_URL=postgres://... go run ./examples/worlds/cmd/worlds  # on PostgreSQL
//
// With DATABASE_URL set and PERSISTENCE_MODULE unset it records in
// PostgreSQL, in the schema "worlds" (POSTGRES_SCHEMA or
// WORLDS_POSTGRES_SCHEMA overrides); a second run adds a second world.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{Name: worlds.Name}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worlds:", err)
		os.Exit(1)
	}
}

// run runs the example with the configuration in env, writing what it
// does to out.
func run(ctx context.Context, env config.Environment, out io.Writer) error {
	env.Name = worlds.Name
	w, err := worlds.NewWorlds(ctx, app.Options{Name: env.Name, Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Fprintf(out, "persistence module: %s\n", w.Module())

	id, err := w.CreateWorld(ctx, "Earth")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created world %s\n", id)
	for _, what := range []string{"dinosaurs", "trucks", "internet"} {
		if err := w.MakeItSo(ctx, id, what); err != nil {
			return err
		}
		fmt.Fprintf(out, "made it so: %s\n", what)
	}
	history, err := w.GetHistory(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "history: %q\n", history)

	for version := int64(1); version <= 5; version++ {
		world, err := w.Repository().GetAt(ctx, id, version)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "asked for version %d, got version %d: %q\n", version, world.Version(), world.History)
	}

	fmt.Fprintln(out, "notification log:")
	for sectionID := "1,3"; sectionID != ""; {
		section, err := w.Log().Section(ctx, sectionID)
		if err != nil {
			return err
		}
		if len(section.Items) == 0 {
			break
		}
		fmt.Fprintf(out, "  section %s:\n", section.ID)
		for _, n := range section.Items {
			event, err := w.Mapper().ToDomainEvent(n.StoredEvent)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "    #%d %s v%d %s %+v\n", n.ID, n.OriginatorID.String()[:8], n.OriginatorVersion, n.Topic, event.Data)
		}
		sectionID = section.NextID
	}
	return nil
}
