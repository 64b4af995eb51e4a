package bankaccounts_test

import (
	"errors"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// noEnv keeps the process environment out of the tests.
func noEnv(string) (string, bool) { return "", false }

// eachStore runs test as parallel subtests on the in-memory default and on
// PostgreSQL (in a fresh schema; skipped when no server can be had).
func eachStore(t *testing.T, test func(t *testing.T, opts app.Options)) {
	t.Helper()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		test(t, app.Options{Lookup: noEnv, Env: env})
	})
}

func newBank(t *testing.T, opts app.Options) *bankaccounts.BankAccounts {
	t.Helper()
	b, err := bankaccounts.NewBankAccounts(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

func balance(t *testing.T, b *bankaccounts.BankAccounts, id uuid.UUID) int64 {
	t.Helper()
	cents, err := b.GetBalance(t.Context(), id)
	require.NoError(t, err)
	return cents
}

func overdraftLimit(t *testing.T, b *bankaccounts.BankAccounts, id uuid.UUID) int64 {
	t.Helper()
	cents, err := b.GetOverdraftLimit(t.Context(), id)
	require.NoError(t, err)
	return cents
}

func lastNotificationID(t *testing.T, b *bankaccounts.BankAccounts) int64 {
	t.Helper()
	id, err := b.Recorder().MaxNotificationID(t.Context())
	require.NoError(t, err)
	return id
}

func requireInsufficientFunds(t *testing.T, err error, account uuid.UUID) *bankaccounts.InsufficientFundsError {
	t.Helper()
	require.ErrorIs(t, err, bankaccounts.ErrInsufficientFunds)
	require.ErrorIs(t, err, bankaccounts.ErrTransaction)
	var insufficient *bankaccounts.InsufficientFundsError
	require.ErrorAs(t, err, &insufficient)
	require.Equal(t, account, insufficient.AccountID)
	return insufficient
}

func requireAccountClosed(t *testing.T, err error, account uuid.UUID) {
	t.Helper()
	require.ErrorIs(t, err, bankaccounts.ErrAccountClosed)
	require.ErrorIs(t, err, bankaccounts.ErrTransaction)
	var closed *bankaccounts.AccountClosedError
	require.ErrorAs(t, err, &closed)
	require.Equal(t, account, closed.AccountID)
}

// E5: the Python library's example test script, in order (amounts in cents).
func TestBankAccountsScript(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		b := newBank(t, opts)

		// Account not found.
		unknown := uuid.New()
		_, err := b.GetBalance(ctx, unknown)
		require.ErrorIs(t, err, bankaccounts.ErrAccountNotFound)
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		var notFound *bankaccounts.AccountNotFoundError
		require.ErrorAs(t, err, &notFound)
		require.Equal(t, unknown, notFound.AccountID)

		// Open an account.
		alice, err := b.OpenAccount(ctx, "Alice", "alice@example.com")
		require.NoError(t, err)
		require.Equal(t, int64(0), balance(t, b, alice))
		account, err := b.GetAccount(ctx, alice)
		require.NoError(t, err)
		require.Equal(t, "Alice", account.FullName)
		require.Equal(t, "alice@example.com", account.EmailAddress)
		require.False(t, account.IsClosed)

		// Deposit and withdraw.
		require.NoError(t, b.DepositFunds(ctx, alice, 200_00))
		require.Equal(t, int64(200_00), balance(t, b, alice))
		require.NoError(t, b.WithdrawFunds(ctx, alice, 50_00))
		require.Equal(t, int64(150_00), balance(t, b, alice))

		// Insufficient funds.
		err = b.WithdrawFunds(ctx, alice, 151_00)
		insufficient := requireInsufficientFunds(t, err, alice)
		require.Equal(t, int64(150_00), insufficient.Balance)
		require.Equal(t, int64(-151_00), insufficient.Amount)
		require.Equal(t, int64(0), insufficient.OverdraftLimit)
		require.Equal(t, int64(150_00), balance(t, b, alice))

		// Transfer.
		bob, err := b.OpenAccount(ctx, "Bob", "bob@example.com")
		require.NoError(t, err)
		require.NoError(t, b.TransferFunds(ctx, alice, bob, 100_00))
		require.Equal(t, int64(50_00), balance(t, b, alice))
		require.Equal(t, int64(100_00), balance(t, b, bob))

		// Transfer with insufficient funds.
		requireInsufficientFunds(t, b.TransferFunds(ctx, alice, bob, 1000_00), alice)
		require.Equal(t, int64(50_00), balance(t, b, alice))
		require.Equal(t, int64(100_00), balance(t, b, bob))

		// Close the account; everything but reading is refused.
		require.NoError(t, b.CloseAccount(ctx, alice))
		requireAccountClosed(t, b.TransferFunds(ctx, alice, bob, 50_00), alice)
		requireAccountClosed(t, b.TransferFunds(ctx, bob, alice, 50_00), alice)
		requireAccountClosed(t, b.WithdrawFunds(ctx, alice, 1_00), alice)
		requireAccountClosed(t, b.DepositFunds(ctx, alice, 1000_00), alice)
		require.Equal(t, int64(50_00), balance(t, b, alice))
		require.Equal(t, int64(100_00), balance(t, b, bob), "Bob's debit of the refused transfer was not saved")

		// Overdraft limit.
		require.Equal(t, int64(0), overdraftLimit(t, b, bob))
		require.NoError(t, b.SetOverdraftLimit(ctx, bob, 500_00))
		err = b.SetOverdraftLimit(ctx, bob, -500_00)
		require.ErrorIs(t, err, bankaccounts.ErrInvalidAmount)
		var invalid *bankaccounts.InvalidAmountError
		require.ErrorAs(t, err, &invalid)
		require.Equal(t, int64(-500_00), invalid.Amount)
		require.Equal(t, int64(500_00), overdraftLimit(t, b, bob))

		// Overdrawn within the limit, then beyond it.
		require.NoError(t, b.WithdrawFunds(ctx, bob, 500_00))
		require.Equal(t, int64(-400_00), balance(t, b, bob))
		insufficient = requireInsufficientFunds(t, b.WithdrawFunds(ctx, bob, 101_00), bob)
		require.Equal(t, int64(-400_00), insufficient.Balance)
		require.Equal(t, int64(500_00), insufficient.OverdraftLimit)
		require.Equal(t, int64(-400_00), balance(t, b, bob))

		// Can't set the overdraft limit of a closed account.
		requireAccountClosed(t, b.SetOverdraftLimit(ctx, alice, 500_00), alice)
	})
}

// A transfer saves both accounts in one atomic save: when it is refused,
// or the save fails, neither account changes.
func TestTransferIsAtomic(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		b := newBank(t, opts)
		alice, err := b.OpenAccount(ctx, "Alice", "alice@example.com")
		require.NoError(t, err)
		bob, err := b.OpenAccount(ctx, "Bob", "bob@example.com")
		require.NoError(t, err)
		require.NoError(t, b.DepositFunds(ctx, alice, 100_00))

		// A transfer is recorded as two notifications in one transaction,
		// sharing a transaction ID.
		before := lastNotificationID(t, b)
		require.NoError(t, b.TransferFunds(ctx, alice, bob, 30_00))
		require.Equal(t, before+2, lastNotificationID(t, b))
		section, err := b.Log().Section(ctx, "4,5")
		require.NoError(t, err)
		require.Len(t, section.Items, 2)
		debit, err := b.Mapper().ToDomainEvent(section.Items[0].StoredEvent)
		require.NoError(t, err)
		credit, err := b.Mapper().ToDomainEvent(section.Items[1].StoredEvent)
		require.NoError(t, err)
		require.Equal(t, alice, debit.OriginatorID)
		require.Equal(t, bob, credit.OriginatorID)
		debitData := debit.Data.(bankaccounts.TransactionAppended)
		creditData := credit.Data.(bankaccounts.TransactionAppended)
		require.Equal(t, int64(-30_00), debitData.Amount)
		require.Equal(t, int64(30_00), creditData.Amount)
		require.NotEqual(t, uuid.Nil, debitData.TransactionID)
		require.Equal(t, debitData.TransactionID, creditData.TransactionID)
		require.Contains(t, string(section.Items[0].State), `"data":{"amount":-3000,"transaction_id":"`+debitData.TransactionID.String()+`"}`)

		// A deposit has no transaction ID, and none is stored.
		deposit, err := b.Log().Section(ctx, "3,3")
		require.NoError(t, err)
		require.Equal(t, bankaccounts.TopicTransactionAppended, deposit.Items[0].Topic)
		require.Contains(t, string(deposit.Items[0].State), `"data":{"amount":10000}`)

		// Refused for insufficient funds: nothing recorded.
		before = lastNotificationID(t, b)
		requireInsufficientFunds(t, b.TransferFunds(ctx, alice, bob, 70_01), alice)
		require.Equal(t, before, lastNotificationID(t, b))
		require.Equal(t, int64(70_00), balance(t, b, alice))
		require.Equal(t, int64(30_00), balance(t, b, bob))

		// Refused on the credit side after the debit was applied in memory:
		// the debit is not recorded.
		carol, err := b.OpenAccount(ctx, "Carol", "carol@example.com")
		require.NoError(t, err)
		require.NoError(t, b.CloseAccount(ctx, carol))
		before = lastNotificationID(t, b)
		requireAccountClosed(t, b.TransferFunds(ctx, alice, carol, 10_00), carol)
		require.Equal(t, before, lastNotificationID(t, b))
		require.Equal(t, int64(70_00), balance(t, b, alice))

		// The save itself fails when the credit account changed after it was
		// read (a concurrent deposit): the debit account's event, first in
		// the save, is not recorded either. This is what TransferFunds does,
		// step by step, with the concurrent deposit in between.
		debitAccount, err := b.GetAccount(ctx, alice)
		require.NoError(t, err)
		creditAccount, err := b.GetAccount(ctx, bob)
		require.NoError(t, err)
		require.NoError(t, debitAccount.AppendTransaction(-20_00, uuid.New()))
		require.NoError(t, creditAccount.AppendTransaction(20_00, uuid.New()))
		require.NoError(t, b.DepositFunds(ctx, bob, 5_00)) // the concurrent change
		before = lastNotificationID(t, b)
		_, err = b.Save(ctx, debitAccount, creditAccount)
		require.ErrorIs(t, err, persistence.ErrIntegrity)
		var conflict *persistence.ConcurrencyError
		require.ErrorAs(t, err, &conflict)
		require.Equal(t, bob, conflict.OriginatorID)
		require.Equal(t, before, lastNotificationID(t, b))
		require.Equal(t, int64(70_00), balance(t, b, alice))
		require.Equal(t, int64(35_00), balance(t, b, bob))
		require.Len(t, debitAccount.PendingEvents(), 1, "refused events stay pending")
	})
}

// Concurrent transfers between two accounts: each one is recorded
// entirely or refused entirely (insufficient funds or a conflict), so no
// money is made or lost.
func TestConcurrentTransfersConserveMoney(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		b := newBank(t, opts)
		alice, err := b.OpenAccount(ctx, "Alice", "alice@example.com")
		require.NoError(t, err)
		bob, err := b.OpenAccount(ctx, "Bob", "bob@example.com")
		require.NoError(t, err)
		require.NoError(t, b.DepositFunds(ctx, alice, 100_00))
		require.NoError(t, b.DepositFunds(ctx, bob, 100_00))

		const n = 16
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			net      int64 // cents moved from Alice to Bob by recorded transfers
			refusals int
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				from, to, amount := alice, bob, int64(10_00+i)
				if i%2 == 1 {
					from, to = bob, alice
				}
				err := b.TransferFunds(ctx, from, to, amount)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && from == alice:
					net += amount
				case err == nil:
					net -= amount
				case errors.Is(err, persistence.ErrIntegrity), errors.Is(err, bankaccounts.ErrInsufficientFunds):
					refusals++
				default:
					t.Errorf("transfer: %v", err)
				}
			}()
		}
		wg.Wait()
		t.Logf("%d of %d transfers refused", refusals, n)
		require.Equal(t, int64(100_00)-net, balance(t, b, alice))
		require.Equal(t, int64(100_00)+net, balance(t, b, bob))
	})
}

func TestRefusedCommands(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		b := newBank(t, opts)
		alice, err := b.OpenAccount(ctx, "Alice", "alice@example.com")
		require.NoError(t, err)
		require.NoError(t, b.DepositFunds(ctx, alice, 10_00))
		before := lastNotificationID(t, b)
		opened, err := b.GetAccount(ctx, alice)
		require.NoError(t, err)

		// Unknown accounts, on every command.
		unknown := uuid.New()
		for name, err := range map[string]error{
			"deposit":        b.DepositFunds(ctx, unknown, 1_00),
			"withdraw":       b.WithdrawFunds(ctx, unknown, 1_00),
			"transfer from":  b.TransferFunds(ctx, unknown, alice, 1_00),
			"transfer to":    b.TransferFunds(ctx, alice, unknown, 1_00),
			"overdraft":      b.SetOverdraftLimit(ctx, unknown, 1_00),
			"close":          b.CloseAccount(ctx, unknown),
			"overdraft read": func() error { _, err := b.GetOverdraftLimit(ctx, unknown); return err }(),
		} {
			require.ErrorIs(t, err, bankaccounts.ErrAccountNotFound, name)
			require.ErrorIs(t, err, app.ErrAggregateNotFound, name)
			require.Contains(t, err.Error(), unknown.String(), name)
		}

		// Amounts must be positive.
		for _, amount := range []int64{0, -1_00} {
			require.ErrorIs(t, b.DepositFunds(ctx, alice, amount), bankaccounts.ErrInvalidAmount)
			require.ErrorIs(t, b.WithdrawFunds(ctx, alice, amount), bankaccounts.ErrInvalidAmount)
			require.ErrorIs(t, b.TransferFunds(ctx, alice, alice, amount), bankaccounts.ErrInvalidAmount)
		}
		require.ErrorIs(t, b.SetOverdraftLimit(ctx, alice, 0), bankaccounts.ErrInvalidAmount, "the Python library's example asserts limit > 0")
		require.ErrorIs(t, b.TransferFunds(ctx, alice, alice, 1_00), bankaccounts.ErrSameAccount)

		// None of the refused commands above recorded anything.
		require.Equal(t, before, lastNotificationID(t, b), "refused commands record nothing")
		unchanged, err := b.GetAccount(ctx, alice)
		require.NoError(t, err)
		require.Equal(t, opened.Version(), unchanged.Version())
		require.Equal(t, opened.OverdraftLimit, unchanged.OverdraftLimit)

		// Withdrawing beyond the overdraft limit leaves the balance as it was.
		require.NoError(t, b.SetOverdraftLimit(ctx, alice, 5_00))
		before = lastNotificationID(t, b)
		err = b.WithdrawFunds(ctx, alice, 15_01)
		insufficient := requireInsufficientFunds(t, err, alice)
		require.Equal(t, int64(-15_01), insufficient.Amount)
		require.Contains(t, err.Error(), "-15.01")
		require.Equal(t, int64(10_00), balance(t, b, alice))
		require.NoError(t, b.WithdrawFunds(ctx, alice, 15_00))
		require.Equal(t, int64(-5_00), balance(t, b, alice))

		// Nothing refused was recorded: only the limit and the withdrawal.
		require.Equal(t, before+1, lastNotificationID(t, b))

		// A balance that would overflow is refused.
		require.NoError(t, b.DepositFunds(ctx, alice, math.MaxInt64))
		require.Equal(t, int64(math.MaxInt64-5_00), balance(t, b, alice))
		require.ErrorIs(t, b.DepositFunds(ctx, alice, 5_01), bankaccounts.ErrInvalidAmount)
		require.NoError(t, b.WithdrawFunds(ctx, alice, math.MaxInt64))
		require.Equal(t, int64(-5_00), balance(t, b, alice))
		requireInsufficientFunds(t, b.WithdrawFunds(ctx, alice, math.MaxInt64), alice)

		// A closed account can be read and closed again, as in the Python library's example.
		require.NoError(t, b.CloseAccount(ctx, alice))
		require.NoError(t, b.CloseAccount(ctx, alice))
		account, err := b.GetAccount(ctx, alice)
		require.NoError(t, err)
		require.True(t, account.IsClosed)
	})
}

func TestFormatCents(t *testing.T) {
	t.Parallel()
	for cents, want := range map[int64]string{
		0: "0.00", 5: "0.05", 150_00: "150.00", -400_00: "-400.00", -1: "-0.01", 123_456_78: "123456.78",
		-9223372036854775808: "-92233720368547758.08",
	} {
		require.Equal(t, want, bankaccounts.FormatCents(cents))
	}
}
