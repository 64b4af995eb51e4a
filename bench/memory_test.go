package bench

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/httplog"
)

// The sizes and heap bounds of BenchmarkMemory.
const (
	memoryLogNotifications = 1_000_000
	memoryAggregateEvents  = 100_000
	// logHeapBound bounds the heap growth of reading the log in pages of
	// 1,000: it must not grow with the log.
	logHeapBound = 16 << 20
	// replayHeapBound bounds the heap growth of getting the aggregate: a
	// get reads a page of 1,000 events at a time, so it must not grow with
	// the aggregate (the growth is the garbage of the pages until the GC
	// runs, about the live heap at default GOGC).
	replayHeapBound = 48 << 20
)

// heapCheck is the peak heap growth of a BenchmarkMemory row and its
// bound.
type heapCheck struct{ growth, bound uint64 }

// heapChecks holds the last heapCheck of each BenchmarkMemory row; guarded
// by resultsMu.
var heapChecks = map[operation]heapCheck{}

// BenchmarkMemory checks that memory stays bounded on PostgreSQL: reading
// a log of 1,000,000 notifications from the start with httplog.Reader's
// Select in pages of 1,000 over the application's NotificationLog, and
// getting an aggregate of 100,000 events (no snapshot). Each reports its
// peak heap growth (HeapInuse sampled every millisecond, less HeapInuse
// after a GC before the run) and fails when it reaches its bound. The
// log and the aggregate are recorded once, before the runs.
func BenchmarkMemory(b *testing.B) {
	ctx := b.Context()
	b.Run(storePostgres+"/log=1000000", func(b *testing.B) {
		a := newApp(b, storePostgres, app.Options{})
		fillLog(b, a, memoryLogNotifications)
		reader := httplog.NewReader(a.Log(), httplog.ReaderOptions{PageSize: app.MaxReadLimit})
		b.Run("pages=1000", func(b *testing.B) {
			measureHeap(b, opMemoryLog, logHeapBound, memoryLogNotifications, func() error {
				n := 0
				for _, err := range reader.Select(ctx, 1) {
					if err != nil {
						return err
					}
					n++
				}
				if n != memoryLogNotifications {
					return fmt.Errorf("read %d notifications, want %d", n, memoryLogNotifications)
				}
				return nil
			})
		})
	})
	b.Run(storePostgres+"/replay=100000", func(b *testing.B) {
		a := newApp(b, storePostgres, app.Options{})
		it := savedItem(b, a, memoryAggregateEvents)
		id := it.ID()
		repo := app.NewRepository[Item](a)
		b.Run("get", func(b *testing.B) {
			measureHeap(b, opMemoryReplay, replayHeapBound, memoryAggregateEvents, func() error {
				got, err := repo.Get(ctx, id)
				if err != nil {
					return err
				}
				if got.Version() != memoryAggregateEvents {
					return fmt.Errorf("got version %d, want %d", got.Version(), memoryAggregateEvents)
				}
				return nil
			})
		})
	})
}

// fillLog records n notifications in a's store with one INSERT … SELECT,
// 1,000 events per aggregate, each the stored event of sampleState: rows
// as wide as the library's, written without its procedure for speed.
func fillLog(b *testing.B, a *app.Application, n int) {
	b.Helper()
	ctx := b.Context()
	topic, state := sampleState(b)
	_, err := a.Pool().Exec(ctx, `INSERT INTO stored_events (originator_id, originator_version, topic, state)
		SELECT md5((g / 1000)::text)::uuid, g % 1000 + 1, $1, $2 FROM generate_series(0, $3::bigint - 1) AS g`,
		topic, state, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Pool().Exec(ctx, "ANALYZE stored_events"); err != nil {
		b.Fatal(err)
	}
}

// measureHeap runs op b.N times, samples the heap meanwhile and records
// the row op with eventsPerOp events per run, its allocations and its
// peak heap growth, failing b when the growth reaches bound.
func measureHeap(b *testing.B, row operation, bound uint64, eventsPerOp float64, op func() error) {
	b.Helper()
	runtime.GC()
	before := heapInuse()
	var (
		peak = before
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapInuse())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	allocs := startAllocs(b)
	var err error
	for range b.N {
		if err = op(); err != nil {
			break
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	growth := peak - before
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(growth)/(1<<20), "growth-MiB")
	key := rowKey{row, storePostgres, 1}
	record(b, key, eventsPerOp, func(result) string {
		return fmt.Sprintf("peak heap %s (%s before), growth %s, bound %s", mib(peak), mib(before), mib(growth), mib(bound))
	})
	recordAllocs(b, key, allocs, eventsPerOp)
	resultsMu.Lock()
	heapChecks[row] = heapCheck{growth: growth, bound: bound}
	resultsMu.Unlock()
	if growth >= bound {
		b.Errorf("peak heap growth %s, want under %s", mib(growth), mib(bound))
	}
}

// heapSamples reads HeapInuse from runtime/metrics, without stopping the
// world as runtime.ReadMemStats does.
var heapSamples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}

// heapInuse returns the bytes in in-use heap spans (MemStats.HeapInuse):
// live objects, garbage not yet swept, and the spans' free space. Only
// measureHeap's sampler calls it while a run goes on.
func heapInuse() uint64 {
	metrics.Read(heapSamples)
	return heapSamples[0].Value.Uint64() + heapSamples[1].Value.Uint64()
}

// mib formats n bytes in MiB.
func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
