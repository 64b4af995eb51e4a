// Command counters-process runs the Counters process application of the
// Worlds → Counters system on its own, in this OS process, against
// PostgreSQL, until it gets SIGINT (Ctrl-C) or SIGTERM. It processes the
// events of the Worlds application that other processes record (see
// cmd/worlds-writer), woken by the notifications of the Worlds schema,
// and prints the counts whenever they change.
//
//	DATABASE_URL=postgres://... go run ./examples/counters/cmd/counters-process
//
// It needs PostgreSQL: DATABASE_URL, or PERSISTENCE_MODULE=postgres with
// the POSTGRES_* variables. Worlds and Counters use the schemas "worlds"
// and "counters" (WORLDS_POSTGRES_SCHEMA and COUNTERS_POSTGRES_SCHEMA
// override). Several instances may run at once: each event is counted
// once. See the package documentation of examples/counters.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "counters-process:", err)
		os.Exit(1)
	}
}

// errNeedsPostgres is returned when the configuration does not select
// PostgreSQL.
var errNeedsPostgres = errors.New("the Counters process needs PostgreSQL to share events with the Worlds process: " +
	"set DATABASE_URL (or PERSISTENCE_MODULE=postgres and the POSTGRES_* variables)")

// reportInterval is how often run looks whether the counts changed.
var reportInterval = 250 * time.Millisecond

// run runs the Counters process application with the configuration in env
// until ctx ends, writing the counts to out when they change, and what
// goes wrong (and is retried) as log lines.
func run(ctx context.Context, env config.Environment, out io.Writer) error {
	env.Name = "" // the configuration of the whole system
	if module, err := app.ModuleFromEnv(env); err != nil {
		return err
	} else if module != app.Postgres {
		return errNeedsPostgres
	}
	out = &syncWriter{w: out}

	// The process's own view of both applications, to report progress.
	w, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer w.Close()
	c, err := app.New(ctx, app.Options{Name: counters.CountersName, Registry: counters.NewRegistry(), Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(out, "Counters (schema %q) follows Worlds (schema %q); stop with Ctrl-C\n", c.Schema(), w.Schema())

	reportCtx, stopReporting := context.WithCancel(ctx)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		report(reportCtx, w, c, out)
	}()
	err = system.RunProcess(ctx, counters.System(), counters.CountersName, system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: env.Values, Lookup: env.Lookup},
		Logger:        slog.New(slog.NewTextHandler(out, nil)),
	})
	stopReporting()
	<-reported
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// report writes the counts to out whenever Counters has processed more of
// Worlds, until ctx ends.
func report(ctx context.Context, w, c *app.Application, out io.Writer) {
	last := int64(-1)
	ticker := time.NewTicker(reportInterval)
	defer ticker.Stop()
	for {
		// The position first: the counts read after it are at least as
		// recent, and a later position is reported again.
		tracked, err := c.Recorder().MaxTrackingID(ctx, counters.WorldsName)
		if err == nil && tracked != last {
			var line string
			if line, err = describe(ctx, w, c, tracked); err == nil {
				fmt.Fprintln(out, line)
				last = tracked
			}
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(out, "reading the counts:", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// describe returns the progress of Counters and its counts.
func describe(ctx context.Context, w, c *app.Application, tracked int64) (string, error) {
	total, err := w.Recorder().MaxNotificationID(ctx)
	if err != nil {
		return "", err
	}
	counts := make([]string, len(counters.Things))
	for i, what := range counters.Things {
		n, err := counters.GetCount(ctx, c, what)
		if err != nil {
			return "", err
		}
		counts[i] = fmt.Sprintf("%s %d", what, n)
	}
	return fmt.Sprintf("processed %d of %d notifications of Worlds: %s", tracked, max(total, tracked), strings.Join(counts, ", ")), nil
}

// syncWriter serializes the writes of the reporter and of the logger.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
