package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

// Open a database file (creating it and its tables), record events with
// the tracking record of the upstream notification that caused them, and
// open the file again to find them.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := sqlite.Config{DBName: filepath.Join(dir, "bank.db"), CreateTable: true}

	d, err := sqlite.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	id := uuid.New()
	ids, err := sqlite.NewRecorder(d).InsertTracked(ctx, []persistence.StoredEvent{
		{OriginatorID: id, OriginatorVersion: 1, Topic: "bank:Opened", State: []byte(`{"owner":"Alice"}`)},
		{OriginatorID: id, OriginatorVersion: 2, Topic: "bank:Deposited", State: []byte(`{"amount":100}`)},
	}, persistence.Tracking{ApplicationName: "upstream", NotificationID: 21})
	fmt.Println("notification ids:", ids, err)
	if err := d.Close(); err != nil {
		log.Fatal(err)
	}

	d, err = sqlite.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	rec := sqlite.NewRecorder(d)
	events, _ := rec.SelectEvents(ctx, id, persistence.EventQuery{})
	for _, e := range events {
		fmt.Println(e.OriginatorVersion, e.Topic, string(e.State))
	}
	tracked, _ := rec.MaxTrackingID(ctx, "upstream")
	fmt.Println("tracked up to:", tracked)
	_, err = rec.InsertNotifications(ctx, []persistence.StoredEvent{{OriginatorID: id, OriginatorVersion: 2}})
	var conflict *persistence.ConcurrencyError
	fmt.Println("conflict:", errors.As(err, &conflict))
	// Output:
	// notification ids: [1 2] <nil>
	// 1 bank:Opened {"owner":"Alice"}
	// 2 bank:Deposited {"amount":100}
	// tracked up to: 21
	// conflict: true
}
