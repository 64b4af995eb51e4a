package integration

import (
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts/bankaccountstest"
	"github.com/eventsourcing-go/eventsourcing/internal/proctest"
)

// buildBankAccounts builds the bank accounts example's command into a
// temporary directory and returns its path.
func buildBankAccounts(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bankaccounts")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/eventsourcing-go/eventsourcing/examples/bankaccounts/cmd/bankaccounts").CombinedOutput()
	require.NoError(t, err, "build the bankaccounts command:\n%s", out)
	return bin
}

// The bank accounts example as two OS processes (the built command's bank
// and ledger modes), each application in a PostgreSQL container of its
// own, the Ledger following the BankAccounts' log over HTTP by
// configuration alone. While the bank records, the ledger process is
// killed with SIGKILL three times and started again; in the end the
// Ledger has processed every notification exactly once, and neither
// process wrote in the other's database.
func TestBankAndLedgerInTwoProcessesOnTwoContainers(t *testing.T) {
	t.Parallel()
	const (
		token  = "the bank's token"
		rounds = 600 // 7 notifications each
	)
	bankServer, ledgerServer := newServer(t), newServer(t)
	bin := buildBankAccounts(t)
	var bankOut, ledgerOut proctest.Output
	defer func() {
		if t.Failed() {
			t.Logf("the bank's output:\n%s\nthe ledger's output:\n%s", &bankOut, &ledgerOut)
		}
	}()
	bankCmd := proctest.Start(t, exec.Command(bin, "bank"), map[string]string{
		"DATABASE_URL":           bankServer.URL(),
		"NOTIFICATION_LOG_ADDR":  "127.0.0.1:0",
		"NOTIFICATION_LOG_TOKEN": token,
		"DEMO_ROUNDS":            "600",
	}, &bankOut)
	served := regexp.MustCompile(`serving the notification log of BankAccounts \(schema bank_accounts\) on (http://\S+)\n`)
	var url string
	require.True(t, eventually(time.Minute, 10*time.Millisecond, func() bool {
		m := served.FindStringSubmatch(bankOut.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}), "the bank serves its log")

	// The test's own views of the two databases.
	bank, err := bankaccounts.NewBankAccounts(t.Context(), app.Options{Lookup: noEnv,
		Env: map[string]string{"DATABASE_URL": bankServer.URL(), "CREATE_TABLE": "false"}})
	require.NoError(t, err)
	defer bank.Close()
	ledger, err := app.New(t.Context(), app.Options{Name: bankaccounts.LedgerName, Registry: bankaccounts.NewLedgerRegistry(), Lookup: noEnv,
		Env: map[string]string{"DATABASE_URL": ledgerServer.URL()}}) // migrates its schema
	require.NoError(t, err)
	defer ledger.Close()

	ledgerEnv := map[string]string{
		"DATABASE_URL":                         ledgerServer.URL(),
		"BANK_ACCOUNTS_NOTIFICATION_LOG_URL":   url,
		"BANK_ACCOUNTS_NOTIFICATION_LOG_TOKEN": token,
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	deadline := time.Now().Add(4 * time.Minute)
	total := int64(7 * rounds)
	behind := 0 // kills while the bank's log had notifications the ledger had not processed
	for kill := 1; kill <= 3; kill++ {
		before := bankaccountstest.LastTracked(t, ledger)
		progress := int64(50 + rng.IntN(250))
		cmd := proctest.Start(t, exec.Command(bin, "ledger"), ledgerEnv, &ledgerOut)
		require.True(t, eventually(max(time.Until(deadline), time.Second), time.Millisecond, func() bool {
			// A random pause between polls, on purpose: the kill lands at
			// random points of the ledger's work.
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
			id, err := ledger.Recorder().MaxTrackingID(t.Context(), bankaccounts.Name)
			return err == nil && id >= min(before+progress, total-50)
		}), "the ledger makes progress after kill %d", kill-1)
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
	require.True(t, eventually(max(time.Until(deadline), time.Second), 10*time.Millisecond, func() bool {
		return strings.Contains(bankOut.String(), "ran the commands 600 times; the notification log's head is 4200;")
	}), "the bank finishes")
	cmd := proctest.Start(t, exec.Command(bin, "ledger"), ledgerEnv, &ledgerOut)
	require.True(t, eventually(max(time.Until(deadline), time.Second), 20*time.Millisecond, func() bool {
		return strings.Contains(ledgerOut.String(), "processed BankAccounts up to notification 4200; ledger: 1200 accounts, 2400 transactions, 60000.00 in the bank\n")
	}), "the ledger catches up")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "a stopped ledger exits cleanly")
	require.Contains(t, ledgerOut.String(), "Ledger (schema ledger) follows BankAccounts at "+url+";")

	bankaccountstest.RequireLedgerExactlyOnce(t, bank, ledger)
	require.False(t, bankaccountstest.HasSchema(t, bank.Application, "ledger"), "nothing of the Ledger in the bank's database")
	require.False(t, bankaccountstest.HasSchema(t, ledger, "bank_accounts"), "nothing of BankAccounts in the ledger's database")
	require.NoError(t, bankCmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, bankCmd.Wait(), "a stopped bank exits cleanly")
}
