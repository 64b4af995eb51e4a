package memory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
)

// The quick start of the README: record events, read an aggregate's
// sequence and the application sequence, and see a conflict refused.
func ExampleRecorder() {
	ctx := context.Background()
	var rec persistence.ProcessRecorder = memory.NewRecorder() // or postgres.NewRecorder(pool)

	id := uuid.New()
	ids, _ := rec.InsertNotifications(ctx, []persistence.StoredEvent{
		{OriginatorID: id, OriginatorVersion: 1, Topic: "bank:Opened", State: []byte(`{"owner":"Alice"}`)},
		{OriginatorID: id, OriginatorVersion: 2, Topic: "bank:Deposited", State: []byte(`{"amount":100}`)},
	})
	fmt.Println("notification ids:", ids)

	_, err := rec.InsertNotifications(ctx, []persistence.StoredEvent{
		{OriginatorID: id, OriginatorVersion: 2, Topic: "bank:Withdrawn", State: []byte(`{"amount":50}`)},
	})
	var conflict *persistence.ConcurrencyError
	fmt.Println("conflict:", errors.As(err, &conflict), errors.Is(err, persistence.ErrIntegrity))

	events, _ := rec.SelectEvents(ctx, id, persistence.EventQuery{})
	for _, e := range events {
		fmt.Println(e.OriginatorVersion, e.Topic, string(e.State))
	}
	log, _ := rec.SelectNotifications(ctx, persistence.NotificationQuery{Start: 1, Limit: 10})
	fmt.Println("notifications:", len(log))
	// Output:
	// notification ids: [1 2]
	// conflict: true true
	// 1 bank:Opened {"owner":"Alice"}
	// 2 bank:Deposited {"amount":100}
	// notifications: 2
}
