package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
)

// The variables that make this test binary run main in the bank or the
// ledger mode instead of the tests (see proctest.StartSelf).
const (
	bankProcessEnv   = "BANKACCOUNTS_TEST_BANK_PROCESS"
	ledgerProcessEnv = "BANKACCOUNTS_TEST_LEDGER_PROCESS"
)

func TestMain(m *testing.M) {
	for env, mode := range map[string]string{bankProcessEnv: "bank", ledgerProcessEnv: "ledger"} {
		if os.Getenv(env) != "" {
			pollInterval = 50 * time.Millisecond // the test waits for the ledger
			os.Args = []string{os.Args[0], mode}
			main()
		}
	}
	os.Exit(pgtest.Main(m))
}

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
	require.NoError(t, run(t.Context(), only(nil), &out))
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
		require.NoError(t, run(t.Context(), env, &out))
		require.Contains(t, out.String(), "persistence module: postgres\n")
		checkOutput(t, out.String())
		checkLedger(t, out.String(), i+1) // the ledger counts both runs
	}
}

// With SQLITE_DBNAME alone, the bank records in that file and the Ledger
// in one beside it, and both keep what they recorded across runs.
func TestRunOnSQLiteTwice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := only(map[string]string{"SQLITE_DBNAME": filepath.Join(dir, "bank.db")})
	for i := range int64(2) {
		var out bytes.Buffer
		require.NoError(t, run(t.Context(), env, &out))
		require.Contains(t, out.String(), "persistence module: sqlite\n")
		checkOutput(t, out.String())
		checkLedger(t, out.String(), i+1) // the ledger counts both runs
	}
	require.FileExists(t, filepath.Join(dir, "bank.db"))
	require.FileExists(t, filepath.Join(dir, "bank-ledger.db"))

	// A file of the Ledger's own is used as given.
	env = only(map[string]string{"SQLITE_DBNAME": filepath.Join(dir, "other.db"), "LEDGER_SQLITE_DBNAME": filepath.Join(dir, "books.db")})
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), env, &out))
	checkLedger(t, out.String(), 1)
	require.FileExists(t, filepath.Join(dir, "books.db"))
	require.NoFileExists(t, filepath.Join(dir, "other-ledger.db"))
}

// The applications need schemas of their own.
func TestRunRefusesOneSchemaForBoth(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := only(map[string]string{"DATABASE_URL": pgtest.ServerURL(t), "POSTGRES_SCHEMA": pgtest.NewSchemaName(t)})
	require.ErrorContains(t, run(t.Context(), env, &out), "BANK_ACCOUNTS_POSTGRES_SCHEMA and LEDGER_POSTGRES_SCHEMA")
	require.Empty(t, out.String())
}

func TestRunExplicitMemoryModuleWinsOverDatabaseURL(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := only(map[string]string{"DATABASE_URL": "postgres://nowhere.invalid/db", "PERSISTENCE_MODULE": "memory"})
	require.NoError(t, run(t.Context(), env, &out))
	require.Contains(t, out.String(), "persistence module: memory\n")
}

func TestCommandRefusesUnknownArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"nope"}, {"bank", "ledger"}} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, command(t.Context(), args, only(nil), &out, &errOut))
		require.Equal(t, usage, errOut.String())
		require.Empty(t, out.String())
	}
}

// The bank and ledger modes need PostgreSQL, and the bank a token.
func TestModesRefuseABadConfiguration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mode string
		env  map[string]string
		want string
	}{
		{"bank", nil, errNeedsPostgres.Error()},
		{"ledger", map[string]string{"DATABASE_URL": "postgres://nowhere.invalid/db", "PERSISTENCE_MODULE": "memory"}, errNeedsPostgres.Error()},
		{"bank", map[string]string{"DATABASE_URL": "postgres://nowhere.invalid/db"}, "NOTIFICATION_LOG_TOKEN"},
		{"bank", map[string]string{"DATABASE_URL": "postgres://nowhere.invalid/db", "NOTIFICATION_LOG_TOKEN": "t", "DEMO_ROUNDS": "-1"}, "DEMO_ROUNDS"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 1, command(t.Context(), []string{c.mode}, only(c.env), &out, &errOut), c)
		require.Contains(t, errOut.String(), c.want)
		require.Empty(t, out.String())
	}
}

// servedURL waits until the bank mode's output says where it serves the
// log, and returns that URL.
func servedURL(t *testing.T, out *proctest.Output) string {
	t.Helper()
	served := regexp.MustCompile(`serving the notification log of BankAccounts \(schema \w+\) on (http://\S+)\n`)
	var url string
	require.Eventually(t, func() bool {
		m := served.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, time.Minute, 10*time.Millisecond, "the bank serves its log; output:\n%s", out)
	return url
}

// In one process, each in a goroutine: the bank mode serves its log to
// requests with the token (its variables prefixed with BANK_ACCOUNTS_),
// and the ledger mode, given no URL, follows BankAccounts in its own
// database. Both stop cleanly when their context ends.
func TestBankServesItsLogAndLedgerFollowsInTheDatabase(t *testing.T) {
	t.Parallel()
	env := only(map[string]string{
		"DATABASE_URL":                         pgtest.ServerURL(t),
		"BANK_ACCOUNTS_POSTGRES_SCHEMA":        pgtest.NewSchemaName(t),
		"LEDGER_POSTGRES_SCHEMA":               pgtest.NewSchemaName(t),
		"BANK_ACCOUNTS_NOTIFICATION_LOG_ADDR":  "127.0.0.1:0",
		"BANK_ACCOUNTS_NOTIFICATION_LOG_TOKEN": "the token",
		"BANK_ACCOUNTS_DEMO_ROUNDS":            "2",
	})
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var bankOut, ledgerOut proctest.Output
	bankDone, ledgerDone := make(chan error, 1), make(chan error, 1)
	go func() { bankDone <- runBank(ctx, env, &bankOut) }()
	url := servedURL(t, &bankOut)
	require.Eventually(t, func() bool {
		return strings.Contains(bankOut.String(), "ran the commands 2 times; the notification log's head is 14; stop with Ctrl-C\n")
	}, time.Minute, 10*time.Millisecond)
	checkOutput(t, bankOut.String())
	require.Equal(t, 1, strings.Count(bankOut.String(), "opened accounts:"), "the first round is printed")

	client, err := httplog.NewClient(url, httplog.ClientOptions{Token: "the token"})
	require.NoError(t, err)
	head, err := client.MaxNotificationID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(14), head)
	client, err = httplog.NewClient(url, httplog.ClientOptions{Token: "another token"})
	require.NoError(t, err)
	_, err = client.MaxNotificationID(ctx)
	var status *httplog.StatusError
	require.ErrorAs(t, err, &status)
	require.Equal(t, 401, status.StatusCode)

	// A follower waiting on the log is woken as soon as the bank records
	// events, by any process: here a second BankAccounts on its database.
	// Its waits last 30 s, so only waking answers within the test's 10 s.
	client, err = httplog.NewClient(url, httplog.ClientOptions{Token: "the token", WatchWait: 30 * time.Second})
	require.NoError(t, err)
	wakes := make(chan struct{}, 16)
	watchCtx, stopWatching := context.WithCancel(ctx)
	watchDone := make(chan error, 1)
	go func() { watchDone <- client.Watch(watchCtx, func() { wakes <- struct{}{} }) }()
	waitWake := func(what string) {
		t.Helper()
		select {
		case <-wakes:
		case <-time.After(10 * time.Second):
			t.Fatalf("the watching client was not woken %s", what)
		}
	}
	waitWake("when it started")
	other, err := bankaccounts.NewBankAccounts(ctx, app.Options{Env: env.Values, Lookup: env.Lookup})
	require.NoError(t, err)
	defer other.Close()
	_, err = other.OpenAccount(ctx, "Carol", "carol@example.com")
	require.NoError(t, err)
	waitWake("by a save")
	stopWatching()
	require.NoError(t, <-watchDone)

	go func() { ledgerDone <- runLedger(ctx, env, &ledgerOut) }()
	require.Eventually(t, func() bool {
		return strings.Contains(ledgerOut.String(), "processed BankAccounts up to notification 15; ledger: 5 accounts, 8 transactions, 200.00 in the bank\n")
	}, time.Minute, 10*time.Millisecond, "the ledger catches up; output:\n%s", &ledgerOut)
	require.Contains(t, ledgerOut.String(), "Ledger (schema "+env.Values["LEDGER_POSTGRES_SCHEMA"]+") follows BankAccounts at its database;")
	stop()
	require.NoError(t, <-ledgerDone)
	require.NoError(t, <-bankDone)
	require.True(t, strings.HasSuffix(ledgerOut.String(), "stopped\n"))
}
