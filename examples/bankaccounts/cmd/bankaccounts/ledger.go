package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// pollInterval is how often the ledger mode looks for new events of
// BankAccounts when nothing wakes it (0: system.DefaultPollInterval).
var pollInterval time.Duration

// reportInterval is how often the ledger mode looks whether the Ledger
// has processed more.
const reportInterval = 250 * time.Millisecond

// runLedger runs the Ledger process application with the configuration
// in env until ctx ends, writing the ledger to out whenever it has
// processed more, and what goes wrong (and is retried) as log lines.
func runLedger(ctx context.Context, env config.Environment, out io.Writer) error {
	env.Name = "" // the configuration of the whole system
	if err := needsPostgres(env); err != nil {
		return err
	}
	out = &syncWriter{w: out}
	// The process's own view of the Ledger, to report progress.
	ledger, err := app.New(ctx, app.Options{Name: bankaccounts.LedgerName, Registry: bankaccounts.NewLedgerRegistry(), Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer ledger.Close()
	from := "its database"
	leaderEnv := config.Environment{Name: bankaccounts.Name, Values: env.Values, Lookup: env.Lookup}
	if url := leaderEnv.String(system.EnvNotificationLogURL, ""); url != "" {
		from = url
	}
	fmt.Fprintf(out, "%s (schema %s) follows %s at %s; stop with Ctrl-C\n", bankaccounts.LedgerName, ledger.Schema(), bankaccounts.Name, from)

	reportCtx, stopReporting := context.WithCancel(ctx)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		report(reportCtx, ledger, out)
	}()
	err = system.RunProcess(ctx, bankaccounts.System(), bankaccounts.LedgerName, system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: env.Values, Lookup: env.Lookup, PollInterval: pollInterval},
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

// report writes the ledger to out whenever the Ledger has tracked more
// notifications of BankAccounts, until ctx ends.
func report(ctx context.Context, ledger *app.Application, out io.Writer) {
	last := int64(-1)
	ticker := time.NewTicker(reportInterval)
	defer ticker.Stop()
	for {
		// The position first: the ledger read after it is at least as
		// recent, and a later position is reported again.
		tracked, err := ledger.Recorder().MaxTrackingID(ctx, bankaccounts.Name)
		if err == nil && tracked != last {
			var l *bankaccounts.Ledger
			if l, err = bankaccounts.GetLedger(ctx, ledger); err == nil {
				fmt.Fprintf(out, "processed %s up to notification %d; %s\n", bankaccounts.Name, tracked, describeLedger(l))
				last = tracked
			}
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(out, "reading the ledger:", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
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
