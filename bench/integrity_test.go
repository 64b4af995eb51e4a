package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
)

// BenchmarkHashChain measures what hash-chaining costs (see package
// integrity): saves of 10 events, and gets of an aggregate of 100 events,
// by an application that does not hash-chain its events and by one that
// does (with a salt: each save hashes its events, each get verifies
// them), on each store, with 1 writer. The two applications take turns,
// one operation each, so that both see the same machine, and each is
// timed apart: one benchmark operation is one save (or get) of each. The
// table has a row for each, the hash-chained one with its ratio to the
// plain one.
func BenchmarkHashChain(b *testing.B) {
	for _, store := range stores {
		b.Run(store+"/save-10", func(b *testing.B) { benchHashChain(b, store, false) })
		b.Run(store+"/get", func(b *testing.B) { benchHashChain(b, store, true) })
	}
}

// benchHashChain times saves of 10 events (get false) or gets of an
// aggregate of 100 events by an application that does not hash-chain its
// events and one that does, taking turns.
func benchHashChain(b *testing.B, store string, get bool) {
	ctx := b.Context()
	var ops [2]func() error // plain, hash-chained
	for i, opts := range []app.Options{{}, {HashChain: true, HashSalt: []byte("a benchmark's salt of 32 bytes..")}} {
		a := newApp(b, store, opts)
		if !get {
			ops[i] = func() error {
				it, err := newItem(10)
				if err == nil {
					_, err = a.Save(ctx, it)
				}
				return err
			}
			continue
		}
		it := savedItem(b, a, aggregateEvents)
		repo := app.NewRepository[Item](a)
		hashed := opts.HashChain
		ops[i] = func() error {
			got, err := repo.Get(ctx, it.ID())
			if err == nil && hashed && len(got.Head()) == 0 {
				err = fmt.Errorf("no head: the events were not verified")
			}
			return err
		}
		if err := ops[i](); err != nil { // statements prepared
			b.Fatal(err)
		}
	}
	var elapsed [2]time.Duration
	b.ResetTimer()
	for range b.N {
		for i, op := range ops {
			start := time.Now()
			if err := op(); err != nil {
				b.Fatal(err)
			}
			elapsed[i] += time.Since(start)
		}
	}
	b.StopTimer()
	events, keys := 10.0, [2]rowKey{{opHashSaveOff, store, 1}, {opHashSaveOn, store, 1}}
	if get {
		events, keys = aggregateEvents, [2]rowKey{{opHashGetOff, store, 1}, {opHashGetOn, store, 1}}
	}
	plain := result{ops: b.N, eventsPerOp: events, elapsed: elapsed[0]}
	hashed := result{ops: b.N, eventsPerOp: events, elapsed: elapsed[1]}
	hashed.other = fmt.Sprintf("%.2f× not hash-chained", hashed.eventsPerSecond()/plain.eventsPerSecond())
	b.ReportMetric(plain.eventsPerSecond(), "events/s-plain")
	b.ReportMetric(hashed.eventsPerSecond(), "events/s-hashed")
	b.ReportMetric(hashed.eventsPerSecond()/plain.eventsPerSecond(), "×plain")
	resultsMu.Lock()
	results[keys[0]], results[keys[1]] = plain, hashed
	resultsMu.Unlock()
}
