// Package bankaccounts is the seeds' bank accounts example: an event-sourced
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
// ErrTransaction, like the seed's TransactionError, and *InvalidAmountError
// (ErrInvalidAmount) for amounts and overdraft limits that are not
// positive, which the seed asserts.
//
// The application stores in memory by default; set PERSISTENCE_MODULE to
// "postgres" (with DATABASE_URL or the POSTGRES_* variables) in the
// environment or in app.Options.Env to store in PostgreSQL. The program in
// cmd/bankaccounts runs the example.
package bankaccounts
