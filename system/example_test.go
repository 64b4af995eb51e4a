package system_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// A guest book (the leader) and a tally of its signatures (a process
// application that follows it).

// Entry is an aggregate of the Guestbook application.
type Entry struct {
	domain.Base
	Name string
}

// Signed creates an Entry.
type Signed struct{ Name string }

func (e *Entry) Apply(event any) error {
	if s, ok := event.(Signed); ok {
		e.Name = s.Name
	}
	return nil
}

// Tally is the one aggregate of the Tally application.
type Tally struct {
	domain.Base
	Names []string
}

// Counted adds a name to the Tally.
type Counted struct{ Name string }

func (t *Tally) Apply(event any) error {
	if c, ok := event.(Counted); ok {
		t.Names = append(t.Names, c.Name)
	}
	return nil
}

var tallyID = domain.NameID("/tally")

// countSignatures is the Tally's policy: for each Signed event of the
// guest book it adds the name to the tally, and saves the tally through
// pe, so that its new event is recorded with the tracking record of the
// guest book's notification: each notification is processed once.
func countSignatures(ctx context.Context, p *system.ProcessApplication, event domain.Event, pe *system.ProcessEvent) error {
	signed, ok := event.Data.(Signed)
	if !ok {
		return nil // ignored, but tracked
	}
	tally, err := app.NewRepository[Tally](p.Application).Get(ctx, tallyID)
	if errors.Is(err, app.ErrAggregateNotFound) {
		tally, err = domain.Create[Tally](tallyID, Counted(signed))
	} else if err == nil {
		err = domain.Trigger(tally, Counted(signed))
	}
	if err != nil {
		return err
	}
	pe.Save(tally)
	return nil
}

// guestbookSystem is the system: Guestbook → Tally.
func guestbookSystem() *system.System {
	guestbookTypes := codec.NewRegistry()
	guestbookTypes.Register("guestbook:Entry", &Entry{})
	guestbookTypes.Register("guestbook:Signed", Signed{})
	tallyTypes := codec.NewRegistry()
	tallyTypes.Register("tally:Tally", &Tally{})
	tallyTypes.Register("tally:Counted", Counted{})
	sys, err := system.New([]system.App{
		{Name: "Guestbook", Registry: guestbookTypes},
		{Name: "Tally", Registry: tallyTypes, Policy: countSignatures},
	}, []string{"Guestbook", "Tally"})
	if err != nil {
		panic(err)
	}
	return sys
}

// Run a system in one goroutine: when Save returns, the follower has
// processed the leader's new events.
func ExampleNewSingleThreadedRunner() {
	ctx := context.Background()
	runner := system.NewSingleThreadedRunner(guestbookSystem(), system.RunnerOptions{
		// Read no process environment: in memory, whatever
		// PERSISTENCE_MODULE or DATABASE_URL say.
		Lookup: func(string) (string, bool) { return "", false },
	})
	if err := runner.Start(ctx); err != nil {
		panic(err)
	}
	defer runner.Stop()
	guestbook, tally := runner.App("Guestbook"), runner.App("Tally")

	for _, name := range []string{"Ada", "Grace", "Edsger"} {
		entry, err := domain.Create[Entry](uuid.New(), Signed{Name: name})
		if err != nil {
			panic(err)
		}
		if _, err := guestbook.Save(ctx, entry); err != nil {
			panic(err) // a policy error would come back here, as an *app.NotifyError
		}
		t, err := app.NewRepository[Tally](tally).Get(ctx, tallyID)
		if err != nil {
			panic(err)
		}
		fmt.Println(len(t.Names), t.Names)
	}
	// Output:
	// 1 [Ada]
	// 2 [Ada Grace]
	// 3 [Ada Grace Edsger]
}

// Run the Tally in an OS process of its own, on PostgreSQL (DATABASE_URL,
// and TALLY_POSTGRES_SCHEMA and GUESTBOOK_POSTGRES_SCHEMA or their
// defaults "tally" and "guestbook"), until SIGINT or SIGTERM: it reads the
// guest book's notification log through the database, woken by its
// notifications, while other processes save in the guest book. Several
// such processes may run: each notification is still processed once.
// (Not run: it needs PostgreSQL, and runs until stopped.)
func ExampleRunProcess() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := system.RunProcess(ctx, guestbookSystem(), "Tally", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: map[string]string{"PERSISTENCE_MODULE": "postgres"}},
	})
	if err != nil { // database errors are logged and retried; this one stopped it
		log.Fatal(err)
	}
}
