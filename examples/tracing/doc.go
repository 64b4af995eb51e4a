// Package tracing wires the OpenTelemetry SDK into an event-sourced system
// of this library: the counters example (Worlds, and the process
// application Counters that follows it), whose applications report their
// spans and metrics to the SDK's providers through app.Options
// TracerProvider and MeterProvider.
//
// It is a module of its own, so that the library's module depends on the
// OpenTelemetry API only: an application that wants traces and metrics
// installs an SDK (and an exporter) as this package does, and one that
// does not pays nothing. Its command, cmd/tracing, runs the system and
// prints the spans to standard output; its tests check the spans, their
// links and the metrics with an in-memory exporter; its benchmarks measure
// saves, gets and a follower with and without tracing. See
// docs/observability.md.
package tracing
