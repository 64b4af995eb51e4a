package bankaccounts_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// eachSystemStore runs test as parallel subtests on the in-memory default
// and on PostgreSQL, with the BankAccounts and Ledger applications each in
// a fresh schema.
func eachSystemStore(t *testing.T, test func(t *testing.T, opts system.RunnerOptions)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		test(t, system.RunnerOptions{Lookup: noEnv})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, system.RunnerOptions{Lookup: noEnv, Env: map[string]string{
			"PERSISTENCE_MODULE":            "postgres",
			"DATABASE_URL":                  pgtest.ServerURL(t),
			"BANK_ACCOUNTS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t),
			"LEDGER_POSTGRES_SCHEMA":        pgtest.NewSchemaName(t),
		}})
	})
}

func startBankSystem(t *testing.T, opts system.RunnerOptions) (*bankaccounts.BankAccounts, *system.ConcurrentRunner) {
	t.Helper()
	bank, runner, err := bankaccounts.NewBankAccountsSystem(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = runner.Stop() })
	return bank, runner
}

func ledger(t *testing.T, a *app.Application) *bankaccounts.Ledger {
	t.Helper()
	l, err := bankaccounts.GetLedger(t.Context(), a)
	require.NoError(t, err)
	return l
}

// requireLedgerAgrees checks the ledger of ledgerApp against the
// BankAccounts bank: its total is the sum of the balances of accounts (all
// the bank's accounts), it counts every account and every
// TransactionAppended event of bank's notification log, and it has
// processed every notification of bank exactly once.
func requireLedgerAgrees(t *testing.T, bank *bankaccounts.BankAccounts, ledgerApp *app.Application, accounts []uuid.UUID) {
	t.Helper()
	ctx := t.Context()
	var balances int64
	for _, id := range accounts {
		balances += balance(t, bank, id)
	}
	var transactions, amounts, opened int64
	last := lastNotificationID(t, bank)
	var notifications []persistence.Notification
	for start := int64(1); ; {
		page, err := bank.Log().Select(ctx, start, bank.Log().SectionSize())
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		notifications = append(notifications, page...)
		start = page[len(page)-1].ID + 1
	}
	// IDs may have gaps (a refused save can use one); they increase and end
	// at the last.
	for i := 1; i < len(notifications); i++ {
		require.Greater(t, notifications[i].ID, notifications[i-1].ID)
	}
	require.Equal(t, last, notifications[len(notifications)-1].ID)
	for _, n := range notifications {
		event, err := bank.Mapper().ToDomainEvent(n.StoredEvent)
		require.NoError(t, err)
		switch e := event.Data.(type) {
		case bankaccounts.TransactionAppended:
			transactions++
			amounts += e.Amount
		case bankaccounts.Opened:
			opened++
		}
	}
	require.Equal(t, balances, amounts, "the balances are the sum of the transactions")

	l := ledger(t, ledgerApp)
	require.Equal(t, balances, l.TotalCents, "the ledger's total is the money in the bank")
	require.Equal(t, transactions, l.Transactions, "one transaction per TransactionAppended")
	require.Equal(t, int64(len(accounts)), l.Accounts)
	require.Equal(t, opened, l.Accounts)

	tracked, err := ledgerApp.Recorder().MaxTrackingID(ctx, bankaccounts.Name)
	require.NoError(t, err)
	require.Equal(t, last, tracked, "the ledger processed every notification")
	require.Equal(t, 1+opened+transactions, l.Version(), "LedgerStarted and one event per account and transaction: none twice")
}

func TestLedgerAggregate(t *testing.T) {
	t.Parallel()
	l, err := bankaccounts.NewLedger()
	require.NoError(t, err)
	require.Equal(t, domain.NameID("/ledger"), l.ID())
	require.Equal(t, bankaccounts.LedgerID(), l.ID())
	alice, bob, transfer := uuid.New(), uuid.New(), uuid.New()
	require.NoError(t, l.CountAccount(alice))
	require.NoError(t, l.CountAccount(bob))
	require.NoError(t, l.RecordTransaction(alice, 100_00, uuid.Nil))
	require.NoError(t, l.RecordTransaction(alice, -30_00, transfer))
	require.NoError(t, l.RecordTransaction(bob, 30_00, transfer))
	require.Equal(t, int64(2), l.Accounts)
	require.Equal(t, int64(3), l.Transactions)
	require.Equal(t, int64(100_00), l.TotalCents)

	// A total that would overflow is refused, and nothing changes.
	require.NoError(t, l.RecordTransaction(bob, math.MaxInt64-100_00, uuid.Nil))
	require.ErrorIs(t, l.RecordTransaction(bob, 1, uuid.Nil), bankaccounts.ErrInvalidAmount)
	require.Equal(t, int64(math.MaxInt64), l.TotalCents)
	require.Equal(t, int64(4), l.Transactions)

	replayed, err := domain.Replay[bankaccounts.Ledger](l.CollectEvents())
	require.NoError(t, err)
	require.Equal(t, l.TotalCents, replayed.TotalCents)
	require.Equal(t, l.Transactions, replayed.Transactions)
	require.Equal(t, l.Accounts, replayed.Accounts)
}

func TestSystemIsBankAccountsThenLedger(t *testing.T) {
	t.Parallel()
	sys := bankaccounts.System()
	require.Equal(t, []string{"BankAccounts", "Ledger"}, sys.Names())
	require.Equal(t, []string{"Ledger"}, sys.Followers(bankaccounts.Name))
	require.True(t, sys.IsProcess(bankaccounts.LedgerName))
}

// bankWorkload opens accounts, deposits to each, and then runs
// concurrent transfers and withdrawals between them. A command that
// conflicts with a concurrent one is retried a few times; some are
// refused (insufficient funds, or conflicts still). It returns the
// accounts' IDs.
func bankWorkload(t *testing.T, bank *bankaccounts.BankAccounts, accounts, operations int) []uuid.UUID {
	t.Helper()
	ctx := t.Context()
	ids := make([]uuid.UUID, accounts)
	for i := range ids {
		var err error
		ids[i], err = bank.OpenAccount(ctx, "Holder", "holder@example.com")
		require.NoError(t, err)
		require.NoError(t, bank.DepositFunds(ctx, ids[i], int64(100_00+i)))
	}
	require.NoError(t, bank.SetOverdraftLimit(ctx, ids[0], 50_00))
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		done, refusals int
	)
	for i := range operations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			from, to := ids[rng.IntN(accounts)], ids[rng.IntN(accounts)]
			amount := int64(1_00 + rng.IntN(60_00))
			var err error
			for range 5 {
				if from == to || i%4 == 0 {
					err = bank.WithdrawFunds(ctx, from, amount)
				} else {
					err = bank.TransferFunds(ctx, from, to, amount)
				}
				if !errors.Is(err, persistence.ErrIntegrity) {
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				done++
			case errors.Is(err, persistence.ErrIntegrity), errors.Is(err, bankaccounts.ErrInsufficientFunds):
				refusals++
			default:
				t.Errorf("operation %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d operations recorded, %d refused", done, refusals)
	require.Positive(t, done)
	return ids
}

// With the concurrent runner the Ledger is eventually consistent: once
// it has caught up it agrees with the accounts.
func TestLedgerConcurrentRunner(t *testing.T) {
	t.Parallel()
	eachSystemStore(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		bank, runner := startBankSystem(t, opts)
		ids := bankWorkload(t, bank, 5, 40)
		require.NoError(t, runner.WaitCaughtUp(ctx))
		requireLedgerAgrees(t, bank, runner.App(bankaccounts.LedgerName), ids)

		// More commands, and the Ledger catches up again.
		require.NoError(t, bank.DepositFunds(ctx, ids[1], 100_00)) // whatever the workload left
		require.NoError(t, bank.TransferFunds(ctx, ids[1], ids[2], 1_00))
		more, err := bank.OpenAccount(ctx, "Late", "late@example.com")
		require.NoError(t, err)
		require.NoError(t, bank.DepositFunds(ctx, more, 7_00))
		require.NoError(t, runner.WaitCaughtUp(ctx))
		requireLedgerAgrees(t, bank, runner.App(bankaccounts.LedgerName), append(ids, more))
		require.NoError(t, runner.Stop())
	})
}

// With the single-threaded runner the Ledger is up to date as soon as
// each command returns.
func TestLedgerSingleThreadedRunner(t *testing.T) {
	t.Parallel()
	eachSystemStore(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx := t.Context()
		runner := system.NewSingleThreadedRunner(bankaccounts.System(), opts)
		require.NoError(t, runner.Start(ctx))
		t.Cleanup(func() { require.NoError(t, runner.Stop()) })
		bank := bankaccounts.WrapBankAccounts(runner.App(bankaccounts.Name))
		ledgerApp := runner.App(bankaccounts.LedgerName)

		l := ledger(t, ledgerApp)
		require.Equal(t, int64(0), l.Version(), "no ledger before the first account")
		require.Zero(t, l.TotalCents)

		alice, err := bank.OpenAccount(ctx, "Alice", "alice@example.com")
		require.NoError(t, err)
		require.Equal(t, int64(1), ledger(t, ledgerApp).Accounts)
		bob, err := bank.OpenAccount(ctx, "Bob", "bob@example.com")
		require.NoError(t, err)
		require.NoError(t, bank.DepositFunds(ctx, alice, 200_00))
		l = ledger(t, ledgerApp)
		require.Equal(t, int64(2), l.Accounts)
		require.Equal(t, int64(1), l.Transactions)
		require.Equal(t, int64(200_00), l.TotalCents)

		// A transfer is two transactions and moves no money out of the bank.
		require.NoError(t, bank.TransferFunds(ctx, alice, bob, 75_00))
		l = ledger(t, ledgerApp)
		require.Equal(t, int64(3), l.Transactions)
		require.Equal(t, int64(200_00), l.TotalCents)

		require.NoError(t, bank.WithdrawFunds(ctx, bob, 25_00))
		requireInsufficientFunds(t, bank.WithdrawFunds(ctx, bob, 50_01), bob)
		require.NoError(t, bank.SetOverdraftLimit(ctx, bob, 10_00))
		require.NoError(t, bank.CloseAccount(ctx, alice))
		l = ledger(t, ledgerApp)
		require.Equal(t, int64(4), l.Transactions, "refusals, limits and closing are no transactions")
		require.Equal(t, int64(175_00), l.TotalCents)
		requireLedgerAgrees(t, bank, ledgerApp, []uuid.UUID{alice, bob})

		// More accounts and transactions, one command at a time: the
		// single-threaded runner is not meant for concurrent commands.
		ids := []uuid.UUID{alice, bob}
		for i := range 3 {
			id, err := bank.OpenAccount(ctx, "Holder", "holder@example.com")
			require.NoError(t, err)
			require.NoError(t, bank.DepositFunds(ctx, id, int64(10_00*(i+1))))
			require.NoError(t, bank.TransferFunds(ctx, id, bob, 1_00))
			ids = append(ids, id)
		}
		requireLedgerAgrees(t, bank, ledgerApp, ids)
	})
}

// A policy error (here the ledger's total would overflow) stops the
// concurrent runner, which reports it; the BankAccounts' events are
// recorded all the same.
func TestLedgerPolicyErrorStopsRunner(t *testing.T) {
	t.Parallel()
	eachSystemStore(t, func(t *testing.T, opts system.RunnerOptions) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		bank, runner := startBankSystem(t, opts)
		alice, err := bank.OpenAccount(ctx, "Alice", "alice@example.com")
		require.NoError(t, err)
		bob, err := bank.OpenAccount(ctx, "Bob", "bob@example.com")
		require.NoError(t, err)
		require.NoError(t, bank.DepositFunds(ctx, alice, math.MaxInt64))
		require.NoError(t, bank.DepositFunds(ctx, bob, 1))
		select {
		case <-runner.Stopped():
		case <-ctx.Done():
			t.Fatal("the runner did not stop on the policy error")
		}
		var policyErr *system.PolicyError
		require.ErrorAs(t, runner.Err(), &policyErr)
		require.Equal(t, bankaccounts.LedgerName, policyErr.Application)
		require.Equal(t, bankaccounts.Name, policyErr.Upstream)
		require.Equal(t, lastNotificationID(t, bank), policyErr.Notification)
		require.ErrorIs(t, runner.Err(), bankaccounts.ErrInvalidAmount)
		require.Equal(t, int64(1), balance(t, bank, bob))
		require.Equal(t, int64(math.MaxInt64), ledger(t, runner.App(bankaccounts.LedgerName)).TotalCents)
		require.ErrorIs(t, runner.Stop(), bankaccounts.ErrInvalidAmount)
	})
}

// One schema for both applications would mix their events: refused.
func TestNewBankAccountsSystemRefusesOneSchemaForBoth(t *testing.T) {
	t.Parallel()
	_, _, err := bankaccounts.NewBankAccountsSystem(t.Context(), system.RunnerOptions{Lookup: noEnv, Env: map[string]string{
		"PERSISTENCE_MODULE": "postgres",
		"DATABASE_URL":       pgtest.ServerURL(t),
		"POSTGRES_SCHEMA":    pgtest.NewSchemaName(t),
	}})
	require.ErrorIs(t, err, system.ErrSystem)
	require.ErrorContains(t, err, "BANK_ACCOUNTS_POSTGRES_SCHEMA and LEDGER_POSTGRES_SCHEMA")
}
