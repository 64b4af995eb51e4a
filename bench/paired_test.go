package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
)

// BenchmarkPaired measures two of the library's operations on PostgreSQL
// beside their raw baselines in the same iterations (issue 17): each
// iteration runs the raw operation once and the library's once, in
// alternating order, and times each, so that load that drifts during the
// run (other work on the machine, the disk's flush time) slows both sides
// alike, where BenchmarkAppend and BenchmarkGet measure them a minute
// apart. It reports each side's mean and median time per operation and
// raw/lib, the mean time of the raw side over the library's (the ratio of
// the targets: 1 is as fast as raw), and raw/lib-median:
//
//   - postgres/save-1: one writer's Save of a new aggregate with one event
//     (the aggregate's creation included, as in BenchmarkAppend), beside
//     the locked raw insert of BenchmarkAppend (a row as wide, in a table
//     like stored_events of a schema of its own, BEGIN; LOCK TABLE … IN
//     EXCLUSIVE MODE; INSERT; COMMIT in one round trip);
//   - postgres/get: Repository.Get of an aggregate of 100 events without a
//     snapshot, beside the raw SELECT of its rows (BenchmarkGet's
//     raw-select).
func BenchmarkPaired(b *testing.B) {
	b.Run("postgres/save-1", func(b *testing.B) {
		recordPaired(opPairedSave, paired(b, lockedInsert(b, false), saveOne(b)))
	})
	b.Run("postgres/get", func(b *testing.B) {
		ctx := b.Context()
		a := newApp(b, storePostgres, app.Options{})
		it := savedItem(b, a, aggregateEvents)
		get := rawGetter(rawReadPool(b, a), it.ID())
		repo := app.NewRepository[Item](a)
		recordPaired(opPairedGet, paired(b,
			func() error {
				events, err := get()
				if err == nil && len(events) != aggregateEvents {
					err = fmt.Errorf("raw select: %d events, want %d", len(events), aggregateEvents)
				}
				return err
			},
			func() error {
				got, err := repo.Get(ctx, it.ID())
				if err == nil && got.Version() != aggregateEvents {
					err = fmt.Errorf("get: version %d, want %d", got.Version(), aggregateEvents)
				}
				return err
			}))
	})
}

// pairedRatios holds the raw/lib ratio of BenchmarkPaired's rows by
// operation, for the targets.
var pairedRatios = map[operation]float64{}

func recordPaired(op operation, ratio float64) {
	resultsMu.Lock()
	pairedRatios[op] = ratio
	resultsMu.Unlock()
}

// paired runs raw and lib once each before the timer (to prepare their
// statements), then b.N times each in alternating order, timing each
// call, reports their times and ratio as BenchmarkPaired describes, and
// returns raw/lib.
func paired(b *testing.B, raw, lib func() error) float64 {
	b.Helper()
	sides := [2]func() error{raw, lib}
	for _, f := range sides {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	var spent [2]time.Duration
	durations := [2][]time.Duration{make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)}
	b.ResetTimer()
	for i := range b.N {
		for j := range 2 {
			side := (i + j) % 2 // raw first in even iterations, lib first in odd ones
			start := time.Now()
			err := sides[side]()
			d := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			spent[side] += d
			durations[side] = append(durations[side], d)
		}
	}
	b.StopTimer()
	rawMedian, _ := latencies(durations[0])
	libMedian, _ := latencies(durations[1])
	ratio := float64(spent[0]) / float64(spent[1])
	b.ReportMetric(float64(spent[0].Microseconds())/float64(b.N), "µs-raw")
	b.ReportMetric(float64(spent[1].Microseconds())/float64(b.N), "µs-lib")
	b.ReportMetric(float64(rawMedian)/1e3, "µs-raw-median")
	b.ReportMetric(float64(libMedian)/1e3, "µs-lib-median")
	b.ReportMetric(ratio, "raw/lib")
	b.ReportMetric(float64(rawMedian)/float64(libMedian), "raw/lib-median")
	return ratio
}
