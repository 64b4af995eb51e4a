package tracing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/tracing"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// The cost of tracing: each operation measured with no providers given
// (the global no-op ones: what an application that does not trace pays)
// and with a real SDK that samples every span, exports them to memory
// through a batch span processor, and records the metrics for a
// ManualReader, in the same run, on PostgreSQL (a durable throwaway
// cluster under make bench) and in memory (where the library's own cost
// is smallest, so tracing's share is largest):
//
//	BenchmarkTracing/save/postgres/tracing=off   a Save of a new World (1 event)
//	BenchmarkTracing/get/memory/tracing=on       a Get of a World of 10 events
//	BenchmarkTracing/follower/postgres/...       per upstream notification processed by
//	                                             Counters (a Get and a new event each,
//	                                             pages of 100), linked to its save when on
//
// docs/observability.md reports the figures.
func BenchmarkTracing(b *testing.B) {
	for _, op := range []struct {
		name string
		fn   func(b *testing.B, env map[string]string, tp trace.TracerProvider, mp metric.MeterProvider)
	}{
		{"save", benchSave},
		{"get", benchGet},
		{"follower", benchFollower},
	} {
		for _, store := range []string{"postgres", "memory"} {
			for _, on := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/tracing=%s", op.name, store, map[bool]string{false: "off", true: "on"}[on])
				b.Run(name, func(b *testing.B) {
					var tp trace.TracerProvider
					var mp metric.MeterProvider
					if on {
						exporter := tracetest.NewInMemoryExporter()
						tel := tracing.New(sdktrace.WithBatcher(exporter))
						b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
						tp, mp = tel.Tracer, tel.Meter
						stopDraining := drain(exporter)
						b.Cleanup(stopDraining)
					}
					env := map[string]string{"PERSISTENCE_MODULE": store}
					if store == "postgres" {
						env = pgtest.PostgresEnv(b, "WORLDS", "COUNTERS")
					}
					op.fn(b, env, tp, mp)
				})
			}
		}
	}
}

// drain empties exporter every 50 ms, so that the spans kept do not grow
// with b.N, until the function it returns is called.
func drain(exporter *tracetest.InMemoryExporter) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				exporter.Reset()
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func benchApp(b *testing.B, name string, env map[string]string, tp trace.TracerProvider, mp metric.MeterProvider) *app.Application {
	b.Helper()
	registry := worlds.NewRegistry()
	if name == counters.CountersName {
		registry = counters.NewRegistry()
	}
	a, err := app.New(b.Context(), app.Options{Name: name, Registry: registry, Env: env,
		Lookup: func(string) (string, bool) { return "", false }, TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	return a
}

func benchSave(b *testing.B, env map[string]string, tp trace.TracerProvider, mp metric.MeterProvider) {
	ctx := b.Context()
	w := benchApp(b, counters.WorldsName, env, tp, mp)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		world, err := worlds.NewWorld("Earth")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Save(ctx, world); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGet(b *testing.B, env map[string]string, tp trace.TracerProvider, mp metric.MeterProvider) {
	ctx := b.Context()
	w := benchApp(b, counters.WorldsName, env, tp, mp)
	world, err := worlds.NewWorld("Earth")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 9 {
		if err := world.MakeItSo(fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Save(ctx, world); err != nil {
		b.Fatal(err)
	}
	repo := app.NewRepository[worlds.World](w)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := repo.Get(ctx, world.ID()); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFollower(b *testing.B, env map[string]string, tp trace.TracerProvider, mp metric.MeterProvider) {
	ctx := b.Context()
	w := benchApp(b, counters.WorldsName, env, tp, mp)
	// b.N upstream events, in saves of 100 (each a distinct thing, so
	// that each makes a new counter: a Get that finds nothing and one new
	// event).
	for written := 0; written < b.N; written += 100 {
		world, err := worlds.NewWorld("Earth")
		if err != nil {
			b.Fatal(err)
		}
		for range min(100, b.N-written) - 1 {
			if err := world.MakeItSo(uuid.NewString()); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Save(ctx, world); err != nil {
			b.Fatal(err)
		}
	}
	c := system.NewProcessApplication(benchApp(b, counters.CountersName, env, tp, mp), counters.Policy)
	c.Follow(w)
	b.ReportAllocs()
	b.ResetTimer()
	n, err := c.PullAndProcess(ctx, counters.WorldsName)
	if err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("processed %d notifications of %d", n, b.N)
	}
}
