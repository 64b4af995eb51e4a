package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// System returns the counters system (see package counters): Worlds, and
// Counters following it, both reporting their spans to tp and their
// metrics to mp.
func System(tp trace.TracerProvider, mp metric.MeterProvider) *system.System {
	withTelemetry := func(o *app.Options) { o.TracerProvider, o.MeterProvider = tp, mp }
	sys, err := system.New([]system.App{
		{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Options: withTelemetry},
		{Name: counters.CountersName, Registry: counters.NewRegistry(), Policy: counters.Policy, Options: withTelemetry},
	}, []string{counters.WorldsName, counters.CountersName})
	if err != nil {
		panic(fmt.Sprintf("tracing: %v", err)) // the definition above is valid
	}
	return sys
}

// Telemetry is an OpenTelemetry SDK: a tracer provider that samples every
// trace and a meter provider read by Reader.
type Telemetry struct {
	Tracer *sdktrace.TracerProvider
	Meter  *sdkmetric.MeterProvider
	Reader sdkmetric.Reader
}

// NewStdout returns an SDK that writes each span to w as indented JSON
// (the stdout exporter) as soon as it ends, and whose metrics are read on
// demand (a ManualReader). Shut it down when done.
func NewStdout(w io.Writer) (*Telemetry, error) {
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(w), stdouttrace.WithPrettyPrint())
	if err != nil {
		return nil, fmt.Errorf("stdout trace exporter: %w", err)
	}
	return New(sdktrace.WithSyncer(exporter)), nil
}

// New returns an SDK whose tracer provider samples every trace and
// exports with export (sdktrace.WithSyncer or WithBatcher), and whose
// meter provider is read by a ManualReader.
func New(export sdktrace.TracerProviderOption) *Telemetry {
	res := resource.Empty()
	reader := sdkmetric.NewManualReader()
	return &Telemetry{
		Tracer: sdktrace.NewTracerProvider(export, sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithResource(res)),
		Meter:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res)),
		Reader: reader,
	}
}

// Shutdown flushes and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.Tracer.Shutdown(ctx), t.Meter.Shutdown(ctx))
}
