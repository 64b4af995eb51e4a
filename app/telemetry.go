package app

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// InstrumentationName is the name of the instrumentation scope of the
// spans and metrics of package app (the tracer's and the meter's name).
const InstrumentationName = "github.com/eventsourcing-go/eventsourcing/app"

// The names of the spans and metrics of package app; docs/observability.md
// lists them with their attributes.
const (
	spanSave = "eventsourcing.save"
	spanGet  = "eventsourcing.get"

	metricSaves            = "eventsourcing.saves"
	metricSaveEvents       = "eventsourcing.save.events"
	metricGroupCommitSaves = "eventsourcing.group_commit.saves"
	metricGroupCommitRows  = "eventsourcing.group_commit.events"
)

// The attribute keys of the spans and metrics of packages app and system.
const (
	attrApplication  = attribute.Key("eventsourcing.application")
	attrEvents       = attribute.Key("eventsourcing.events")
	attrTrackings    = attribute.Key("eventsourcing.tracking_records")
	attrOutcome      = attribute.Key("eventsourcing.outcome")
	attrAggregateID  = attribute.Key("eventsourcing.aggregate.id")
	attrVersion      = attribute.Key("eventsourcing.aggregate.version")
	attrAtVersion    = attribute.Key("eventsourcing.aggregate.at_version")
	attrFromSnapshot = attribute.Key("eventsourcing.snapshot")
	attrEventsRead   = attribute.Key("eventsourcing.events_read")
)

// The outcomes of a save (attribute eventsourcing.outcome).
const (
	outcomeOK       = "ok"       // recorded (even if a snapshot or an OnRecorded function then failed)
	outcomeConflict = "conflict" // a version or tracking conflict: nothing recorded
	outcomeError    = "error"    // any other failure: nothing recorded, or the outcome is unknown
)

// histogram bucket boundaries for counts of events or saves.
var countBuckets = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000}

// telemetry holds an application's tracer and instruments. With the
// global providers left as they are (no SDK installed) every span and
// instrument is a no-op, and telemetry builds no attributes for spans that
// do not record.
type telemetry struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	tracer         trace.Tracer

	app        attribute.KeyValue
	saves      metric.Int64Counter
	saveEvents metric.Int64Histogram
	batchSaves metric.Int64Histogram
	batchRows  metric.Int64Histogram
	// the attributes of a save's metrics, one set per outcome, and of the
	// other metrics: made once, as slices, so that recording allocates
	// nothing (not even the variadic argument).
	outcomes map[string][]metric.AddOption
	attrs    []metric.RecordOption
}

// newTelemetry returns the telemetry of an application named name, with
// the providers of opts (the global ones when nil).
func newTelemetry(name string, tp trace.TracerProvider, mp metric.MeterProvider) (*telemetry, error) {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	t := &telemetry{tracerProvider: tp, meterProvider: mp, app: attrApplication.String(name)}
	t.tracer = tp.Tracer(InstrumentationName)
	meter := mp.Meter(InstrumentationName)
	var errs [4]error
	t.saves, errs[0] = meter.Int64Counter(metricSaves, metric.WithUnit("{save}"),
		metric.WithDescription("Saves of events (Save, SaveTracked, SaveTx...), by outcome."))
	t.saveEvents, errs[1] = meter.Int64Histogram(metricSaveEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events recorded by a save."), metric.WithExplicitBucketBoundaries(countBuckets...))
	t.batchSaves, errs[2] = meter.Int64Histogram(metricGroupCommitSaves, metric.WithUnit("{save}"),
		metric.WithDescription("Saves recorded together by one group commit (PostgreSQL and SQLite)."), metric.WithExplicitBucketBoundaries(countBuckets...))
	t.batchRows, errs[3] = meter.Int64Histogram(metricGroupCommitRows, metric.WithUnit("{event}"),
		metric.WithDescription("Events recorded together by one group commit (PostgreSQL and SQLite)."), metric.WithExplicitBucketBoundaries(countBuckets...))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	t.attrs = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(t.app))}
	t.outcomes = map[string][]metric.AddOption{}
	for _, o := range []string{outcomeOK, outcomeConflict, outcomeError} {
		t.outcomes[o] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(t.app, attrOutcome.String(o)))}
	}
	return t, nil
}

// startSave starts the span of a save of events and trackings tracking
// records, and returns the context that holds it.
func (t *telemetry) startSave(ctx context.Context, events, trackings int) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, spanSave)
	if span.IsRecording() {
		span.SetAttributes(t.app, attrEvents.Int(events), attrTrackings.Int(trackings))
	}
	return ctx, span
}

// endSave ends span, the span of a save of events that returned ids and
// err, and counts the save. The events are recorded when err is nil or
// ids is not: record returns the IDs with the error of a snapshot or an
// OnRecorded function that failed after recording them.
func (t *telemetry) endSave(ctx context.Context, span trace.Span, events int, ids []int64, err error) {
	outcome := outcomeOK
	switch {
	case err == nil || ids != nil:
	case persistence.IsConflict(err):
		outcome = outcomeConflict
	default:
		outcome = outcomeError
	}
	t.saves.Add(ctx, 1, t.outcomes[outcome]...)
	if outcome == outcomeOK {
		t.saveEvents.Record(ctx, int64(events), t.attrs...)
	}
	if span.IsRecording() {
		span.SetAttributes(attrOutcome.String(outcome))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}

// startGet starts the span of a get of the aggregate id, at version *lte
// when lte is not nil.
func (t *telemetry) startGet(ctx context.Context, id uuid.UUID, lte *int64) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, spanGet)
	if span.IsRecording() {
		span.SetAttributes(t.app, attrAggregateID.String(id.String()))
		if lte != nil {
			span.SetAttributes(attrAtVersion.Int64(*lte))
		}
	}
	return ctx, span
}

// endGet ends span, the span of a get that returned an aggregate at
// version (when err is nil), from a snapshot or not, after reading read
// stored events.
func endGet(span trace.Span, version int64, fromSnapshot bool, read int, err error) {
	if span.IsRecording() {
		span.SetAttributes(attrFromSnapshot.Bool(fromSnapshot), attrEventsRead.Int(read))
		if err == nil {
			span.SetAttributes(attrVersion.Int64(version))
		} else {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}

// observeBatch records the size of a group commit (PostgreSQL and
// SQLite recorders).
func (t *telemetry) observeBatch(ctx context.Context, saves, events int) {
	t.batchSaves.Record(ctx, int64(saves), t.attrs...)
	t.batchRows.Record(ctx, int64(events), t.attrs...)
}

// TracerProvider returns the tracer provider of the application's spans:
// Options.TracerProvider, or the global one. Process applications (package
// system) trace with it.
func (a *Application) TracerProvider() trace.TracerProvider { return a.telemetry.tracerProvider }

// MeterProvider returns the meter provider of the application's metrics:
// Options.MeterProvider, or the global one.
func (a *Application) MeterProvider() metric.MeterProvider { return a.telemetry.meterProvider }
