package memory_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
)

// state is a stored state of a typical size (about 100 bytes of JSON).
var state = []byte(`{"timestamp":"2026-11-23T16:23:21.123456Z","data":{"amount":7,"note":"changed by the benchmark"}}`)

// BenchmarkRecorderInsertNotifications measures recording one event per
// call: one operation is one event.
func BenchmarkRecorderInsertNotifications(b *testing.B) {
	ctx := b.Context()
	r := memory.NewRecorder()
	events := []persistence.StoredEvent{{OriginatorVersion: 1, Topic: "bench:ItemCreated", State: state}}
	b.ReportAllocs()
	for b.Loop() {
		events[0].OriginatorID = uuid.New()
		if _, err := r.InsertNotifications(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecorderSelectNotifications measures reading a section of
// 1,000 notifications: one operation is one section.
func BenchmarkRecorderSelectNotifications(b *testing.B) {
	ctx := b.Context()
	r := memory.NewRecorder()
	for range 10_000 {
		e := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "bench:ItemCreated", State: state}
		if _, err := r.InsertNotifications(ctx, []persistence.StoredEvent{e}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	start := int64(1)
	for b.Loop() {
		got, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: start, Limit: 1000})
		if err != nil || len(got) != 1000 {
			b.Fatalf("got %d notifications, %v", len(got), err)
		}
		start = start%9000 + 1000
	}
}

// BenchmarkRecorderSelectEvents measures reading the 100 events of one
// aggregate: one operation is one aggregate.
func BenchmarkRecorderSelectEvents(b *testing.B) {
	ctx := b.Context()
	r := memory.NewRecorder()
	id := uuid.New()
	events := make([]persistence.StoredEvent, 100)
	for i := range events {
		events[i] = persistence.StoredEvent{OriginatorID: id, OriginatorVersion: int64(i + 1), Topic: "bench:ItemChanged", State: state}
	}
	if _, err := r.InsertNotifications(ctx, events); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := r.SelectEvents(ctx, id, persistence.EventQuery{})
		if err != nil || len(got) != 100 {
			b.Fatalf("got %d events, %v", len(got), err)
		}
	}
}
