package bankaccounts

import (
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// Ledger is the aggregate of the Ledger application: the bank's totals,
// kept from the events of the BankAccounts application. There is one
// ledger per bank, with the ID LedgerID().
type Ledger struct {
	domain.Base
	// Accounts is how many accounts were opened.
	Accounts int64 `json:"accounts"`
	// Transactions is how many transactions were appended to accounts
	// (a transfer is two: a debit and a credit).
	Transactions int64 `json:"transactions"`
	// TotalCents is the sum of all transactions, which is the sum of the
	// balances of all accounts: the money in the bank, in cents.
	TotalCents int64 `json:"total_cents"`
}

// LedgerStarted is the event that creates the Ledger, with zero totals.
type LedgerStarted struct{}

// AccountCounted is the event that counts an account opened.
type AccountCounted struct {
	AccountID uuid.UUID `json:"account_id"`
}

// TransactionRecorded is the event that adds a transaction of Amount
// cents (negative for a debit) of the account AccountID to the Ledger.
type TransactionRecorded struct {
	AccountID     uuid.UUID `json:"account_id"`
	Amount        int64     `json:"amount"`
	TransactionID uuid.UUID `json:"transaction_id,omitzero"`
}

// LedgerID returns the ID of the bank's ledger: the version 5 UUID of
// "/ledger".
func LedgerID() uuid.UUID { return domain.NameID("/ledger") }

// NewLedger creates the ledger, with zero totals, and its pending
// LedgerStarted event.
func NewLedger() (*Ledger, error) {
	return domain.Create[Ledger](LedgerID(), LedgerStarted{})
}

// CountAccount counts the account accountID, just opened.
func (l *Ledger) CountAccount(accountID uuid.UUID) error {
	return domain.Trigger(l, AccountCounted{AccountID: accountID})
}

// RecordTransaction adds a transaction of amount cents of the account
// accountID to the totals. It returns an *InvalidAmountError if the total
// would overflow.
func (l *Ledger) RecordTransaction(accountID uuid.UUID, amount int64, transactionID uuid.UUID) error {
	if (amount > 0 && l.TotalCents > math.MaxInt64-amount) || (amount < 0 && l.TotalCents < math.MinInt64-amount) {
		return &InvalidAmountError{What: "amount", Amount: amount, Reason: "the ledger's total would overflow"}
	}
	return domain.Trigger(l, TransactionRecorded{AccountID: accountID, Amount: amount, TransactionID: transactionID})
}

// Apply evolves the ledger's state from one of its events.
func (l *Ledger) Apply(data any) error {
	switch e := data.(type) {
	case LedgerStarted:
	case AccountCounted:
		l.Accounts++
	case TransactionRecorded:
		l.Transactions++
		l.TotalCents += e.Amount
	default:
		return fmt.Errorf("ledger: unknown event %T", data)
	}
	return nil
}
