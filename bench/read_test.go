package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
)

// aggregateEvents is the number of events of the aggregate BenchmarkGet
// gets.
const aggregateEvents = 100

// BenchmarkGet measures Repository.Get of one aggregate of 100 events:
// replayed from its events, and from a snapshot taken at version 100 (so
// the get reads the snapshot and finds no events after it). One operation
// is one get; events/s counts the aggregate's 100 events per get.
func BenchmarkGet(b *testing.B) {
	for _, store := range stores {
		for _, snapshot := range []bool{false, true} {
			name := store + "/replay"
			if snapshot {
				name = store + "/snapshot"
			}
			b.Run(name, func(b *testing.B) { benchGet(b, store, snapshot) })
		}
	}
}

func benchGet(b *testing.B, store string, snapshot bool) {
	ctx := context.Background()
	a := newApp(b, store, app.Options{SnapshottingEnabled: snapshot})
	it, err := newItem(aggregateEvents)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Save(ctx, it); err != nil {
		b.Fatal(err)
	}
	repo := app.NewRepository[Item](a)
	if snapshot {
		if err := repo.TakeSnapshot(ctx, it.ID(), aggregateEvents); err != nil {
			b.Fatal(err)
		}
	}
	// One get before the timer: the pool's statements are then prepared.
	if _, err := repo.Get(ctx, it.ID()); err != nil {
		b.Fatal(err)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		got, err := repo.Get(ctx, it.ID())
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if got.Version() != aggregateEvents {
			b.Fatalf("got version %d, want %d", got.Version(), aggregateEvents)
		}
	}
	b.StopTimer()
	median, p99 := latencies(durations)
	b.ReportMetric(float64(median)/1e3, "µs-median")
	key := rowKey{opGet, store, 1}
	if snapshot {
		key.op = opGetSnapshot
	}
	resultsMu.Lock()
	medians[key] = median
	resultsMu.Unlock()
	record(b, key, aggregateEvents, func(r result) string {
		return fmt.Sprintf("%s aggregates/s; median %s, p99 %s", thousands(float64(r.ops)/r.elapsed.Seconds()), ms(median), ms(p99))
	})
}

// logNotifications is the number of notifications BenchmarkLog reads.
const logNotifications = 10_000

// BenchmarkLog measures reading the notification log from the start to
// its end, 10,000 notifications, with NotificationLog.Select in sections
// of 1,000 and of 10 (the default section size), as a follower does. One
// operation reads all 10,000; events/s counts notifications.
func BenchmarkLog(b *testing.B) {
	for _, store := range stores {
		for _, size := range []int{1000, app.DefaultSectionSize} {
			b.Run(fmt.Sprintf("%s/section=%d", store, size), func(b *testing.B) { benchLog(b, store, size) })
		}
	}
}

func benchLog(b *testing.B, store string, sectionSize int) {
	ctx := context.Background()
	a := newApp(b, store, app.Options{SectionSize: sectionSize})
	// 100 aggregates of 100 events, saved 10 aggregates (1,000 events) at
	// a time.
	for range logNotifications / 1000 {
		aggs := make([]domain.Aggregate, 10)
		for i := range aggs {
			it, err := newItem(100)
			if err != nil {
				b.Fatal(err)
			}
			aggs[i] = it
		}
		if _, err := a.Save(ctx, aggs...); err != nil {
			b.Fatal(err)
		}
	}
	log := a.Log()
	read := func() (sections int, err error) {
		n, start := 0, int64(1)
		for {
			items, err := log.Select(ctx, start, sectionSize)
			if err != nil {
				return sections, err
			}
			sections++
			n += len(items)
			if len(items) < sectionSize {
				break
			}
			start = items[len(items)-1].ID + 1
		}
		if n != logNotifications {
			return sections, fmt.Errorf("read %d notifications, want %d", n, logNotifications)
		}
		return sections, nil
	}
	sections, err := read() // before the timer: prepares the statement
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := read(); err != nil {
			b.Fatal(err)
		}
	}
	op := opLog1000
	if sectionSize != 1000 {
		op = opLog10
	}
	record(b, rowKey{op, store, 1}, logNotifications, func(r result) string {
		return fmt.Sprintf("%s sections/s", thousands(float64(r.ops*sections)/r.elapsed.Seconds()))
	})
}
