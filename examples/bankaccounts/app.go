package bankaccounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
)

// Name is the application's name. It prefixes the application's
// environment variables (BANK_ACCOUNTS_POSTGRES_SCHEMA) and names its
// Postgres schema ("bank_accounts") by default.
const Name = "BankAccounts"

// The topics under which the example's types are stored.
const (
	TopicBankAccount         = "bankaccounts:BankAccount"
	TopicOpened              = "bankaccounts:Opened"
	TopicTransactionAppended = "bankaccounts:TransactionAppended"
	TopicOverdraftLimitSet   = "bankaccounts:OverdraftLimitSet"
	TopicClosed              = "bankaccounts:Closed"
)

// NewRegistry returns a registry of the BankAccount aggregate and its
// events.
func NewRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(TopicBankAccount, BankAccount{})
	r.Register(TopicOpened, Opened{})
	r.Register(TopicTransactionAppended, TransactionAppended{})
	r.Register(TopicOverdraftLimitSet, OverdraftLimitSet{})
	r.Register(TopicClosed, Closed{})
	return r
}

// BankAccounts is the application of bank accounts. It embeds the
// *app.Application, so Save, Log, Mapper and Close are at hand. It is safe
// for concurrent use; concurrent commands on one account may fail with a
// *persistence.ConcurrencyError, with nothing saved, and can be retried.
type BankAccounts struct {
	*app.Application
	accounts *app.Repository[BankAccount, *BankAccount]
}

// NewBankAccounts builds a BankAccounts application. opts configures it as
// for app.New (Env, Lookup, ...); Name defaults to Name and Registry to
// NewRegistry(). Close it when done.
func NewBankAccounts(ctx context.Context, opts app.Options) (*BankAccounts, error) {
	if opts.Name == "" {
		opts.Name = Name
	}
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &BankAccounts{Application: a, accounts: app.NewRepository[BankAccount](a)}, nil
}

// OpenAccount opens and saves an account and returns its ID.
func (b *BankAccounts) OpenAccount(ctx context.Context, fullName, emailAddress string) (uuid.UUID, error) {
	account, err := Open(fullName, emailAddress)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := b.Save(ctx, account); err != nil {
		return uuid.Nil, fmt.Errorf("open account: %w", err)
	}
	return account.ID(), nil
}

// GetAccount returns the account id, or an *AccountNotFoundError.
func (b *BankAccounts) GetAccount(ctx context.Context, id uuid.UUID) (*BankAccount, error) {
	account, err := b.accounts.Get(ctx, id)
	if errors.Is(err, app.ErrAggregateNotFound) {
		return nil, &AccountNotFoundError{AccountID: id, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("get account %s: %w", id, err)
	}
	return account, nil
}

// GetBalance returns the balance of the account id, in cents.
func (b *BankAccounts) GetBalance(ctx context.Context, id uuid.UUID) (int64, error) {
	account, err := b.GetAccount(ctx, id)
	if err != nil {
		return 0, err
	}
	return account.Balance, nil
}

// GetOverdraftLimit returns the overdraft limit of the account id, in
// cents.
func (b *BankAccounts) GetOverdraftLimit(ctx context.Context, id uuid.UUID) (int64, error) {
	account, err := b.GetAccount(ctx, id)
	if err != nil {
		return 0, err
	}
	return account.OverdraftLimit, nil
}

// DepositFunds adds amount cents, which must be positive, to the balance
// of the account creditAccountID.
func (b *BankAccounts) DepositFunds(ctx context.Context, creditAccountID uuid.UUID, amount int64) error {
	if err := checkPositive(amount); err != nil {
		return err
	}
	return b.update(ctx, creditAccountID, func(a *BankAccount) error { return a.AppendTransaction(amount, uuid.Nil) })
}

// WithdrawFunds takes amount cents, which must be positive, from the
// balance of the account debitAccountID; an *InsufficientFundsError if the
// balance would fall below minus its overdraft limit.
func (b *BankAccounts) WithdrawFunds(ctx context.Context, debitAccountID uuid.UUID, amount int64) error {
	if err := checkPositive(amount); err != nil {
		return err
	}
	return b.update(ctx, debitAccountID, func(a *BankAccount) error { return a.AppendTransaction(-amount, uuid.Nil) })
}

// TransferFunds moves amount cents, which must be positive, from the
// account debitAccountID to the account creditAccountID. Both accounts'
// transactions, which share a new transaction ID, are saved in one atomic
// save: if either is refused (closed account, insufficient funds) or the
// save fails (a concurrent change of either account), nothing is saved.
func (b *BankAccounts) TransferFunds(ctx context.Context, debitAccountID, creditAccountID uuid.UUID, amount int64) error {
	if err := checkPositive(amount); err != nil {
		return err
	}
	if debitAccountID == creditAccountID {
		return fmt.Errorf("transfer %s: %w", debitAccountID, ErrSameAccount)
	}
	debit, err := b.GetAccount(ctx, debitAccountID)
	if err != nil {
		return err
	}
	credit, err := b.GetAccount(ctx, creditAccountID)
	if err != nil {
		return err
	}
	transactionID := uuid.New()
	if err := debit.AppendTransaction(-amount, transactionID); err != nil {
		return err
	}
	if err := credit.AppendTransaction(amount, transactionID); err != nil {
		return err
	}
	if _, err := b.Save(ctx, debit, credit); err != nil {
		return fmt.Errorf("transfer from %s to %s: %w", debitAccountID, creditAccountID, err)
	}
	return nil
}

// SetOverdraftLimit sets the overdraft limit of the account id to limit
// cents, which must be positive (as in the Python library's example; an
// *InvalidAmountError).
func (b *BankAccounts) SetOverdraftLimit(ctx context.Context, id uuid.UUID, limit int64) error {
	return b.update(ctx, id, func(a *BankAccount) error { return a.SetOverdraftLimit(limit) })
}

// CloseAccount closes the account id.
func (b *BankAccounts) CloseAccount(ctx context.Context, id uuid.UUID) error {
	return b.update(ctx, id, (*BankAccount).Close)
}

// update gets the account id, runs command on it and saves it.
func (b *BankAccounts) update(ctx context.Context, id uuid.UUID, command func(*BankAccount) error) error {
	account, err := b.GetAccount(ctx, id)
	if err != nil {
		return err
	}
	if err := command(account); err != nil {
		return err
	}
	if _, err := b.Save(ctx, account); err != nil {
		return fmt.Errorf("save account %s: %w", id, err)
	}
	return nil
}

func checkPositive(amount int64) error {
	if amount <= 0 {
		return &InvalidAmountError{What: "amount", Amount: amount, Reason: "must be positive"}
	}
	return nil
}
