package tracing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/tracing"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// BenchmarkTracingPaired measures the same operations as BenchmarkTracing,
// but each iteration runs the operation once on an application with
// tracing off and once on one with tracing on (the SDK of
// BenchmarkTracing), in alternating order, timing each: a machine whose
// load drifts during the run slows both sides alike. It reports the mean
// time of each side and their difference per operation (per upstream
// notification for the follower, whose iteration is a page of 100); ns/op
// is the time of both sides together.
func BenchmarkTracingPaired(b *testing.B) {
	for _, op := range []struct {
		name string
		per  int                                                           // operations per iteration
		make func(b *testing.B, open func(string) *app.Application) func() // one iteration's work on one side
	}{
		{"save", 1, pairedSave},
		{"get", 1, pairedGet},
		{"follower", 100, pairedFollower},
	} {
		for _, store := range []string{"postgres", "memory"} {
			b.Run(op.name+"/"+store, func(b *testing.B) {
				var sides [2]func()
				for i, on := range []bool{false, true} {
					var opts []func(*app.Options)
					if on {
						exporter := tracetest.NewInMemoryExporter()
						tel := tracing.New(sdktrace.WithBatcher(exporter))
						b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
						b.Cleanup(drain(exporter))
						opts = append(opts, func(o *app.Options) { o.TracerProvider, o.MeterProvider = tel.Tracer, tel.Meter })
					}
					env := map[string]string{"PERSISTENCE_MODULE": store}
					if store == "postgres" {
						env = pgtest.PostgresEnv(b, "WORLDS", "COUNTERS")
					}
					open := func(name string) *app.Application {
						registry := worlds.NewRegistry()
						if name == counters.CountersName {
							registry = counters.NewRegistry()
						}
						o := app.Options{Name: name, Registry: registry, Env: env, Lookup: func(string) (string, bool) { return "", false }}
						for _, f := range opts {
							f(&o)
						}
						a, err := app.New(b.Context(), o)
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(a.Close)
						return a
					}
					sides[i] = op.make(b, open)
				}
				var spent [2]time.Duration
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					for j := range 2 {
						side := (i + j) % 2 // off first in even iterations, on first in odd ones
						start := time.Now()
						sides[side]()
						spent[side] += time.Since(start)
					}
				}
				n := float64(b.N * op.per)
				off, on := float64(spent[0].Nanoseconds())/n, float64(spent[1].Nanoseconds())/n
				b.ReportMetric(off, "off-ns/op")
				b.ReportMetric(on, "on-ns/op")
				b.ReportMetric(on-off, "tracing-ns/op")
			})
		}
	}
}

// pairedSave returns a save of a new World (1 event).
func pairedSave(b *testing.B, open func(string) *app.Application) func() {
	w := open(counters.WorldsName)
	return func() {
		world, err := worlds.NewWorld("Earth")
		if err == nil {
			_, err = w.Save(b.Context(), world)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// pairedGet returns a get of a World of 10 events.
func pairedGet(b *testing.B, open func(string) *app.Application) func() {
	w := open(counters.WorldsName)
	world, err := worlds.NewWorld("Earth")
	for i := 0; err == nil && i < 9; i++ {
		err = world.MakeItSo(fmt.Sprint(i))
	}
	if err == nil {
		_, err = w.Save(b.Context(), world)
	}
	if err != nil {
		b.Fatal(err)
	}
	repo := app.NewRepository[worlds.World](w)
	return func() {
		if _, err := repo.Get(b.Context(), world.ID()); err != nil {
			b.Fatal(err)
		}
	}
}

// pairedFollower returns a page of 100 upstream notifications (each a
// distinct thing: a get that finds nothing and a new counter) processed
// by Counters; the upstream events are saved first, and timed too, on
// both sides alike (a save of 100 events).
func pairedFollower(b *testing.B, open func(string) *app.Application) func() {
	w := open(counters.WorldsName)
	c := system.NewProcessApplication(open(counters.CountersName), counters.Policy)
	c.Follow(w)
	return func() {
		ctx := b.Context()
		world, err := worlds.NewWorld("Earth")
		for i := 0; err == nil && i < 99; i++ {
			err = world.MakeItSo(uuid.NewString())
		}
		if err == nil {
			_, err = w.Save(ctx, world)
		}
		if err != nil {
			b.Fatal(err)
		}
		n, err := c.PullAndProcess(ctx, counters.WorldsName)
		if err != nil || n != 100 {
			b.Fatalf("processed %d notifications of 100: %v", n, err)
		}
	}
}
