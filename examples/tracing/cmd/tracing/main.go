// Command tracing runs the Worlds → Counters system (package counters) in
// one process, with the concurrent runner, its applications reporting to
// an OpenTelemetry SDK: it prints each span to standard output as JSON
// (the SDK's stdout exporter) as it ends, then a summary of the spans (the
// processing of each Worlds event is linked to the save that recorded it)
// and of the metrics.
//
//	go run ./cmd/tracing                              # in memory (from examples/tracing)
//	DATABASE_URL=postgres://... go run ./cmd/tracing  # on PostgreSQL
//
// The flag -json=false leaves out the JSON.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/tracing"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func main() {
	asJSON := flag.Bool("json", true, "print each span as JSON as it ends")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{}, os.Stdout, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "tracing:", err)
		os.Exit(1)
	}
}

// run runs the system with the configuration in env, writing the spans
// (as JSON when asJSON) and what it did to out.
func run(ctx context.Context, env config.Environment, out io.Writer, asJSON bool) (err error) {
	jsonOut := io.Discard
	if asJSON {
		jsonOut = out
	}
	tel, err := tracing.NewStdout(jsonOut)
	if err != nil {
		return err
	}
	spans := tracetest.NewInMemoryExporter() // for the summary
	tel.Tracer.RegisterSpanProcessor(sdktrace.NewSimpleSpanProcessor(spans))
	defer func() {
		if shutdownErr := tel.Shutdown(context.WithoutCancel(ctx)); err == nil {
			err = shutdownErr
		}
	}()

	env.Name = "" // the configuration of the whole system
	runner := system.NewConcurrentRunner(tracing.System(tel.Tracer, tel.Meter), system.RunnerOptions{Env: env.Values, Lookup: env.Lookup, ProgressInterval: -1})
	if err := runner.Start(ctx); err != nil {
		return err
	}
	running := true
	defer func() {
		if running {
			_ = runner.Stop() // after an error, returned already
		}
	}()
	w, c := runner.App(counters.WorldsName), runner.App(counters.CountersName)
	// Each command has a span of its own, the parent of its gets and
	// saves; the follower's spans link to the saves.
	commands := tel.Tracer.Tracer("github.com/eventsourcing-go/eventsourcing/examples/tracing/cmd/tracing")
	cmdCtx, span := commands.Start(ctx, "create world")
	id, err := counters.CreateWorld(cmdCtx, w, "Earth")
	span.End()
	if err != nil {
		return err
	}
	for _, what := range []string{"dinosaurs", "trucks"} {
		cmdCtx, span := commands.Start(ctx, "make it so")
		err := counters.MakeItSo(cmdCtx, w, id, what)
		span.End()
		if err != nil {
			return err
		}
	}
	if err := runner.WaitCaughtUp(ctx); err != nil {
		return err
	}
	n, err := counters.GetCount(ctx, c, "dinosaurs")
	if err != nil {
		return err
	}
	// The gauges are observed while the followers run; the counters are
	// read once the runner stopped, because a page is counted just after
	// its tracking record commits, which is what WaitCaughtUp sees.
	var whileRunning, stopped metricdata.ResourceMetrics
	if err := tel.Reader.Collect(ctx, &whileRunning); err != nil {
		return err
	}
	running = false
	if err := runner.Stop(); err != nil {
		return err
	}
	if err := tel.Reader.Collect(ctx, &stopped); err != nil {
		return err
	}
	fmt.Fprintf(out, "\npersistence module: %s; count of dinosaurs: %d\n", w.Module(), n)
	printSpans(out, spans.GetSpans())
	printMetrics(out, whileRunning, stopped)
	return nil
}

// printSpans prints one line per span: its name, trace and span IDs, its
// parent's span ID and the span contexts it links to.
func printSpans(out io.Writer, spans tracetest.SpanStubs) {
	fmt.Fprintln(out, "\nspans (trace id, span id ← parent span id, ⇠ linked trace/span):")
	for _, s := range spans {
		line := fmt.Sprintf("  %-27s %s %s", s.Name, s.SpanContext.TraceID(), s.SpanContext.SpanID())
		if s.Parent.IsValid() {
			line += " ← " + s.Parent.SpanID().String()
		}
		for _, l := range s.Links {
			line += fmt.Sprintf(" ⇠ %s/%s", l.SpanContext.TraceID(), l.SpanContext.SpanID())
		}
		fmt.Fprintln(out, line)
	}
}

// printMetrics prints one line per metric and attribute set: the gauges
// of whileRunning by value, and the sums and histograms of stopped, sums
// by value and histograms by count and sum.
func printMetrics(out io.Writer, whileRunning, stopped metricdata.ResourceMetrics) {
	fmt.Fprintln(out, "\nmetrics:")
	var lines []string
	for _, sm := range stopped.ScopeMetrics {
		for _, m := range sm.Metrics {
			prefix := fmt.Sprintf("  %s (%s)", m.Name, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s %s: %d", prefix, attrs(p.Attributes), p.Value))
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s %s: count %d, sum %d", prefix, attrs(p.Attributes), p.Count, p.Sum))
				}
			}
		}
	}
	for _, sm := range whileRunning.ScopeMetrics {
		for _, m := range sm.Metrics {
			prefix := fmt.Sprintf("  %s (%s)", m.Name, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s %s: %d", prefix, attrs(p.Attributes), p.Value))
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s %s: %g", prefix, attrs(p.Attributes), p.Value))
				}
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
}

func attrs(set attribute.Set) string {
	var kv []string
	for _, a := range set.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	return "{" + strings.Join(kv, " ") + "}"
}
