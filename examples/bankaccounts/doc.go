// Package bankaccounts is the Python library's bank accounts example: an event-sourced
// BankAccount aggregate with a balance and an overdraft limit, and the
// BankAccounts application that opens accounts, deposits, withdraws and
// transfers funds, and closes accounts.
//
// Money is in integer cents (int64); FormatCents writes an amount as
// "150.00". A transfer saves both accounts' new events in one atomic save,
// so it is recorded entirely or not at all.
//
// Refused commands return errors that can be tested with errors.Is and
// errors.As: *AccountNotFoundError (ErrAccountNotFound, and also
// app.ErrAggregateNotFound), *AccountClosedError (ErrAccountClosed) and
// *InsufficientFundsError (ErrInsufficientFunds), both of which are also
// ErrTransaction, like the Python library's TransactionError, and *InvalidAmountError
// (ErrInvalidAmount) for amounts and overdraft limits that are not
// positive, which the Python library's example asserts.
//
// The application stores in memory by default; set PERSISTENCE_MODULE to
// "postgres" (with DATABASE_URL or the POSTGRES_* variables) in the
// environment or in app.Options.Env to store in PostgreSQL. The program in
// cmd/bankaccounts runs the example; its "bank" and "ledger" modes run
// BankAccounts and the Ledger as two OS processes with databases of their
// own, the Ledger following the BankAccounts' notification log over HTTP.
//
// # The Ledger
//
// System is an event-driven system of the BankAccounts application and
// the Ledger process application, which follows it: LedgerPolicy counts
// the accounts opened and adds every transaction to one Ledger aggregate,
// whose TotalCents is then the money in the bank, the sum of all balances.
// Each event of BankAccounts is processed exactly once, the Ledger's new
// events recorded with a tracking record of the event.
//
//	bank, runner, err := bankaccounts.NewBankAccountsSystem(ctx, system.RunnerOptions{})
//	defer runner.Stop()
//	alice, err := bank.OpenAccount(ctx, "Alice", "alice@example.com")
//	err = bank.DepositFunds(ctx, alice, 200_00)
//	err = runner.WaitCaughtUp(ctx) // the Ledger runs in its own goroutine
//	ledger, err := bankaccounts.GetLedger(ctx, runner.App(bankaccounts.LedgerName))
//
// With a system.SingleThreadedRunner instead, the Ledger is up to date
// when each command returns; WrapBankAccounts gives the commands on the
// runner's BankAccounts application. On PostgreSQL the two applications
// need schemas of their own: BANK_ACCOUNTS_POSTGRES_SCHEMA and
// LEDGER_POSTGRES_SCHEMA, by default "bank_accounts" and "ledger".
package bankaccounts
