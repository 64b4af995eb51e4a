// Command bankaccounts runs the bank accounts example: it opens two
// accounts, deposits, transfers, tries to withdraw beyond the overdraft
// limit, and prints the balances; then, once the Ledger process
// application has caught up with the BankAccounts application, the
// bank's ledger.
//
//	go run ./examples/bankaccounts/cmd/bankaccounts                              # in memory
//	DATABASE_URL=postgres://... go run ./examples/bankaccounts/cmd/bankaccounts  # on PostgreSQL
//
// With DATABASE_URL set and PERSISTENCE_MODULE unset it records in
// PostgreSQL, in the schemas "bank_accounts" and "ledger"
// (BANK_ACCOUNTS_POSTGRES_SCHEMA and LEDGER_POSTGRES_SCHEMA override; a
// single POSTGRES_SCHEMA for both is refused); each run opens two new
// accounts, and the ledger counts those of every run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/system"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config.Environment{}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bankaccounts:", err)
		os.Exit(1)
	}
}

// run runs the example with the configuration in env, writing what it
// does to out.
func run(ctx context.Context, env config.Environment, out io.Writer) (err error) {
	env.Name = "" // the configuration of the whole system
	bank, runner, err := bankaccounts.NewBankAccountsSystem(ctx, system.RunnerOptions{Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := runner.Stop(); err == nil {
			err = stopErr
		}
	}()
	fmt.Fprintf(out, "persistence module: %s\n", bank.Module())
	money := bankaccounts.FormatCents

	alice, err := bank.OpenAccount(ctx, "Alice", "alice@example.com")
	if err != nil {
		return err
	}
	bob, err := bank.OpenAccount(ctx, "Bob", "bob@example.com")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "opened accounts: Alice %s, Bob %s\n", alice, bob)

	if err := bank.DepositFunds(ctx, alice, 200_00); err != nil {
		return err
	}
	fmt.Fprintf(out, "deposited %s to Alice\n", money(200_00))
	if err := bank.TransferFunds(ctx, alice, bob, 75_00); err != nil {
		return err
	}
	fmt.Fprintf(out, "transferred %s from Alice to Bob\n", money(75_00))
	if err := bank.SetOverdraftLimit(ctx, bob, 50_00); err != nil {
		return err
	}
	fmt.Fprintf(out, "set Bob's overdraft limit to %s\n", money(50_00))

	err = bank.WithdrawFunds(ctx, bob, 200_00)
	var insufficient *bankaccounts.InsufficientFundsError
	if !errors.As(err, &insufficient) {
		return fmt.Errorf("expected insufficient funds, got %v", err)
	}
	fmt.Fprintf(out, "withdrawing %s from Bob refused: balance %s, overdraft limit %s\n",
		money(200_00), money(insufficient.Balance), money(insufficient.OverdraftLimit))

	err = bank.TransferFunds(ctx, alice, bob, 1000_00)
	if !errors.Is(err, bankaccounts.ErrInsufficientFunds) {
		return fmt.Errorf("expected insufficient funds, got %v", err)
	}
	fmt.Fprintf(out, "transferring %s from Alice to Bob refused: %v\n", money(1000_00), err)

	if err := bank.WithdrawFunds(ctx, bob, 100_00); err != nil {
		return err
	}
	fmt.Fprintf(out, "withdrew %s from Bob\n", money(100_00))

	for _, a := range []struct {
		name string
		id   uuid.UUID
	}{{"Alice", alice}, {"Bob", bob}} {
		balance, err := bank.GetBalance(ctx, a.id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "balance of %s: %s\n", a.name, money(balance))
	}

	if err := runner.WaitCaughtUp(ctx); err != nil {
		return err
	}
	ledger, err := bankaccounts.GetLedger(ctx, runner.App(bankaccounts.LedgerName))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ledger: %d accounts, %d transactions, %s in the bank\n", ledger.Accounts, ledger.Transactions, money(ledger.TotalCents))
	return nil
}
