// Command wiki runs the Wiki example: it creates a page with a misspelt
// name, renames it, and shows that a second page cannot take a name in
// use, neither when created nor when renamed, and that nothing of such a
// refused save is stored.
//
//	go run ./examples/wiki/cmd/wiki                              # in memory
//	DATABASE_URL=postgres://... go run ./examples/wiki/cmd/wiki  # on PostgreSQL
//
// With DATABASE_URL set and PERSISTENCE_MODULE unset it records in
// PostgreSQL, in the schema "wiki" (POSTGRES_SCHEMA or WIKI_POSTGRES_SCHEMA
// overrides). Page names are unique in the schema: a second run on the
// same schema can create "Erth" again (the first run released that name),
// but then fails to rename it to "Earth", with the integrity error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/wiki"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{Name: wiki.Name}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wiki:", err)
		os.Exit(1)
	}
}

// run runs the example with the configuration in env, writing what it
// does to out.
func run(ctx context.Context, env config.Environment, out io.Writer) error {
	env.Name = wiki.Name
	w, err := wiki.NewWiki(ctx, app.Options{Name: env.Name, Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Fprintf(out, "persistence module: %s\n", w.Module())

	show := func(name string) error {
		page, err := w.GetPage(ctx, name)
		if errors.Is(err, wiki.ErrPageNotFound) {
			fmt.Fprintf(out, "  no page %q\n", name)
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  page %q (version %d): %s\n", page.Name, page.Version(), page.Body)
		return nil
	}
	// refused runs a command that must be refused as a name collision.
	refused := func(what string, err error) error {
		if !errors.Is(err, persistence.ErrIntegrity) {
			return fmt.Errorf("%s: expected an integrity error, got %v", what, err)
		}
		fmt.Fprintf(out, "%s: refused: %v\n", what, err)
		return nil
	}

	if _, err := w.CreatePage(ctx, "Erth", "Lorem ipsum..."); err != nil {
		return err
	}
	fmt.Fprintf(out, "created page %q (index id %s)\n", "Erth", wiki.IndexID("Erth"))
	if err := show("Erth"); err != nil {
		return err
	}

	if err := w.RenamePage(ctx, "Erth", "Earth"); err != nil {
		return err
	}
	fmt.Fprintf(out, "renamed page %q to %q\n", "Erth", "Earth")
	for _, name := range []string{"Earth", "Erth"} {
		if err := show(name); err != nil {
			return err
		}
	}

	_, err = w.CreatePage(ctx, "Earth", "Neque porro quisquam...")
	if err := refused(`create another page "Earth"`, err); err != nil {
		return err
	}
	if _, err := w.CreatePage(ctx, "Mars", "Neque porro quisquam..."); err != nil {
		return err
	}
	fmt.Fprintf(out, "created page %q\n", "Mars")
	if err := refused(`rename page "Mars" to "Earth"`, w.RenamePage(ctx, "Mars", "Earth")); err != nil {
		return err
	}
	fmt.Fprintln(out, "after the refused commands:")
	for _, name := range []string{"Earth", "Mars"} {
		if err := show(name); err != nil {
			return err
		}
	}
	return nil
}
