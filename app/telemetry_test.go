package app_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// testSpanContext is a valid, sampled span context.
var testSpanContext = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	SpanID:     trace.SpanID{0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2},
	TraceFlags: trace.FlagsSampled,
})

func TestTraceContextEncoding(t *testing.T) {
	t.Parallel()
	b := app.EncodeTraceContext(testSpanContext)
	require.Equal(t, []byte{0,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2,
		1}, b, "version 0, trace ID, span ID, flags")
	sc, ok := app.DecodeTraceContext(b)
	require.True(t, ok)
	require.True(t, sc.IsRemote())
	require.Equal(t, testSpanContext.TraceID(), sc.TraceID())
	require.Equal(t, testSpanContext.SpanID(), sc.SpanID())
	require.True(t, sc.IsSampled())

	unsampled := testSpanContext.WithTraceFlags(0)
	sc, ok = app.DecodeTraceContext(app.EncodeTraceContext(unsampled))
	require.True(t, ok)
	require.False(t, sc.IsSampled())

	require.Nil(t, app.EncodeTraceContext(trace.SpanContext{}), "no span context, nothing stored")

	other := append([]byte{1}, b[1:]...)
	zeroIDs := make([]byte, len(b))
	for name, bad := range map[string][]byte{
		"nil": nil, "empty": {}, "short": b[:25], "long": append(append([]byte{}, b...), 0),
		"version 1": other, "zero IDs": zeroIDs, "a test's bytes": {0, 7, 2},
	} {
		sc, ok := app.DecodeTraceContext(bad)
		require.False(t, ok, name)
		require.False(t, sc.IsValid(), name)
	}
}

// The default application (no providers: the global no-op ones) saves and
// gets, and records no trace context when ctx holds no span; when ctx
// holds a span context (here with no SDK installed, as propagated from a
// caller), each event records it.
func TestTelemetryDefaults(t *testing.T) {
	t.Parallel()
	modules(t, func(t *testing.T, newApp func(opts app.Options) *app.Application) {
		ctx := t.Context()
		a := newApp(app.Options{})
		require.NotNil(t, a.TracerProvider())
		require.NotNil(t, a.MeterProvider())
		w := createWorld(t, a, "dinosaurs")
		got, err := app.NewRepository[World](a).Get(ctx, w.ID())
		require.NoError(t, err)
		require.Equal(t, []string{"dinosaurs"}, got.History)
		for _, n := range readAll(t, a) {
			require.Nil(t, n.TraceContext, "no span, no trace context")
		}

		spanCtx := trace.ContextWithSpanContext(ctx, testSpanContext)
		require.NoError(t, domain.Trigger(got, SomethingHappened{What: "mammals"}))
		require.NoError(t, domain.Trigger(got, SomethingHappened{What: "people"}))
		_, err = a.Save(spanCtx, got)
		require.NoError(t, err)
		ns := readAll(t, a)
		require.Len(t, ns, 4)
		for _, n := range ns[2:] {
			sc, ok := app.DecodeTraceContext(n.TraceContext)
			require.True(t, ok, "notification %d", n.ID)
			require.True(t, sc.Equal(testSpanContext.WithRemote(true)), "notification %d: %v", n.ID, sc)
		}
	})
}

// readAll returns every notification of a.
func readAll(t *testing.T, a *app.Application) []persistence.Notification {
	t.Helper()
	ns, err := a.Log().ReadNotifications(t.Context(), 1, app.MaxReadLimit)
	require.NoError(t, err)
	return ns
}

// No-op providers given in Options are used.
func TestTelemetryProvidersGiven(t *testing.T) {
	t.Parallel()
	tp, mp := tracenoop.NewTracerProvider(), noop.NewMeterProvider()
	a, err := app.New(t.Context(), app.Options{Name: "Worlds", Registry: registry(), Lookup: noEnv, TracerProvider: tp, MeterProvider: mp})
	require.NoError(t, err)
	defer a.Close()
	require.Equal(t, tp, a.TracerProvider())
	require.Equal(t, mp, a.MeterProvider())
	createWorld(t, a, "dinosaurs")
}

// Options.QueryTracer traces the queries of the pool the application
// opens; with a pool of the caller's, it is a *config.Error, since that
// pool keeps its own tracer.
func TestQueryTracerOption(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tracer := &countingTracer{}
	a, err := app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), DatabaseURL: pgtest.ServerURL(t),
		Schema: pgtest.NewSchemaName(t), Lookup: noEnv, QueryTracer: tracer})
	require.NoError(t, err)
	defer a.Close()
	before := tracer.queries.Load()
	createWorld(t, a, "dinosaurs")
	require.Greater(t, tracer.queries.Load(), before, "the save's query was traced")

	cfg, err := pgxpool.ParseConfig(pgtest.ServerURL(t))
	require.NoError(t, err)
	require.NoError(t, postgres.ConfigurePool(cfg, pgtest.NewSchemaName(t)))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	_, err = app.New(ctx, app.Options{Name: "Worlds", Registry: registry(), Pool: pool, Lookup: noEnv, QueryTracer: tracer})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "app.Options.QueryTracer", cfgErr.Var)
}
