package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// stored is a schema with some events recorded, and a digest of
// everything in it, to show that a bad input changed nothing.
type stored struct {
	s        *server
	schema   string
	app      *app.Application
	accounts []*Account
	digest   string
}

// storeBaseline records three accounts in a fresh schema with env.
func storeBaseline(t *testing.T, s *server, kv ...string) *stored {
	t.Helper()
	schema := s.newSchema(t)
	a := newApp(t, "Ledger", ledgerTypes(), pgEnv(s, schema, kv...))
	st := &stored{s: s, schema: schema, app: a}
	for i := 0; i < 3; i++ {
		acc := openAccount(t, fmt.Sprintf("owner-%d", i), 3)
		_, err := a.Save(t.Context(), acc)
		require.NoError(t, err)
		st.accounts = append(st.accounts, acc)
	}
	st.digest = st.currentDigest(t)
	return st
}

// currentDigest summarises every row of the schema's tables.
func (st *stored) currentDigest(t *testing.T) string {
	t.Helper()
	var events, snapshots, tracking string
	conn := st.s.connect(t)
	ctx := t.Context()
	require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(
		originator_id || '/' || originator_version || '/' || topic || '/' || md5(state) || '/' || notification_id, ','
		ORDER BY notification_id)), '') FROM %s.stored_events`, st.schema)).Scan(&events))
	require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(
		originator_id || '/' || originator_version || '/' || topic || '/' || md5(state), ','
		ORDER BY originator_id, originator_version)), '') FROM %s.snapshots`, st.schema)).Scan(&snapshots))
	require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(
		application_name || '/' || notification_id, ',' ORDER BY application_name, notification_id)), '')
		FROM %s.tracking`, st.schema)).Scan(&tracking))
	return events + " " + snapshots + " " + tracking
}

// requireUnchanged checks that nothing stored was lost or changed, and
// that every account still reads back as saved.
func (st *stored) requireUnchanged(t *testing.T) {
	t.Helper()
	require.Equal(t, st.digest, st.currentDigest(t), "nothing stored was lost or changed")
	st.requireReadable(t, st.app)
}

func (st *stored) requireReadable(t *testing.T, a *app.Application) {
	t.Helper()
	for _, want := range st.accounts {
		got, err := app.NewRepository[Account](a).Get(t.Context(), want.ID())
		require.NoError(t, err)
		require.Equal(t, want.Version(), got.Version())
		require.Equal(t, want.Entries, got.Entries)
		require.Equal(t, want.Owner, got.Owner)
	}
}

// openWith builds an application on env, returning the error of app.New.
func openWith(env map[string]string) (*app.Application, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return app.New(ctx, app.Options{Name: "Ledger", Registry: ledgerTypes(), Env: env, Lookup: noEnv})
}

// Every bad input gives an error that names the problem and wraps the
// library's sentinel, and nothing already stored is lost or changed.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := t.Context()

	t.Run("malformed DATABASE_URL", func(t *testing.T) {
		t.Parallel()
		st := storeBaseline(t, s)
		for _, bad := range []string{
			"postgres://postgres:hunter2@localhost:notaport/db",               // not a URL: bad port
			"mysql://postgres:hunter2@localhost:5432/db",                      // not postgres
			"postgres://postgres:hunter2@localhost:5432/db?sslmode=sometimes", // a URL, but not a valid connection string
		} {
			_, err := openWith(pgEnv(s, st.schema, "DATABASE_URL", bad))
			require.ErrorIs(t, err, config.ErrInvalid, bad)
			var cfgErr *config.Error
			require.ErrorAs(t, err, &cfgErr, bad)
			require.Equal(t, "DATABASE_URL", cfgErr.Var, "the error names the variable")
			require.NotContains(t, err.Error(), "hunter2", "the password is not shown")
			t.Logf("%s", err)
		}
		st.requireUnchanged(t)
	})

	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		st := storeBaseline(t, s)
		wrong := strings.Replace(s.URL(), pgPassword, "hunter2", 1)
		_, err := openWith(pgEnv(s, st.schema, "DATABASE_URL", wrong))
		require.ErrorIs(t, err, persistence.ErrOperational, "class 28, as PEP 249 drivers classify it")
		require.Equal(t, "28P01", pgCode(err), "invalid_password: %v", err)
		require.Contains(t, err.Error(), "password authentication failed")
		require.NotContains(t, err.Error(), "hunter2", "the password is not shown")
		t.Logf("%s error: %s", errKind(err), err)
		st.requireUnchanged(t)
	})

	t.Run("missing database", func(t *testing.T) {
		t.Parallel()
		st := storeBaseline(t, s)
		_, err := openWith(pgEnv(s, st.schema, "DATABASE_URL", connURL(s.host, s.port, "no_such_database")))
		require.ErrorIs(t, err, persistence.ErrProgramming)
		require.Equal(t, "3D000", pgCode(err), "invalid_catalog_name: %v", err)
		require.Contains(t, err.Error(), `database "no_such_database" does not exist`)
		t.Logf("%s", err)
		st.requireUnchanged(t)
	})

	t.Run("server not listening", func(t *testing.T) {
		t.Parallel()
		port, err := freePort()
		require.NoError(t, err)
		_, err = openWith(pgEnv(s, "ledger", "DATABASE_URL", connURL("127.0.0.1", port, pgDatabase), "POSTGRES_CONNECT_TIMEOUT", "2"))
		require.ErrorIs(t, err, persistence.ErrConnection)
		require.NotContains(t, err.Error(), pgPassword, "the password is not shown")
		t.Logf("%s", err)
	})

	// With CREATE_TABLE=false nothing creates the schema or its tables:
	// opening refuses, naming the schema and the remedy, and nothing is
	// created.
	for _, tc := range []struct {
		name   string
		create bool // create the schema, empty
	}{{"missing schema", false}, {"migrations not applied", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := storeBaseline(t, s)
			schema := s.newSchema(t)
			conn := s.connect(t)
			if tc.create {
				_, err := conn.Exec(ctx, "CREATE SCHEMA "+schema)
				require.NoError(t, err)
			}
			_, err := openWith(pgEnv(s, schema, "CREATE_TABLE", "false"))
			require.ErrorIs(t, err, persistence.ErrProgramming)
			require.Contains(t, err.Error(), schema)
			require.Contains(t, err.Error(), "migrate up")
			t.Logf("open: %s", err)
			var tables int
			require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&tables))
			require.Zero(t, tables, "nothing was created")
			var schemas int
			require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&schemas))
			require.Equal(t, map[bool]int{true: 1, false: 0}[tc.create], schemas)
			st.requireUnchanged(t)
		})
	}

	t.Run("stored state corrupted", func(t *testing.T) {
		t.Parallel()
		st := storeBaseline(t, s)
		victim := st.accounts[1]
		conn := s.connect(t)
		_, err := conn.Exec(ctx, fmt.Sprintf(
			"UPDATE %s.stored_events SET state = '\\x00ff00ff6e6f74206a736f6e'::bytea WHERE originator_id = $1 AND originator_version = 2", st.schema), victim.ID())
		require.NoError(t, err)
		_, err = conn.Exec(ctx, fmt.Sprintf(
			"UPDATE %s.stored_events SET topic = 'ledger:Vanished' WHERE originator_id = $1 AND originator_version = 3", st.schema), st.accounts[2].ID())
		require.NoError(t, err)
		st.digest = st.currentDigest(t) // the corruption is the new "stored"

		_, err = app.NewRepository[Account](st.app).Get(ctx, victim.ID())
		require.ErrorIs(t, err, codec.ErrDecode)
		var mapping *codec.MappingError
		require.ErrorAs(t, err, &mapping)
		require.Equal(t, victim.ID(), mapping.OriginatorID, "the error names the aggregate")
		require.Equal(t, int64(2), mapping.Version, "and the version")
		require.Equal(t, topicCredited, mapping.Topic, "and the topic")
		t.Logf("corrupted state: %s", err)

		_, err = app.NewRepository[Account](st.app).Get(ctx, st.accounts[2].ID())
		require.ErrorIs(t, err, codec.ErrUnknownTopic)
		require.Contains(t, err.Error(), "ledger:Vanished")
		t.Logf("corrupted topic: %s", err)

		// The other account still reads; the corrupted ones are left as
		// they are for an operator to repair.
		got, err := app.NewRepository[Account](st.app).Get(ctx, st.accounts[0].ID())
		require.NoError(t, err)
		require.Equal(t, st.accounts[0].Entries, got.Entries)

		// A process application following the log stops at the corrupted
		// notification, with the error, and tracks nothing from it on.
		follower := system.NewProcessApplication(newApp(t, "Auditor", ledgerTypes(), pgEnv(s, s.newSchema(t))), nil)
		follower.Follow(st.app)
		processed, err := follower.PullAndProcess(ctx, "Ledger")
		require.ErrorIs(t, err, codec.ErrDecode)
		require.Equal(t, 4+1, processed, "the first account and the corrupted one's first event")
		t.Logf("follower: %s", err)
		tracked, err := follower.Recorder().MaxTrackingID(ctx, "Ledger")
		require.NoError(t, err)
		require.Equal(t, int64(5), tracked, "processing stops before the corrupted notification")
		require.Equal(t, st.digest, st.currentDigest(t), "nothing stored was changed")
	})

	t.Run("wrong cipher key", func(t *testing.T) {
		t.Parallel()
		key, err := codec.CreateAESKey(32)
		require.NoError(t, err)
		st := storeBaseline(t, s, "CIPHER_KEY", key, "COMPRESSOR_TOPIC", "zlib")
		other, err := codec.CreateAESKey(32)
		require.NoError(t, err)
		wrong := newApp(t, "Ledger", ledgerTypes(), pgEnv(s, st.schema, "CIPHER_KEY", other, "COMPRESSOR_TOPIC", "zlib"))
		acc := st.accounts[0]
		_, err = app.NewRepository[Account](wrong).Get(ctx, acc.ID())
		require.ErrorIs(t, err, codec.ErrCipherText)
		var mapping *codec.MappingError
		require.ErrorAs(t, err, &mapping)
		require.Equal(t, acc.ID(), mapping.OriginatorID)
		require.NotContains(t, err.Error(), other, "the key is not shown")
		t.Logf("wrong key: %s", err)

		none := newApp(t, "Ledger", ledgerTypes(), pgEnv(s, st.schema))
		_, err = app.NewRepository[Account](none).Get(ctx, acc.ID())
		require.Error(t, err)
		require.ErrorAs(t, err, &mapping)
		require.True(t, errors.Is(err, codec.ErrDecode) || errors.Is(err, codec.ErrCompressedData), "%v", err)
		t.Logf("no key: %s", err)

		_, err = openWith(pgEnv(s, st.schema, "CIPHER_KEY", "not base64!"))
		require.ErrorIs(t, err, config.ErrInvalid)
		require.Contains(t, err.Error(), "CIPHER_KEY")
		t.Logf("malformed key: %s", err)
		st.requireUnchanged(t)
	})

	t.Run("event of an unregistered type", func(t *testing.T) {
		t.Parallel()
		st := storeBaseline(t, s)
		type Unregistered struct{ Why string }
		fine := openAccount(t, "fine", 1)
		odd := openAccount(t, "odd", 1)
		require.NoError(t, domain.Trigger(odd, Unregistered{Why: "nobody registered me"}))
		_, err := st.app.Save(ctx, fine, odd)
		require.ErrorIs(t, err, codec.ErrUnregisteredType)
		var mapping *codec.MappingError
		require.ErrorAs(t, err, &mapping)
		require.Equal(t, odd.ID(), mapping.OriginatorID, "the error names the aggregate")
		require.Equal(t, int64(3), mapping.Version, "and the version")
		require.Contains(t, err.Error(), "Unregistered", "and the type")
		t.Logf("save: %s", err)
		require.Len(t, fine.PendingEvents(), 2, "nothing of the save was recorded: all pending")
		st.requireUnchanged(t)

		// A reader whose registry lacks a stored topic.
		partial := codec.NewRegistry()
		partial.Register(topicAccount, &Account{})
		partial.Register(topicOpened, Opened{})
		reader := newApp(t, "Ledger", partial, pgEnv(s, st.schema))
		_, err = app.NewRepository[Account](reader).Get(ctx, st.accounts[0].ID())
		require.ErrorIs(t, err, codec.ErrUnknownTopic)
		require.Contains(t, err.Error(), topicCredited)
		t.Logf("read: %s", err)
		st.requireUnchanged(t)
	})

	t.Run("over-large event", func(t *testing.T) {
		t.Parallel()
		st := storeBaseline(t, s)
		const size = 50 << 20
		rng := rand.New(rand.NewPCG(1, 2))
		text := make([]byte, size)
		const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		for i := range text {
			text[i] = letters[rng.IntN(len(letters))]
		}
		big := openAccount(t, "big", 1)
		require.NoError(t, domain.Trigger(big, Noted{Text: string(text)}))
		small := openAccount(t, "small", 1)
		start := time.Now()
		ids, err := st.app.Save(ctx, big, small)
		if err != nil {
			// Refused: it must say why, and record nothing.
			t.Logf("a %d MB event was refused: %s error: %v", size>>20, errKind(err), err)
			require.ErrorIs(t, err, persistence.ErrPersistence)
			require.Len(t, big.PendingEvents(), 3)
			st.requireUnchanged(t)
			return
		}
		t.Logf("a %d MB event saved in %v, notifications %v", size>>20, time.Since(start).Round(time.Millisecond), ids)
		require.Len(t, ids, 5)
		got, err := app.NewRepository[Account](st.app).Get(ctx, big.ID())
		require.NoError(t, err)
		require.Len(t, got.Notes, 1)
		require.Equal(t, len(text), len(got.Notes[0]))
		require.True(t, got.Notes[0] == string(text), "the event reads back unchanged")
		section, err := st.app.Log().Section(ctx, fmt.Sprintf("%d,%d", ids[0], ids[4]))
		require.NoError(t, err)
		require.Len(t, section.Items, 5)
		var stateSize int
		require.NoError(t, s.connect(t).QueryRow(ctx, fmt.Sprintf(
			"SELECT octet_length(state) FROM %s.stored_events WHERE originator_id = $1 AND originator_version = 3", st.schema), big.ID()).Scan(&stateSize))
		require.Greater(t, stateSize, size)
		// The rows stored before are unchanged.
		var before string
		require.NoError(t, s.connect(t).QueryRow(ctx, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(
			originator_id || '/' || originator_version || '/' || topic || '/' || md5(state) || '/' || notification_id, ','
			ORDER BY notification_id)), '') FROM %s.stored_events WHERE notification_id < $1`, st.schema), ids[0]).Scan(&before))
		require.Equal(t, strings.Fields(st.digest)[0], before, "nothing stored before was changed")
		st.requireReadable(t, st.app)
	})
}
