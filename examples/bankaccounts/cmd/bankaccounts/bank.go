package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/httplog"
)

// The variables of the bank mode, each may be prefixed with
// BANK_ACCOUNTS_.
const (
	envLogAddr  = "NOTIFICATION_LOG_ADDR"
	envLogToken = "NOTIFICATION_LOG_TOKEN"
	envRounds   = "DEMO_ROUNDS"
)

// errNeedsPostgres is returned by the bank and ledger modes when the
// configuration does not select PostgreSQL.
var errNeedsPostgres = errors.New("the bank and ledger modes need PostgreSQL: " +
	"set DATABASE_URL (or PERSISTENCE_MODULE=postgres and the POSTGRES_* variables)")

// needsPostgres returns errNeedsPostgres unless env selects PostgreSQL.
func needsPostgres(env config.Environment) error {
	module, err := app.ModuleFromEnv(env)
	if err != nil {
		return err
	}
	if module != app.Postgres {
		return errNeedsPostgres
	}
	return nil
}

// runBank runs the BankAccounts application with the configuration in
// env, serving its notification log over HTTP until ctx ends, and runs
// the example's commands DEMO_ROUNDS times meanwhile, writing the first
// round and then the log's head to out.
func runBank(ctx context.Context, env config.Environment, out io.Writer) (err error) {
	env.Name = bankaccounts.Name
	if err := needsPostgres(env); err != nil {
		return err
	}
	token := env.String(envLogToken, "")
	if token == "" {
		return &config.Error{Var: envLogToken, Reason: "a bearer token is required to serve the notification log"}
	}
	rounds, err := env.Int(envRounds, 1, 0)
	if err != nil {
		return err
	}
	bank, err := bankaccounts.NewBankAccounts(ctx, app.Options{Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer bank.Close()
	handler, err := httplog.NewHandler(bank.Log(), httplog.HandlerOptions{Tokens: []string{token}, Watcher: bank})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", env.String(envLogAddr, "127.0.0.1:8080"))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if shutErr := srv.Shutdown(shutdown); err == nil {
			err = shutErr
		}
	}()
	fmt.Fprintf(out, "serving the notification log of %s (schema %s) on http://%s\n", bankaccounts.Name, bank.Schema(), l.Addr())

	for i := range rounds {
		w := out
		if i > 0 {
			w = io.Discard
		}
		if err := commands(ctx, bank, w); err != nil {
			if ctx.Err() != nil {
				return nil // stopped
			}
			return err
		}
	}
	head, err := bank.Recorder().MaxNotificationID(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped
		}
		return err
	}
	fmt.Fprintf(out, "ran the commands %d times; the notification log's head is %d; stop with Ctrl-C\n", rounds, head)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		return nil
	}
}
