// Command demo records and reads back events through the recorders, on the
// in-memory default or on PostgreSQL.
//
// It records the history of two aggregates, shows that a conflicting write
// is refused with nothing recorded, processes the notifications as a
// downstream application would (each with its tracking record, exactly
// once), and reads the notification log back in sections.
//
//	go run ./cmd/demo                        # in memory
//	DATABASE_URL=postgres://... go run ./cmd/demo   # on PostgreSQL
//
// With DATABASE_URL (or PERSISTENCE_MODULE=postgres and the POSTGRES_*
// variables) it migrates the schema "demo" (POSTGRES_SCHEMA overrides) and
// records there; run it twice and the second run continues the sequence.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/factory"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{Name: "demo"}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, env config.Environment, out io.Writer) error {
	infra, err := factory.Open(ctx, env)
	if err != nil {
		return err
	}
	defer infra.Close()
	rec := infra.Recorder
	fmt.Fprintf(out, "persistence module: %s\n", infra.Module)

	// Two aggregates, each a sequence of events.
	dog, cat := uuid.New(), uuid.New()
	history := []persistence.StoredEvent{
		{OriginatorID: dog, OriginatorVersion: 1, Topic: "demo:Registered", State: []byte(`{"name":"Fido"}`)},
		{OriginatorID: dog, OriginatorVersion: 2, Topic: "demo:TrickAdded", State: []byte(`{"trick":"roll over"}`)},
		{OriginatorID: cat, OriginatorVersion: 1, Topic: "demo:Registered", State: []byte(`{"name":"Tom"}`)},
		{OriginatorID: dog, OriginatorVersion: 3, Topic: "demo:TrickAdded", State: []byte(`{"trick":"play dead"}`)},
	}
	ids, err := rec.InsertNotifications(ctx, history)
	if err != nil {
		return fmt.Errorf("record history: %w", err)
	}
	fmt.Fprintf(out, "recorded %d events atomically; notification ids %v\n", len(history), ids)

	// A writer that read version 2 of the dog and tries to write version 3.
	stale := persistence.StoredEvent{OriginatorID: dog, OriginatorVersion: 3, Topic: "demo:TrickAdded", State: []byte(`{"trick":"fetch"}`)}
	newCat := persistence.StoredEvent{OriginatorID: cat, OriginatorVersion: 2, Topic: "demo:TrickAdded", State: []byte(`{"trick":"purr"}`)}
	_, err = rec.InsertNotifications(ctx, []persistence.StoredEvent{newCat, stale})
	var conflict *persistence.ConcurrencyError
	if !errors.As(err, &conflict) {
		return fmt.Errorf("expected a concurrency conflict, got %v", err)
	}
	fmt.Fprintf(out, "conflicting batch refused: %v\n", conflict)

	events, err := rec.SelectEvents(ctx, dog, persistence.EventQuery{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "dog %s has %d events:\n", short(dog), len(events))
	for _, e := range events {
		fmt.Fprintf(out, "  v%d %s %s\n", e.OriginatorVersion, e.Topic, e.State)
	}
	latest, err := rec.SelectEvents(ctx, cat, persistence.EventQuery{Desc: true, Limit: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cat %s is at version %d (the refused batch left nothing)\n", short(cat), latest[0].OriginatorVersion)

	// A downstream application processes each notification exactly once,
	// recording its result together with a tracking record.
	const upstream = "demo"
	processed := 0
	for {
		last, err := rec.MaxTrackingID(ctx, upstream)
		if err != nil {
			return err
		}
		section, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: last + 1, Limit: 2, Topics: []string{"demo:Registered"}})
		if err != nil {
			return err
		}
		if len(section) == 0 {
			break
		}
		for _, n := range section {
			counted := persistence.StoredEvent{OriginatorID: uuid.NewSHA1(n.OriginatorID, []byte("count")), OriginatorVersion: 1, Topic: "demo:Counted", State: []byte(fmt.Sprintf(`{"notification":%d}`, n.ID))}
			if _, err := rec.InsertTracked(ctx, []persistence.StoredEvent{counted}, persistence.Tracking{ApplicationName: upstream, NotificationID: n.ID}); err != nil {
				return fmt.Errorf("process notification %d: %w", n.ID, err)
			}
			processed++
		}
	}
	again := persistence.Tracking{ApplicationName: upstream, NotificationID: ids[0]}
	_, err = rec.InsertTracked(ctx, nil, again)
	var already *persistence.TrackingConflictError
	if !errors.As(err, &already) {
		return fmt.Errorf("expected a tracking conflict, got %v", err)
	}
	fmt.Fprintf(out, "processed %d registrations exactly once; a second attempt is refused: %v\n", processed, already)

	// The notification log, read in sections of three.
	fmt.Fprintln(out, "notification log:")
	for start := int64(1); ; {
		section, err := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: start, Limit: 3})
		if err != nil {
			return err
		}
		if len(section) == 0 {
			break
		}
		fmt.Fprintf(out, "  section %d,%d:\n", section[0].ID, section[len(section)-1].ID)
		for _, n := range section {
			fmt.Fprintf(out, "    #%d %s v%d %s\n", n.ID, short(n.OriginatorID), n.OriginatorVersion, n.Topic)
		}
		start = section[len(section)-1].ID + 1
	}
	max, err := rec.MaxNotificationID(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "max notification id: %d\n", max)
	return nil
}

func short(id uuid.UUID) string { return id.String()[:8] }
