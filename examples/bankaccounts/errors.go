package bankaccounts

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// The errors of refused commands. Test for them with errors.Is; the typed
// errors below carry the details.
var (
	// ErrAccountNotFound is returned for an ID that names no account.
	ErrAccountNotFound = errors.New("account not found")
	// ErrTransaction is the parent of the errors of refused transactions:
	// ErrAccountClosed and ErrInsufficientFunds.
	ErrTransaction = errors.New("transaction refused")
	// ErrAccountClosed is returned for a command on a closed account.
	ErrAccountClosed = errors.New("account closed")
	// ErrInsufficientFunds is returned for a debit that would take an
	// account's balance below its overdraft limit.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrInvalidAmount is returned for an amount or an overdraft limit that
	// is not positive, or a balance that would overflow.
	ErrInvalidAmount = errors.New("invalid amount")
	// ErrSameAccount is returned for a transfer from an account to itself.
	ErrSameAccount = errors.New("cannot transfer from an account to itself")
)

// AccountNotFoundError reports that no account has the ID AccountID. It
// matches ErrAccountNotFound and, through Err, app.ErrAggregateNotFound.
type AccountNotFoundError struct {
	AccountID uuid.UUID
	Err       error // the repository's error
}

func (e *AccountNotFoundError) Error() string {
	return fmt.Sprintf("account %s not found", e.AccountID)
}

// Unwrap returns ErrAccountNotFound and the repository's error.
func (e *AccountNotFoundError) Unwrap() []error { return []error{ErrAccountNotFound, e.Err} }

// AccountClosedError reports a command refused because the account
// AccountID is closed. It matches ErrAccountClosed and ErrTransaction.
type AccountClosedError struct {
	AccountID uuid.UUID
}

func (e *AccountClosedError) Error() string {
	return fmt.Sprintf("account %s is closed", e.AccountID)
}

// Unwrap returns ErrAccountClosed and ErrTransaction.
func (e *AccountClosedError) Unwrap() []error { return []error{ErrAccountClosed, ErrTransaction} }

// InsufficientFundsError reports a transaction of Amount cents (negative
// for a debit) refused because it would take the balance of the account
// AccountID below minus its overdraft limit. It matches
// ErrInsufficientFunds and ErrTransaction.
type InsufficientFundsError struct {
	AccountID      uuid.UUID
	Balance        int64 // the balance before the transaction, in cents
	OverdraftLimit int64 // in cents
	Amount         int64 // the refused transaction, in cents
}

func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("account %s has insufficient funds for a transaction of %s: balance %s, overdraft limit %s",
		e.AccountID, FormatCents(e.Amount), FormatCents(e.Balance), FormatCents(e.OverdraftLimit))
}

// Unwrap returns ErrInsufficientFunds and ErrTransaction.
func (e *InsufficientFundsError) Unwrap() []error {
	return []error{ErrInsufficientFunds, ErrTransaction}
}

// InvalidAmountError reports an amount that is refused: What names it
// ("amount", "overdraft limit") and Reason says why. It matches
// ErrInvalidAmount.
type InvalidAmountError struct {
	What   string
	Amount int64 // in cents
	Reason string
}

func (e *InvalidAmountError) Error() string {
	return fmt.Sprintf("invalid %s %s: %s", e.What, FormatCents(e.Amount), e.Reason)
}

// Unwrap returns ErrInvalidAmount.
func (e *InvalidAmountError) Unwrap() error { return ErrInvalidAmount }

// FormatCents formats an amount of cents as units and two decimal places:
// FormatCents(-40000) is "-400.00".
func FormatCents(cents int64) string {
	sign, u := "", uint64(cents)
	if cents < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}
