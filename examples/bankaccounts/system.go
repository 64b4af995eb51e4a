package bankaccounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// LedgerName is the name of the Ledger process application. It prefixes
// its environment variables (LEDGER_POSTGRES_SCHEMA) and names its
// Postgres schema ("ledger") by default.
const LedgerName = "Ledger"

// The topics under which the Ledger application stores its types.
const (
	TopicLedger              = "bankaccounts:Ledger"
	TopicLedgerStarted       = "bankaccounts:LedgerStarted"
	TopicAccountCounted      = "bankaccounts:AccountCounted"
	TopicTransactionRecorded = "bankaccounts:TransactionRecorded"
)

// NewLedgerRegistry returns a registry of the Ledger aggregate and its
// events, the Ledger application's types.
func NewLedgerRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(TopicLedger, Ledger{})
	r.Register(TopicLedgerStarted, LedgerStarted{})
	r.Register(TopicAccountCounted, AccountCounted{})
	r.Register(TopicTransactionRecorded, TransactionRecorded{})
	return r
}

// LedgerPolicy is the Ledger application's policy: it counts each Opened
// account and adds each TransactionAppended to the ledger (creating the
// ledger the first time), and saves the ledger through pe, so that the
// change is recorded with the tracking record of the event. It ignores
// the other events of BankAccounts.
func LedgerPolicy(ctx context.Context, p *system.ProcessApplication, event domain.Event, pe *system.ProcessEvent) error {
	var change func(*Ledger) error
	switch e := event.Data.(type) {
	case Opened:
		change = func(l *Ledger) error { return l.CountAccount(event.OriginatorID) }
	case TransactionAppended:
		change = func(l *Ledger) error { return l.RecordTransaction(event.OriginatorID, e.Amount, e.TransactionID) }
	default:
		return nil
	}
	ledger, err := app.NewRepository[Ledger](p.Application).Get(ctx, LedgerID())
	if errors.Is(err, app.ErrAggregateNotFound) {
		ledger, err = NewLedger()
	}
	if err != nil {
		return err
	}
	if err := change(ledger); err != nil {
		return err
	}
	pe.Save(ledger)
	return nil
}

// System returns the system of the BankAccounts application and the
// Ledger process application, which follows it with LedgerPolicy. Run it
// with system.NewConcurrentRunner (see NewBankAccountsSystem) or
// system.NewSingleThreadedRunner, and get the running BankAccounts with
// WrapBankAccounts(runner.App(Name)).
func System() *system.System {
	sys, err := system.New([]system.App{
		{Name: Name, Registry: NewRegistry()},
		{Name: LedgerName, Registry: NewLedgerRegistry(), Policy: LedgerPolicy},
	}, []string{Name, LedgerName})
	if err != nil {
		panic(fmt.Sprintf("bankaccounts: %v", err)) // the definition above is valid
	}
	return sys
}

// WrapBankAccounts returns the BankAccounts commands and queries on a, an
// application built with NewRegistry(), such as the one a runner of System
// runs (runner.App(Name)). The runner owns a: stop the runner rather than
// Close the BankAccounts.
func WrapBankAccounts(a *app.Application) *BankAccounts {
	return &BankAccounts{Application: a, accounts: app.NewRepository[BankAccount](a)}
}

// NewBankAccountsSystem starts System() with a concurrent runner that
// builds the applications with opts, and returns the running BankAccounts
// and the runner. The Ledger follows the BankAccounts in its own
// goroutine: runner.WaitCaughtUp waits until it has processed every event
// recorded so far, and runner.App(LedgerName) is the application to give
// GetLedger. Stop the runner when done; it closes both applications.
//
// On PostgreSQL the applications need schemas of their own
// (BANK_ACCOUNTS_POSTGRES_SCHEMA and LEDGER_POSTGRES_SCHEMA, or their
// default schemas "bank_accounts" and "ledger"); a single POSTGRES_SCHEMA
// for both is refused (system.ErrSystem).
func NewBankAccountsSystem(ctx context.Context, opts system.RunnerOptions) (*BankAccounts, *system.ConcurrentRunner, error) {
	runner := system.NewConcurrentRunner(System(), opts)
	if err := runner.Start(ctx); err != nil {
		return nil, nil, err
	}
	return WrapBankAccounts(runner.App(Name)), runner, nil
}

// GetLedger returns the ledger of the Ledger application ledger (for
// example runner.App(LedgerName)): a Ledger of version 0 with zero totals
// when it has not processed any account yet. With a concurrent runner it
// may lag behind the BankAccounts; wait with runner.WaitCaughtUp first.
func GetLedger(ctx context.Context, ledger *app.Application) (*Ledger, error) {
	l, err := app.NewRepository[Ledger](ledger).Get(ctx, LedgerID())
	if errors.Is(err, app.ErrAggregateNotFound) {
		return &Ledger{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get ledger: %w", err)
	}
	return l, nil
}
