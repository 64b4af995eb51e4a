// Command bankaccounts runs the bank accounts example: it opens two
// accounts, deposits, transfers, tries to withdraw beyond the overdraft
// limit, and prints the balances; then, once the Ledger process
// application has caught up with the BankAccounts application, the
// bank's ledger.
//
//	go run ./examples/bankaccounts/cmd/bankaccounts                              # in memory
//	DATABASE_URL=postgres://... go run ./examples/bankaccounts/cmd/bankaccounts  # on PostgreSQL
//
// With SQLITE_DBNAME set (and no PostgreSQL connection variable) it
// records in that SQLite file, and the Ledger in a file beside it (bank.db:
// bank-ledger.db) unless LEDGER_SQLITE_DBNAME names one; each run opens
// two new accounts, and the ledger counts those of every run:
//
//	SQLITE_DBNAME=bank.db go run ./examples/bankaccounts/cmd/bankaccounts
//
// With DATABASE_URL set and PERSISTENCE_MODULE unset it records in
// PostgreSQL, in the schemas "bank_accounts" and "ledger"
// (BANK_ACCOUNTS_POSTGRES_SCHEMA and LEDGER_POSTGRES_SCHEMA override; a
// single POSTGRES_SCHEMA for both is refused); each run opens two new
// accounts, and the ledger counts those of every run.
//
// # Two processes, two databases
//
// "bankaccounts bank" and "bankaccounts ledger" run the two applications
// as two OS processes, each with a PostgreSQL database of its own, the
// Ledger following the BankAccounts' notification log over HTTP. Both are
// configured by the environment alone, and both need PostgreSQL.
//
//	DATABASE_URL=postgres://.../bank NOTIFICATION_LOG_TOKEN=s3cret DEMO_ROUNDS=100 \
//	  go run ./examples/bankaccounts/cmd/bankaccounts bank
//	DATABASE_URL=postgres://.../ledger BANK_ACCOUNTS_NOTIFICATION_LOG_URL=http://127.0.0.1:8080 \
//	  BANK_ACCOUNTS_NOTIFICATION_LOG_TOKEN=s3cret go run ./examples/bankaccounts/cmd/bankaccounts ledger
//
// bank serves the notification log of BankAccounts over HTTP (package
// httplog) on NOTIFICATION_LOG_ADDR (default 127.0.0.1:8080) to requests
// with the bearer token NOTIFICATION_LOG_TOKEN (required), as
// "eventsourcing serve BankAccounts" does (both may be prefixed with
// BANK_ACCOUNTS_); it serves plain HTTP: put it behind TLS to cross a
// network you do not trust. Meanwhile it runs the commands above
// DEMO_ROUNDS times (default 1, 0 for none; each round opens two
// accounts, records four transactions and adds 100.00 to the bank),
// printing the first round; then it prints the head of the log, and
// serves it until it gets SIGINT (Ctrl-C) or SIGTERM.
//
// ledger runs the Ledger process application (system.RunProcess) until
// it gets SIGINT or SIGTERM, recording in its own database (schema
// "ledger", or LEDGER_POSTGRES_SCHEMA) the ledger with one tracking record
// per notification of BankAccounts, so that each is processed exactly
// once, also when the process is killed and started again. With
// BANK_ACCOUNTS_NOTIFICATION_LOG_URL (and _TOKEN) set it reads
// BankAccounts over HTTP, woken by the bank's log server as soon as the
// bank records events (a long poll; polling as the fallback), and never
// connects to the BankAccounts database; without them it reads
// BankAccounts in its own database (schema "bank_accounts"). It prints the
// ledger whenever it has processed more, and logs what goes wrong and is
// retried (the log server being unreachable, say).
//
// With BANK_ACCOUNTS_CIPHER_KEY set (see codec.CreateAESKey), the bank
// stores its events encrypted and serves them as stored; the ledger then
// needs the same BANK_ACCOUNTS_CIPHER_KEY to decode them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
	"github.com/eventsourcing-go/eventsourcing/system"
)

const usage = `usage: bankaccounts [bank | ledger]

  (no argument)  run the example, both applications in this process
  bank           run BankAccounts and serve its notification log over HTTP
  ledger         run the Ledger process application, following BankAccounts
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command(ctx, os.Args[1:], config.Environment{}, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command runs the mode that args name with the configuration in env, and
// returns the exit status: 0 on success, 1 on an error (written to
// stderr), 2 when args are wrong.
func command(ctx context.Context, args []string, env config.Environment, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) == 0:
		err = run(ctx, env, stdout)
	case len(args) == 1 && args[0] == "bank":
		err = runBank(ctx, env, stdout)
	case len(args) == 1 && args[0] == "ledger":
		err = runLedger(ctx, env, stdout)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "bankaccounts:", err)
		return 1
	}
	return 0
}

// run runs the example with the configuration in env, writing what it
// does to out.
func run(ctx context.Context, env config.Environment, out io.Writer) (err error) {
	env.Name = "" // the configuration of the whole system
	bank, runner, err := bankaccounts.NewBankAccountsSystem(ctx, system.RunnerOptions{Env: withLedgerFile(env), Lookup: env.Lookup, ProgressInterval: -1})
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := runner.Stop(); err == nil {
			err = stopErr
		}
	}()
	fmt.Fprintf(out, "persistence module: %s\n", bank.Module())
	if err := commands(ctx, bank, out); err != nil {
		return err
	}
	if err := runner.WaitCaughtUp(ctx); err != nil {
		return err
	}
	ledger, err := bankaccounts.GetLedger(ctx, runner.App(bankaccounts.LedgerName))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, describeLedger(ledger))
	return nil
}

// withLedgerFile returns the values of env, with LEDGER_SQLITE_DBNAME set
// beside the one SQLite file that SQLITE_DBNAME names (bank.db:
// bank-ledger.db) when the Ledger is given no file of its own: each
// application records in a database of its own.
func withLedgerFile(env config.Environment) map[string]string {
	name, ok := env.Get(sqlite.EnvDBName)
	ledger := config.Environment{Name: bankaccounts.LedgerName, Values: env.Values, Lookup: env.Lookup}
	if found, _, _ := ledger.Find(sqlite.EnvDBName); !ok || found != sqlite.EnvDBName || strings.HasPrefix(name, "file:") || name == ":memory:" {
		return env.Values
	}
	values := maps.Clone(env.Values)
	if values == nil {
		values = map[string]string{}
	}
	ext := filepath.Ext(name)
	values["LEDGER_"+sqlite.EnvDBName] = strings.TrimSuffix(name, ext) + "-ledger" + ext
	return values
}

// commands runs the example's commands on bank, writing what they do to
// out: it opens two accounts, records four transactions that leave 100.00
// in the bank, and tries two that are refused.
func commands(ctx context.Context, bank *bankaccounts.BankAccounts, out io.Writer) error {
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
	return nil
}

// describeLedger returns the line that shows ledger.
func describeLedger(ledger *bankaccounts.Ledger) string {
	return fmt.Sprintf("ledger: %d accounts, %d transactions, %s in the bank", ledger.Accounts, ledger.Transactions, bankaccounts.FormatCents(ledger.TotalCents))
}
