package main

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts/bankaccountstest"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
)

// noEnv keeps the process environment out of the test's own views of
// the applications.
func noEnv(string) (string, bool) { return "", false }

// The bank and the ledger modes run as two OS processes, each with a
// PostgreSQL cluster of its own, the Ledger following the BankAccounts'
// log over HTTP by configuration alone, the bank's events encrypted (the
// ledger has the bank's key to decode what it is served). While the bank
// records, the ledger process is killed with SIGKILL three times at
// random points and started again; then the bank, and with it the log
// server, is stopped and started again and records more. In the end the
// Ledger has processed every notification exactly once, and neither
// process wrote in the other's database.
func TestBankAndLedgerInTwoProcessesWithTwoClusters(t *testing.T) {
	t.Parallel()
	const (
		token  = "the bank's token"
		rounds = 400 // 7 notifications each; and 100 more after the restart
	)
	key, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	bankDB := pgtest.NewDatabaseURL(t)  // on the tests' server
	ledgerDB := pgtest.NewClusterURL(t) // a cluster of its own
	var bankOut, ledgerOut proctest.Output
	defer func() {
		if t.Failed() {
			t.Logf("the bank's output:\n%s\nthe ledger's output:\n%s", &bankOut, &ledgerOut)
		}
	}()
	bankEnv := map[string]string{
		"DATABASE_URL":             bankDB,
		"BANK_ACCOUNTS_CIPHER_KEY": key,
		"NOTIFICATION_LOG_ADDR":    "127.0.0.1:0",
		"NOTIFICATION_LOG_TOKEN":   token,
		"DEMO_ROUNDS":              "400",
	}
	bankCmd := proctest.StartSelf(t, bankProcessEnv, bankEnv, &bankOut)
	url := servedURL(t, &bankOut)

	// The test's own views of the two databases.
	bank, err := bankaccounts.NewBankAccounts(t.Context(), app.Options{Lookup: noEnv,
		Env: map[string]string{"DATABASE_URL": bankDB, "CIPHER_KEY": key, "CREATE_TABLE": "false"}})
	require.NoError(t, err)
	defer bank.Close()
	ledger, err := app.New(t.Context(), app.Options{Name: bankaccounts.LedgerName, Registry: bankaccounts.NewLedgerRegistry(), Lookup: noEnv,
		Env: map[string]string{"DATABASE_URL": ledgerDB}}) // migrates its schema
	require.NoError(t, err)
	defer ledger.Close()

	ledgerEnv := map[string]string{
		"DATABASE_URL":                         ledgerDB,
		"BANK_ACCOUNTS_CIPHER_KEY":             key,
		"BANK_ACCOUNTS_NOTIFICATION_LOG_URL":   url,
		"BANK_ACCOUNTS_NOTIFICATION_LOG_TOKEN": token,
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	deadline := time.Now().Add(3 * time.Minute)
	total := int64(7 * rounds)
	behind := 0 // kills while the bank's log had notifications the ledger had not processed
	for kill := 1; kill <= 3; kill++ {
		before := bankaccountstest.LastTracked(t, ledger)
		progress := int64(50 + rng.IntN(250))
		cmd := proctest.StartSelf(t, ledgerProcessEnv, ledgerEnv, &ledgerOut)
		require.Eventually(t, func() bool {
			// A random pause between polls, on purpose: the kill lands at
			// random points of the ledger's work.
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
			id, err := ledger.Recorder().MaxTrackingID(t.Context(), bankaccounts.Name)
			return err == nil && id >= min(before+progress, total-50)
		}, max(time.Until(deadline), time.Second), time.Millisecond, "the ledger makes progress after kill %d", kill-1)
		head, err := bank.Recorder().MaxNotificationID(t.Context())
		require.NoError(t, err)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		at := bankaccountstest.LastTracked(t, ledger)
		if at < head {
			behind++
		}
		t.Logf("kill %d: the ledger at notification %d, the bank's head %d before the kill", kill, at, head)
	}
	require.Positive(t, behind, "a kill landed while the ledger was behind the bank")

	// The last ledger process catches up with everything the bank recorded.
	require.Eventually(t, func() bool {
		return strings.Contains(bankOut.String(), "ran the commands 400 times; the notification log's head is 2800;")
	}, max(time.Until(deadline), time.Second), 10*time.Millisecond, "the bank finishes")
	ledgerCmd := proctest.StartSelf(t, ledgerProcessEnv, ledgerEnv, &ledgerOut)
	require.Eventually(t, func() bool {
		return strings.Contains(ledgerOut.String(), "processed BankAccounts up to notification 2800; ledger: 800 accounts, 1600 transactions, 40000.00 in the bank\n")
	}, max(time.Until(deadline), time.Second), 20*time.Millisecond, "the ledger catches up")

	// The states are served as stored: encrypted.
	client, err := httplog.NewClient(url, httplog.ClientOptions{Token: token})
	require.NoError(t, err)
	served, err := client.ReadNotifications(t.Context(), 1, 10)
	require.NoError(t, err)
	require.Len(t, served, 10)
	for _, n := range served {
		require.NotContains(t, string(n.State), "Alice")
		require.NotContains(t, string(n.State), "alice@example.com")
	}

	// The bank, and its log server, stop and start again on the same
	// address while the ledger follows, and record 100 rounds more.
	require.NoError(t, bankCmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, bankCmd.Wait(), "a stopped bank exits cleanly")
	checkOutput(t, bankOut.String())
	bankEnv["NOTIFICATION_LOG_ADDR"] = strings.TrimPrefix(url, "http://")
	bankEnv["DEMO_ROUNDS"] = "100"
	var bankAgainOut proctest.Output
	bankCmd = proctest.StartSelf(t, bankProcessEnv, bankEnv, &bankAgainOut)
	require.Eventually(t, func() bool {
		return strings.Contains(bankAgainOut.String(), "ran the commands 100 times; the notification log's head is 3500;")
	}, max(time.Until(deadline), time.Second), 10*time.Millisecond, "the bank records again; its output:\n%s", &bankAgainOut)
	require.Eventually(t, func() bool {
		return strings.Contains(ledgerOut.String(), "processed BankAccounts up to notification 3500; ledger: 1000 accounts, 2000 transactions, 50000.00 in the bank\n")
	}, max(time.Until(deadline), time.Second), 20*time.Millisecond, "the ledger catches up again")
	require.NoError(t, ledgerCmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, ledgerCmd.Wait(), "a stopped ledger exits cleanly")
	require.Contains(t, ledgerOut.String(), "Ledger (schema ledger) follows BankAccounts at "+url+";")
	require.True(t, strings.HasSuffix(ledgerOut.String(), "stopped\n"))

	bankaccountstest.RequireLedgerExactlyOnce(t, bank, ledger)
	require.False(t, bankaccountstest.HasSchema(t, bank.Application, "ledger"), "nothing of the Ledger in the bank's database")
	require.False(t, bankaccountstest.HasSchema(t, ledger, "bank_accounts"), "nothing of BankAccounts in the ledger's database")
	require.NoError(t, bankCmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, bankCmd.Wait(), "a stopped bank exits cleanly")
}
