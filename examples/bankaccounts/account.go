package bankaccounts

import (
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// BankAccount is an aggregate: an account with a balance that may go below
// zero down to minus its overdraft limit, and that refuses everything but
// closing once closed. Amounts are in cents.
type BankAccount struct {
	domain.Base
	FullName       string `json:"full_name"`
	EmailAddress   string `json:"email_address"`
	Balance        int64  `json:"balance"`
	OverdraftLimit int64  `json:"overdraft_limit"`
	IsClosed       bool   `json:"is_closed"`
}

// Opened is the event that opens a BankAccount, with a balance and an
// overdraft limit of zero.
type Opened struct {
	FullName     string `json:"full_name"`
	EmailAddress string `json:"email_address"`
}

// TransactionAppended is the event that adds Amount cents (negative for a
// debit) to a BankAccount's balance. The two transactions of a transfer
// share a TransactionID; it is uuid.Nil (and not stored) otherwise.
type TransactionAppended struct {
	Amount        int64     `json:"amount"`
	TransactionID uuid.UUID `json:"transaction_id,omitzero"`
}

// OverdraftLimitSet is the event that sets a BankAccount's overdraft
// limit, in cents.
type OverdraftLimitSet struct {
	OverdraftLimit int64 `json:"overdraft_limit"`
}

// Closed is the event that closes a BankAccount.
type Closed struct{}

// Open opens a BankAccount, with a new random ID.
func Open(fullName, emailAddress string) (*BankAccount, error) {
	return domain.Create[BankAccount](uuid.New(), Opened{FullName: fullName, EmailAddress: emailAddress})
}

// AppendTransaction adds amount cents to the balance (takes them away when
// negative). It returns an *AccountClosedError if the account is closed
// and an *InsufficientFundsError if the balance would fall below minus the
// overdraft limit.
func (a *BankAccount) AppendTransaction(amount int64, transactionID uuid.UUID) error {
	if err := a.checkNotClosed(); err != nil {
		return err
	}
	if err := a.checkSufficientFunds(amount); err != nil {
		return err
	}
	return domain.Trigger(a, TransactionAppended{Amount: amount, TransactionID: transactionID})
}

// SetOverdraftLimit sets how far below zero the balance may go. The limit
// must be positive, as the Python library's example asserts (an
// *InvalidAmountError), and the
// account open (an *AccountClosedError).
func (a *BankAccount) SetOverdraftLimit(limit int64) error {
	if limit <= 0 {
		return &InvalidAmountError{What: "overdraft limit", Amount: limit, Reason: "must be positive"}
	}
	if err := a.checkNotClosed(); err != nil {
		return err
	}
	return domain.Trigger(a, OverdraftLimitSet{OverdraftLimit: limit})
}

// Close closes the account. As in the Python library's example, closing a
// closed account is not refused.
func (a *BankAccount) Close() error {
	return domain.Trigger(a, Closed{})
}

func (a *BankAccount) checkNotClosed() error {
	if a.IsClosed {
		return &AccountClosedError{AccountID: a.ID()}
	}
	return nil
}

func (a *BankAccount) checkSufficientFunds(amount int64) error {
	insufficient := &InsufficientFundsError{AccountID: a.ID(), Balance: a.Balance, OverdraftLimit: a.OverdraftLimit, Amount: amount}
	switch {
	case amount > 0 && a.Balance > math.MaxInt64-amount:
		return &InvalidAmountError{What: "amount", Amount: amount, Reason: "the balance would overflow"}
	case amount < 0 && a.Balance < math.MinInt64-amount:
		return insufficient
	case a.Balance+amount < -a.OverdraftLimit:
		return insufficient
	}
	return nil
}

// Apply evolves the account's state from one of its events.
func (a *BankAccount) Apply(data any) error {
	switch e := data.(type) {
	case Opened:
		a.FullName, a.EmailAddress = e.FullName, e.EmailAddress
	case TransactionAppended:
		a.Balance += e.Amount
	case OverdraftLimitSet:
		a.OverdraftLimit = e.OverdraftLimit
	case Closed:
		a.IsClosed = true
	default:
		return fmt.Errorf("bank account: unknown event %T", data)
	}
	return nil
}
