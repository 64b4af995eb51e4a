package tracing_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/tracing"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Benchmarks measure real commits, as those of bench/ do: a throwaway
	// cluster with fsync on, unless the caller chose a server or said
	// otherwise.
	if flag.Lookup("test.bench").Value.String() != "" && os.Getenv("TEST_DATABASE_URL") == "" && os.Getenv("PGTEST_DURABLE") == "" {
		os.Setenv("PGTEST_DURABLE", "1")
	}
	os.Exit(pgtest.Main(m))
}

// newTelemetry returns an SDK that keeps the spans in memory, and a
// ManualReader's meter provider; shut down at the end of the test.
func newTelemetry(t *testing.T) (*tracing.Telemetry, *tracetest.InMemoryExporter) {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tel := tracing.New(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	return tel, spans
}

// newApps returns Worlds and Counters (following Worlds) reporting to
// tel, with env.
func newApps(t *testing.T, tel *tracing.Telemetry, env map[string]string, snapshots bool) (*app.Application, *system.ProcessApplication) {
	t.Helper()
	open := func(name string, opts app.Options) *app.Application {
		opts.Name, opts.Env, opts.Lookup = name, env, func(string) (string, bool) { return "", false }
		opts.TracerProvider, opts.MeterProvider = tel.Tracer, tel.Meter
		a, err := app.New(t.Context(), opts)
		require.NoError(t, err)
		t.Cleanup(a.Close)
		return a
	}
	w := open(counters.WorldsName, app.Options{Registry: worlds.NewRegistry(), SnapshottingEnabled: snapshots})
	c := system.NewProcessApplication(open(counters.CountersName, app.Options{Registry: counters.NewRegistry()}), counters.Policy)
	c.Follow(w)
	return w, c
}

// attrs returns the attributes of a span as a map.
func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// named returns the spans named name, in the order they ended.
func named(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Save, get and the processing of notifications have spans with their
// attributes; each event records its save's span context, to which the
// span that processes it links; and the metrics count what happened.
func TestSpansLinksAndMetrics(t *testing.T) {
	t.Parallel()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		ctx := t.Context()
		tel, exporter := newTelemetry(t)
		w, c := newApps(t, tel, env, true)

		command, commandSpan := tel.Tracer.Tracer("test").Start(ctx, "command")
		id, err := counters.CreateWorld(command, w, "Earth")
		require.NoError(t, err)
		require.NoError(t, counters.MakeItSo(command, w, id, "dinosaurs"))
		commandSpan.End()

		// Saves: children of the command, each event recording the
		// save's span context.
		saves := named(exporter.GetSpans(), "eventsourcing.save")
		require.Len(t, saves, 2)
		ns, err := w.Log().ReadNotifications(ctx, 1, 10)
		require.NoError(t, err)
		require.Len(t, ns, 2)
		for i, s := range saves {
			require.Equal(t, commandSpan.SpanContext().SpanID(), s.Parent.SpanID(), "the save is a child of the command")
			a := attrs(s)
			require.Equal(t, "Worlds", a["eventsourcing.application"].AsString())
			require.Equal(t, int64(1), a["eventsourcing.events"].AsInt64())
			require.Equal(t, int64(0), a["eventsourcing.tracking_records"].AsInt64())
			require.Equal(t, "ok", a["eventsourcing.outcome"].AsString())
			require.Equal(t, codes.Unset, s.Status.Code)
			stored, ok := app.DecodeTraceContext(ns[i].TraceContext)
			require.True(t, ok, "notification %d records a trace context", ns[i].ID)
			require.Equal(t, s.SpanContext.TraceID(), stored.TraceID())
			require.Equal(t, s.SpanContext.SpanID(), stored.SpanID())
		}

		// Get: the aggregate, its version, replayed, and from a snapshot.
		gets := named(exporter.GetSpans(), "eventsourcing.get")
		require.Len(t, gets, 1, "MakeItSo got the world")
		a := attrs(gets[0])
		require.Equal(t, id.String(), a["eventsourcing.aggregate.id"].AsString())
		require.Equal(t, int64(1), a["eventsourcing.aggregate.version"].AsInt64())
		require.False(t, a["eventsourcing.snapshot"].AsBool())
		require.Equal(t, int64(1), a["eventsourcing.events_read"].AsInt64())
		require.NoError(t, app.NewRepository[worlds.World](w).TakeSnapshot(ctx, id, 0))
		exporter.Reset()
		_, err = app.NewRepository[worlds.World](w).Get(ctx, id)
		require.NoError(t, err)
		a = attrs(named(exporter.GetSpans(), "eventsourcing.get")[0])
		require.True(t, a["eventsourcing.snapshot"].AsBool())
		require.Equal(t, int64(2), a["eventsourcing.aggregate.version"].AsInt64())
		require.Equal(t, int64(0), a["eventsourcing.events_read"].AsInt64())
		_, err = app.NewRepository[worlds.World](w).GetAt(ctx, id, 1)
		require.NoError(t, err)
		a = attrs(named(exporter.GetSpans(), "eventsourcing.get")[1])
		require.Equal(t, int64(1), a["eventsourcing.aggregate.at_version"].AsInt64())

		// Processing: a page span, a span per notification linked to the
		// save that recorded its event, and the page's save as the
		// page's child.
		exporter.Reset()
		n, err := c.PullAndProcess(ctx, counters.WorldsName)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		spans := exporter.GetSpans()
		pages := named(spans, "eventsourcing.process.page")
		require.Len(t, pages, 1)
		page := pages[0]
		a = attrs(page)
		require.Equal(t, "Counters", a["eventsourcing.application"].AsString())
		require.Equal(t, "Worlds", a["eventsourcing.upstream"].AsString())
		require.Equal(t, int64(1), a["eventsourcing.notification.first_id"].AsInt64())
		require.Equal(t, int64(2), a["eventsourcing.page.size"].AsInt64())
		require.Equal(t, int64(2), a["eventsourcing.page.processed"].AsInt64())
		processed := named(spans, "eventsourcing.process")
		require.Len(t, processed, 2)
		for i, s := range processed {
			require.Equal(t, page.SpanContext.SpanID(), s.Parent.SpanID())
			require.Equal(t, trace.SpanKindConsumer, s.SpanKind)
			a := attrs(s)
			require.Equal(t, ns[i].ID, a["eventsourcing.notification.id"].AsInt64())
			require.Equal(t, "Worlds", a["eventsourcing.upstream"].AsString())
			require.Equal(t, ns[i].Topic, a["eventsourcing.event.topic"].AsString())
			require.Len(t, s.Links, 1)
			require.Equal(t, saves[i].SpanContext.TraceID(), s.Links[0].SpanContext.TraceID(), "linked to the save's trace")
			require.Equal(t, saves[i].SpanContext.SpanID(), s.Links[0].SpanContext.SpanID(), "linked to the save's span")
		}
		followerSaves := named(spans, "eventsourcing.save")
		require.Len(t, followerSaves, 1)
		require.Equal(t, page.SpanContext.SpanID(), followerSaves[0].Parent.SpanID())
		require.Equal(t, int64(2), attrs(followerSaves[0])["eventsourcing.tracking_records"].AsInt64())
		require.NotEmpty(t, named(spans, "eventsourcing.get"), "the policy's get is a child of its notification's span")
		for _, g := range named(spans, "eventsourcing.get") {
			require.Equal(t, page.SpanContext.TraceID(), g.SpanContext.TraceID())
		}

		// A conflict: an error status and its outcome.
		stale, err := app.NewRepository[worlds.World](w).GetAt(ctx, id, 1)
		require.NoError(t, err)
		require.NoError(t, stale.MakeItSo("trucks"))
		exporter.Reset()
		_, err = w.Save(ctx, stale)
		require.True(t, persistence.IsConflict(err))
		conflict := named(exporter.GetSpans(), "eventsourcing.save")[0]
		require.Equal(t, "conflict", attrs(conflict)["eventsourcing.outcome"].AsString())
		require.Equal(t, codes.Error, conflict.Status.Code)

		// Metrics.
		var rm metricdata.ResourceMetrics
		require.NoError(t, tel.Reader.Collect(ctx, &rm))
		require.Equal(t, int64(2), sumOf(t, rm, "eventsourcing.saves", "Worlds", attribute.String("eventsourcing.outcome", "ok")))
		require.Equal(t, int64(1), sumOf(t, rm, "eventsourcing.saves", "Worlds", attribute.String("eventsourcing.outcome", "conflict")))
		require.Equal(t, int64(1), sumOf(t, rm, "eventsourcing.saves", "Counters", attribute.String("eventsourcing.outcome", "ok")))
		count, sum := histogramOf(t, rm, "eventsourcing.save.events", "Worlds")
		require.Equal(t, uint64(2), count)
		require.Equal(t, int64(2), sum)
		require.Equal(t, int64(2), sumOf(t, rm, "eventsourcing.follower.processed", "Counters", attribute.String("eventsourcing.upstream", "Worlds")))
		if w.Module() != app.Memory {
			count, sum := histogramOf(t, rm, "eventsourcing.group_commit.saves", "Worlds")
			require.Equal(t, uint64(3), count, "each save of Worlds, the conflicting one too, is a group commit")
			require.Equal(t, int64(3), sum)
		} else {
			require.Nil(t, find(rm, "eventsourcing.group_commit.saves"), "no group commit")
		}
	}, "WORLDS", "COUNTERS")
}

// find returns the metric named name, or nil.
func find(rm metricdata.ResourceMetrics, name string) *metricdata.Metrics {
	for _, sm := range rm.ScopeMetrics {
		for i, m := range sm.Metrics {
			if m.Name == name {
				return &sm.Metrics[i]
			}
		}
	}
	return nil
}

// sumOf returns the value of the counter name for application and the
// other attributes.
func sumOf(t *testing.T, rm metricdata.ResourceMetrics, name, application string, other ...attribute.KeyValue) int64 {
	t.Helper()
	m := find(rm, name)
	require.NotNil(t, m, name)
	want := attribute.NewSet(append(other, attribute.String("eventsourcing.application", application))...)
	for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if p.Attributes.Equals(&want) {
			return p.Value
		}
	}
	t.Fatalf("%s has no data point %v", name, want.ToSlice())
	return 0
}

// histogramOf returns the count and sum of the histogram name for
// application.
func histogramOf(t *testing.T, rm metricdata.ResourceMetrics, name, application string) (uint64, int64) {
	t.Helper()
	m := find(rm, name)
	require.NotNil(t, m, name)
	want := attribute.NewSet(attribute.String("eventsourcing.application", application))
	for _, p := range m.Data.(metricdata.Histogram[int64]).DataPoints {
		if p.Attributes.Equals(&want) {
			return p.Count, p.Sum
		}
	}
	t.Fatalf("%s has no data point for %s", name, application)
	return 0, 0
}

// While a runner follows, the follower's lag is observed; when it stops,
// the gauge is no longer observed.
func TestLagObservedWhileFollowing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tel, exporter := newTelemetry(t)
	runner := system.NewConcurrentRunner(tracing.System(tel.Tracer, tel.Meter), system.RunnerOptions{
		Env: map[string]string{"PERSISTENCE_MODULE": "memory"}, Lookup: func(string) (string, bool) { return "", false }, ProgressInterval: -1})
	require.NoError(t, runner.Start(ctx))
	stopped := false
	defer func() {
		if !stopped {
			require.NoError(t, runner.Stop())
		}
	}()
	w := runner.App(counters.WorldsName)
	id, err := counters.CreateWorld(ctx, w, "Earth")
	require.NoError(t, err)
	require.NoError(t, counters.MakeItSo(ctx, w, id, "dinosaurs"))
	require.NoError(t, runner.WaitCaughtUp(ctx))

	var rm metricdata.ResourceMetrics
	require.Eventually(t, func() bool { // the follower's loop registers the gauge as it starts
		require.NoError(t, tel.Reader.Collect(ctx, &rm))
		return find(rm, "eventsourcing.follower.lag") != nil
	}, 10*time.Second, 10*time.Millisecond)
	lag := find(rm, "eventsourcing.follower.lag").Data.(metricdata.Gauge[int64]).DataPoints
	require.Len(t, lag, 1)
	require.Equal(t, int64(0), lag[0].Value, "caught up")
	upstream, _ := lag[0].Attributes.Value("eventsourcing.upstream")
	require.Equal(t, "Worlds", upstream.AsString())
	age := find(rm, "eventsourcing.follower.lag.age").Data.(metricdata.Gauge[float64]).DataPoints
	require.Equal(t, float64(0), age[0].Value)
	require.Len(t, named(exporter.GetSpans(), "eventsourcing.process"), 2)

	require.NoError(t, runner.Stop())
	stopped = true
	require.NoError(t, tel.Reader.Collect(ctx, &rm))
	if m := find(rm, "eventsourcing.follower.lag"); m != nil {
		require.Empty(t, m.Data.(metricdata.Gauge[int64]).DataPoints, "not observed once the runner stopped")
	}
}

// While a follower is behind (its policy held at the first
// notification), the lag gauge counts the notifications left and the age
// gauge is positive; once it has caught up, both are 0.
func TestLagObservedWhileBehind(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tel, _ := newTelemetry(t)
	withTelemetry := func(o *app.Options) { o.TracerProvider, o.MeterProvider = tel.Tracer, tel.Meter }
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	policy := func(ctx context.Context, p *system.ProcessApplication, event domain.Event, pe *system.ProcessEvent) error {
		once.Do(func() { close(held); <-release })
		return counters.Policy(ctx, p, event, pe)
	}
	sys, err := system.New([]system.App{
		{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Options: withTelemetry},
		{Name: counters.CountersName, Registry: counters.NewRegistry(), Policy: policy, Options: withTelemetry},
	}, []string{counters.WorldsName, counters.CountersName})
	require.NoError(t, err)
	runner := system.NewConcurrentRunner(sys, system.RunnerOptions{
		Env: map[string]string{"PERSISTENCE_MODULE": "memory"}, Lookup: func(string) (string, bool) { return "", false }, ProgressInterval: -1})
	require.NoError(t, runner.Start(ctx))
	released := false
	defer func() {
		if !released {
			close(release)
		}
		require.NoError(t, runner.Stop())
	}()
	w := runner.App(counters.WorldsName)
	id, err := counters.CreateWorld(ctx, w, "Earth")
	require.NoError(t, err)
	require.NoError(t, counters.MakeItSo(ctx, w, id, "dinosaurs"))
	require.NoError(t, counters.MakeItSo(ctx, w, id, "trucks"))
	<-held

	gauges := func() (lag int64, age float64) {
		t.Helper()
		var rm metricdata.ResourceMetrics
		require.NoError(t, tel.Reader.Collect(ctx, &rm))
		m := find(rm, "eventsourcing.follower.lag")
		require.NotNil(t, m, "the follower's loop registers the gauge before it processes")
		points := m.Data.(metricdata.Gauge[int64]).DataPoints
		require.Len(t, points, 1)
		ages := find(rm, "eventsourcing.follower.lag.age").Data.(metricdata.Gauge[float64]).DataPoints
		require.Len(t, ages, 1)
		return points[0].Value, ages[0].Value
	}
	lag, age := gauges()
	require.Equal(t, int64(3), lag, "held at the first of 3 notifications")
	require.Positive(t, age)

	close(release)
	released = true
	require.NoError(t, runner.WaitCaughtUp(ctx))
	lag, age = gauges()
	require.Zero(t, lag, "caught up")
	require.Zero(t, age)
}

// The events of a leader that does not trace record no trace context; a
// follower that traces processes them, with no link.
func TestProcessWithoutTraceContext(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tel, exporter := newTelemetry(t)
	noEnv := func(string) (string, bool) { return "", false }
	w, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Lookup: noEnv})
	require.NoError(t, err)
	defer w.Close()
	f, err := app.New(ctx, app.Options{Name: counters.CountersName, Registry: counters.NewRegistry(), Lookup: noEnv,
		TracerProvider: tel.Tracer, MeterProvider: tel.Meter})
	require.NoError(t, err)
	defer f.Close()
	c := system.NewProcessApplication(f, counters.Policy)
	c.Follow(w)

	id, err := counters.CreateWorld(ctx, w, "Earth")
	require.NoError(t, err)
	require.NoError(t, counters.MakeItSo(ctx, w, id, "dinosaurs"))
	ns, err := w.Log().ReadNotifications(ctx, 1, 10)
	require.NoError(t, err)
	for _, n := range ns {
		require.Nil(t, n.TraceContext)
	}
	n, err := c.PullAndProcess(ctx, counters.WorldsName)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	processed := named(exporter.GetSpans(), "eventsourcing.process")
	require.Len(t, processed, 2)
	for _, s := range processed {
		require.Empty(t, s.Links)
	}
}

// An instance of Counters that finds its page recorded first by another
// instance (here, while its policy runs) counts a conflict, and processes
// again: nothing is processed twice. On each store that two applications
// can share.
func TestConflictsCounted(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"postgres": pgtest.PostgresEnv(t, "WORLDS", "COUNTERS"),
		"sqlite":   pgtest.SQLiteEnv(t, "WORLDS", "COUNTERS"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			tel, _ := newTelemetry(t)
			w, first := newApps(t, tel, env, false)
			second, err := app.New(ctx, app.Options{Name: counters.CountersName, Registry: counters.NewRegistry(), Env: env,
				Lookup: func(string) (string, bool) { return "", false }, TracerProvider: tel.Tracer, MeterProvider: tel.Meter})
			require.NoError(t, err)
			t.Cleanup(second.Close)
			overtaken := false
			racer := system.NewProcessApplication(second, func(ctx context.Context, p *system.ProcessApplication, event domain.Event, pe *system.ProcessEvent) error {
				if !overtaken {
					overtaken = true
					n, err := first.PullAndProcess(ctx, counters.WorldsName) // records the same page first
					require.NoError(t, err)
					require.Positive(t, n)
				}
				return counters.Policy(ctx, p, event, pe)
			})
			racer.Follow(w)
			id, err := counters.CreateWorld(ctx, w, "Earth")
			require.NoError(t, err)
			require.NoError(t, counters.MakeItSo(ctx, w, id, "dinosaurs"))

			n, err := racer.PullAndProcess(ctx, counters.WorldsName)
			require.NoError(t, err)
			require.Zero(t, n, "the other instance processed everything")
			require.True(t, overtaken)
			count, err := counters.GetCount(ctx, first.Application, "dinosaurs")
			require.NoError(t, err)
			require.Equal(t, 1, count, "processed once")

			var rm metricdata.ResourceMetrics
			require.NoError(t, tel.Reader.Collect(ctx, &rm))
			upstream := attribute.String("eventsourcing.upstream", counters.WorldsName)
			require.Equal(t, int64(1), sumOf(t, rm, "eventsourcing.follower.conflicts", counters.CountersName, upstream))
			require.Equal(t, int64(2), sumOf(t, rm, "eventsourcing.follower.processed", counters.CountersName, upstream))
		})
	}
}

// A runner that meets a retryable error (here, the policy's, once) counts
// a retry, waits, and processes the notification again.
func TestRetriesCounted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tel, _ := newTelemetry(t)
	withTelemetry := func(o *app.Options) { o.TracerProvider, o.MeterProvider = tel.Tracer, tel.Meter }
	failed := false
	flaky := func(ctx context.Context, p *system.ProcessApplication, event domain.Event, pe *system.ProcessEvent) error {
		if !failed {
			failed = true
			return &persistence.DatabaseError{Kind: persistence.ErrOperational, Err: errors.New("injected: the database is busy")}
		}
		return counters.Policy(ctx, p, event, pe)
	}
	sys, err := system.New([]system.App{
		{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Options: withTelemetry},
		{Name: counters.CountersName, Registry: counters.NewRegistry(), Policy: flaky, Options: withTelemetry},
	}, []string{counters.WorldsName, counters.CountersName})
	require.NoError(t, err)
	runner := system.NewConcurrentRunner(sys, system.RunnerOptions{Env: map[string]string{"PERSISTENCE_MODULE": "memory"},
		Lookup: func(string) (string, bool) { return "", false }, ProgressInterval: -1, RetryMin: time.Millisecond, RetryMax: time.Millisecond})
	require.NoError(t, runner.Start(ctx))
	w := runner.App(counters.WorldsName)
	id, err := counters.CreateWorld(ctx, w, "Earth")
	require.NoError(t, err)
	require.NoError(t, counters.MakeItSo(ctx, w, id, "dinosaurs"))
	require.NoError(t, runner.WaitCaughtUp(ctx))
	require.NoError(t, runner.Stop()) // so that every page is counted
	require.True(t, failed)

	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.Reader.Collect(ctx, &rm))
	upstream := attribute.String("eventsourcing.upstream", counters.WorldsName)
	require.Equal(t, int64(1), sumOf(t, rm, "eventsourcing.follower.retries", counters.CountersName, upstream))
	require.Equal(t, int64(2), sumOf(t, rm, "eventsourcing.follower.processed", counters.CountersName, upstream))
}
