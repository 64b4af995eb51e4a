package system

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// InstrumentationName is the name of the instrumentation scope of the
// spans and metrics of package system.
const InstrumentationName = "github.com/eventsourcing-go/eventsourcing/system"

// The names of the spans and metrics of package system;
// docs/observability.md lists them with their attributes.
const (
	spanPage         = "eventsourcing.process.page"
	spanNotification = "eventsourcing.process"

	metricProcessed = "eventsourcing.follower.processed"
	metricConflicts = "eventsourcing.follower.conflicts"
	metricRetries   = "eventsourcing.follower.retries"
	metricLag       = "eventsourcing.follower.lag"
	metricLagAge    = "eventsourcing.follower.lag.age"
)

// The attribute keys of package system (the application's key is app's).
const (
	attrApplication    = attribute.Key("eventsourcing.application")
	attrUpstream       = attribute.Key("eventsourcing.upstream")
	attrNotificationID = attribute.Key("eventsourcing.notification.id")
	attrFirstID        = attribute.Key("eventsourcing.notification.first_id")
	attrPageSize       = attribute.Key("eventsourcing.page.size")
	attrProcessed      = attribute.Key("eventsourcing.page.processed")
	attrTopic          = attribute.Key("eventsourcing.event.topic")
	attrAggregateID    = attribute.Key("eventsourcing.aggregate.id")
	attrVersion        = attribute.Key("eventsourcing.aggregate.version")
)

// lagTimeout bounds the reads of one observation of the lag gauges.
const lagTimeout = 10 * time.Second

// telemetry holds a process application's tracer and instruments. With
// the global providers left as they are (no SDK installed) every span and
// instrument is a no-op, and no attributes are built for spans that do
// not record.
type telemetry struct {
	tracer    trace.Tracer
	meter     metric.Meter
	app       attribute.KeyValue
	processed metric.Int64Counter
	conflicts metric.Int64Counter
	retries   metric.Int64Counter
	lag       metric.Int64ObservableGauge
	lagAge    metric.Float64ObservableGauge

	mu    sync.Mutex
	attrs map[string][]metric.AddOption // by upstream ("" for none): made once, as slices, so that recording allocates nothing
}

// newTelemetry returns the telemetry of the process application a, with
// a's providers. An instrument that cannot be made is reported to otel's
// error handler, and is then a no-op.
func newTelemetry(a *app.Application) *telemetry {
	t := &telemetry{
		tracer: a.TracerProvider().Tracer(InstrumentationName),
		meter:  a.MeterProvider().Meter(InstrumentationName),
		app:    attrApplication.String(a.Name()),
		attrs:  map[string][]metric.AddOption{},
	}
	var errs [5]error
	t.processed, errs[0] = t.meter.Int64Counter(metricProcessed, metric.WithUnit("{notification}"),
		metric.WithDescription("Upstream notifications processed and recorded by a process application."))
	t.conflicts, errs[1] = t.meter.Int64Counter(metricConflicts, metric.WithUnit("{conflict}"),
		metric.WithDescription("Pages of notifications another instance recorded first, or that met a version conflict: processed again."))
	t.retries, errs[2] = t.meter.Int64Counter(metricRetries, metric.WithUnit("{retry}"),
		metric.WithDescription("Retries of a runner after a processing error (a database error), after a backoff."))
	t.lag, errs[3] = t.meter.Int64ObservableGauge(metricLag, metric.WithUnit("{notification}"),
		metric.WithDescription("Notifications of the upstream application not processed yet (its head minus the position tracked), while a runner follows it."))
	t.lagAge, errs[4] = t.meter.Float64ObservableGauge(metricLagAge, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest upstream notification not processed yet, while a runner follows it; 0 when caught up."))
	if err := errors.Join(errs[:]...); err != nil {
		otel.Handle(err)
	}
	return t
}

// attributes returns the measurement attributes of the process
// application and upstream.
func (t *telemetry) attributes(upstream string) []metric.AddOption {
	t.mu.Lock()
	defer t.mu.Unlock()
	opt, ok := t.attrs[upstream]
	if !ok {
		set := attribute.NewSet(t.app)
		if upstream != "" {
			set = attribute.NewSet(t.app, attrUpstream.String(upstream))
		}
		opt = []metric.AddOption{metric.WithAttributeSet(set)}
		t.attrs[upstream] = opt
	}
	return opt
}

// startPage starts the span of a page of up to size notifications of
// upstream, from first.
func (t *telemetry) startPage(ctx context.Context, upstream string, first int64, size int) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, spanPage)
	if span.IsRecording() {
		span.SetAttributes(t.app, attrUpstream.String(upstream), attrFirstID.Int64(first), attrPageSize.Int(size))
	}
	return ctx, span
}

// endPage ends span, the span of a page of notifications of upstream that
// recorded processed notifications and returned err, and counts them.
func (t *telemetry) endPage(ctx context.Context, span trace.Span, upstream string, processed int, err error) {
	if processed > 0 {
		t.processed.Add(ctx, int64(processed), t.attributes(upstream)...)
	}
	if span.IsRecording() {
		span.SetAttributes(attrProcessed.Int(processed))
	}
	endSpan(span, err)
}

// startNotification starts the span of the processing of notification n
// of upstream, linked to the span that saved its event, when the event
// recorded one (see app.DecodeTraceContext).
func (t *telemetry) startNotification(ctx context.Context, upstream string, n persistence.Notification) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, spanNotification, trace.WithSpanKind(trace.SpanKindConsumer))
	if span.IsRecording() {
		if saved, ok := app.DecodeTraceContext(n.TraceContext); ok {
			span.AddLink(trace.Link{SpanContext: saved})
		}
		span.SetAttributes(t.app, attrUpstream.String(upstream), attrNotificationID.Int64(n.ID),
			attrTopic.String(n.Topic), attrAggregateID.String(n.OriginatorID.String()), attrVersion.Int64(n.OriginatorVersion))
	}
	return ctx, span
}

// endSpan ends span, with an error status if err is not nil.
func endSpan(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// conflict counts a conflict met processing upstream.
func (t *telemetry) conflict(ctx context.Context, upstream string) {
	t.conflicts.Add(ctx, 1, t.attributes(upstream)...)
}

// retry counts a retry of processing (upstream "" when the retry is not
// of one upstream).
func (t *telemetry) retry(ctx context.Context, upstream string) {
	t.retries.Add(ctx, 1, t.attributes(upstream)...)
}

// observeLag observes the lag of p behind each application it follows
// (see ProcessApplication.Lag) whenever the meter collects, until the
// function it returns is called. The runners observe while they follow,
// so that a process application that is not followed keeps no callback
// registered. An error of the meter is reported to otel's error handler.
func (t *telemetry) observeLag(p *ProcessApplication) (stop func()) {
	reg, err := t.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, lagTimeout)
		defer cancel()
		var errs []error
		for _, leader := range p.Upstreams() {
			lag, err := p.Lag(ctx, leader)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			attrs := metric.WithAttributeSet(attribute.NewSet(t.app, attrUpstream.String(leader)))
			o.ObserveInt64(t.lag, lag.Behind, attrs)
			o.ObserveFloat64(t.lagAge, lag.Age.Seconds(), attrs)
		}
		return errors.Join(errs...)
	}, t.lag, t.lagAge)
	if err != nil {
		otel.Handle(err)
		return func() {}
	}
	return func() {
		if err := reg.Unregister(); err != nil {
			otel.Handle(err)
		}
	}
}
