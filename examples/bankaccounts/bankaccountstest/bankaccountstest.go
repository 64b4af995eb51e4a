// Package bankaccountstest holds the checks that the tests of the bank
// accounts example run on its two applications, in this module's tests and
// in the integration suite alike.
package bankaccountstest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
)

// LastTracked returns the last notification of BankAccounts that the
// Ledger application ledger tracked.
func LastTracked(t testing.TB, ledger *app.Application) int64 {
	t.Helper()
	id, err := ledger.Recorder().MaxTrackingID(t.Context(), bankaccounts.Name)
	require.NoError(t, err)
	return id
}

// RequireLedgerExactlyOnce checks that ledger processed every
// notification of bank exactly once: it tracked each notification ID once
// and no other, and counts every Opened and every TransactionAppended
// once, with one event each, its total the sum of the transactions.
func RequireLedgerExactlyOnce(t testing.TB, bank *bankaccounts.BankAccounts, ledger *app.Application) {
	t.Helper()
	ctx := t.Context()
	var ids []int64
	var opened, transactions, amounts int64
	for start := int64(1); ; {
		page, err := bank.Log().ReadNotifications(ctx, start, app.MaxReadLimit)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, n := range page {
			ids = append(ids, n.ID)
			event, err := bank.Mapper().ToDomainEvent(n.StoredEvent)
			require.NoError(t, err)
			switch e := event.Data.(type) {
			case bankaccounts.Opened:
				opened++
			case bankaccounts.TransactionAppended:
				transactions++
				amounts += e.Amount
			}
		}
		start = page[len(page)-1].ID + 1
	}
	rows, err := ledger.Pool().Query(ctx, "SELECT notification_id FROM tracking WHERE application_name = $1 ORDER BY 1", bankaccounts.Name)
	require.NoError(t, err)
	defer rows.Close()
	var tracked []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		tracked = append(tracked, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, ids, tracked, "every notification tracked once, and nothing else")
	l, err := bankaccounts.GetLedger(ctx, ledger)
	require.NoError(t, err)
	require.Equal(t, opened, l.Accounts)
	require.Equal(t, transactions, l.Transactions)
	require.Equal(t, amounts, l.TotalCents)
	require.Equal(t, 1+opened+transactions, l.Version(), "LedgerStarted and one event per account and transaction: none twice")
}

// HasSchema reports whether the database of a has the schema name.
func HasSchema(t testing.TB, a *app.Application, name string) bool {
	t.Helper()
	var n int
	require.NoError(t, a.Pool().QueryRow(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n))
	return n > 0
}
