package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// only returns an Environment with values and nothing of the process
// environment.
func only(values map[string]string) config.Environment {
	return config.Environment{Values: values, Lookup: func(string) (string, bool) { return "", false }}
}

func checkOutput(t *testing.T, s string) {
	t.Helper()
	require.Contains(t, s, "opened accounts: Alice ")
	require.Contains(t, s, "deposited 200.00 to Alice\n")
	require.Contains(t, s, "transferred 75.00 from Alice to Bob\n")
	require.Contains(t, s, "set Bob's overdraft limit to 50.00\n")
	require.Contains(t, s, "withdrawing 200.00 from Bob refused: balance 75.00, overdraft limit 50.00\n")
	require.Contains(t, s, "transferring 1000.00 from Alice to Bob refused: account ")
	require.Contains(t, s, "has insufficient funds for a transaction of -1000.00: balance 125.00, overdraft limit 0.00\n")
	require.Contains(t, s, "withdrew 100.00 from Bob\n")
	require.Contains(t, s, "balance of Alice: 125.00\nbalance of Bob: -25.00\n")
}

// checkLedger checks the ledger after runs runs on one database: each
// opens two accounts, records four transactions and leaves 100.00.
func checkLedger(t *testing.T, s string, runs int64) {
	t.Helper()
	require.Contains(t, s, fmt.Sprintf("ledger: %d accounts, %d transactions, %s in the bank\n", 2*runs, 4*runs, bankaccounts.FormatCents(100_00*runs)))
}

func TestRunInMemory(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), only(nil), &out))
	require.Contains(t, out.String(), "persistence module: memory\n")
	checkOutput(t, out.String())
	checkLedger(t, out.String(), 1)
}

func TestRunOnPostgresTwice(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{
		"DATABASE_URL":                  pgtest.ServerURL(t),
		"BANK_ACCOUNTS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t),
		"LEDGER_POSTGRES_SCHEMA":        pgtest.NewSchemaName(t),
	})
	for i := range int64(2) { // each run opens its own accounts
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), env, &out))
		require.Contains(t, out.String(), "persistence module: postgres\n")
		checkOutput(t, out.String())
		checkLedger(t, out.String(), i+1) // the ledger counts both runs
	}
}

// The applications need schemas of their own.
func TestRunRefusesOneSchemaForBoth(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := only(map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)})
	require.ErrorContains(t, run(context.Background(), env, &out), "BANK_ACCOUNTS_POSTGRES_SCHEMA and LEDGER_POSTGRES_SCHEMA")
	require.Empty(t, out.String())
}

func TestRunExplicitMemoryModuleWinsOverDatabaseURL(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := only(map[string]string{"DATABASE_URL": "postgres://nowhere.invalid/db", "PERSISTENCE_MODULE": "memory"})
	require.NoError(t, run(context.Background(), env, &out))
	require.Contains(t, out.String(), "persistence module: memory\n")
}
