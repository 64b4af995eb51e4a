package integration

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
)

// Account is the aggregate of the fault and bad-input tests: a ledger of
// entries.
type Account struct {
	domain.Base
	Owner   string
	Entries []int64
	Notes   []string
}

type Opened struct{ Owner string }
type Credited struct {
	Amount int64
	Memo   string
}
type Noted struct{ Text string } // a free-form (possibly huge) note

func (a *Account) Apply(event any) error {
	switch e := event.(type) {
	case Opened:
		a.Owner = e.Owner
	case Credited:
		a.Entries = append(a.Entries, e.Amount)
	case Noted:
		a.Notes = append(a.Notes, e.Text)
	}
	return nil
}

const (
	topicAccount  = "ledger:Account"
	topicOpened   = "ledger:Opened"
	topicCredited = "ledger:Credited"
	topicNoted    = "ledger:Noted"
)

func ledgerTypes() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(topicAccount, &Account{})
	r.Register(topicOpened, Opened{})
	r.Register(topicCredited, Credited{})
	r.Register(topicNoted, Noted{})
	return r
}

// openAccount returns a new account with an Opened event and n Credited
// events pending.
func openAccount(t testing.TB, owner string, n int) *Account {
	t.Helper()
	a, err := domain.Create[Account](uuid.New(), Opened{Owner: owner})
	require.NoError(t, err)
	credit(t, a, n)
	return a
}

// credit triggers n Credited events on a.
func credit(t testing.TB, a *Account, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		require.NoError(t, domain.Trigger(a, Credited{Amount: a.Version()*10 + int64(i), Memo: "entry"}))
	}
}

// pgEnv returns the configuration of an application on s in schema, with
// extra key, value pairs.
func pgEnv(s *server, schema string, kv ...string) map[string]string {
	env := map[string]string{
		"PERSISTENCE_MODULE": "postgres",
		"DATABASE_URL":       s.URL(),
		"POSTGRES_SCHEMA":    schema,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// newApp builds an application, closed by t.Cleanup.
func newApp(t testing.TB, name string, reg *codec.Registry, env map[string]string) *app.Application {
	t.Helper()
	a, err := app.New(t.Context(), app.Options{Name: name, Registry: reg, Env: env, Lookup: noEnv})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// eventually reports whether cond holds within timeout, checking it every
// tick: require.Eventually for a caller that adds its own diagnostics (a
// log, a server's output) when the wait fails. cond must not fail t.
func eventually(timeout, tick time.Duration, cond func() bool) bool {
	deadline := time.After(timeout)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for !cond() {
		select {
		case <-deadline:
			return cond()
		case <-ticker.C:
		}
	}
	return true
}
