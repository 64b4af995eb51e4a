package integrity_test

import (
	"encoding/hex"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// sqlPool returns a pool on a fresh, migrated schema.
func sqlPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(t.Context(), postgres.Config{ConnString: pgtest.ServerURL(t), Schema: pgtest.NewSchemaName(t), CreateTable: true})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// sqlHash returns the hash of the SQL function stored_events_hash.
func sqlHash(t *testing.T, pool *pgxpool.Pool, salt []byte, scheme int, e persistence.StoredEvent, previous []byte) []byte {
	t.Helper()
	nilable := func(id uuid.UUID) *uuid.UUID {
		if id == uuid.Nil {
			return nil
		}
		return &id
	}
	if salt == nil {
		salt = []byte{}
	}
	if e.State == nil {
		e.State = []byte{}
	}
	var got []byte
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT stored_events_hash($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		salt, scheme, e.OriginatorID, e.OriginatorVersion, e.Topic, e.State, previous,
		nilable(e.EventID), nilable(e.CorrelationID), nilable(e.CausationID)).Scan(&got))
	return got
}

// The SQL functions give the golden hashes, and the hashes of Go for
// random inputs (salts of every length around the HMAC block, topics
// beyond ASCII).
func TestSQLHashMatchesGo(t *testing.T) {
	t.Parallel()
	pool := sqlPool(t)
	for _, g := range goldens() {
		got := sqlHash(t, pool, g.salt, g.scheme, g.event, unhex(t, g.previous))
		require.Equal(t, g.want, hex.EncodeToString(got), g.name)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	for i := range 40 {
		salt := bytes(rng.IntN(130))
		scheme := 1 + i%2
		e := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: rng.Int64() - rng.Int64(),
			Topic: "topic:Événement" + string(rune('a'+i)), State: bytes(rng.IntN(300)), EventID: uuid.New()}
		if i%3 == 0 {
			e.CorrelationID, e.CausationID = uuid.New(), uuid.New()
		}
		previous := bytes(rng.IntN(2) * integrity.Size)
		h, err := integrity.NewHasher(salt, scheme)
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(h.EventHash(e, previous)), hex.EncodeToString(sqlHash(t, pool, salt, scheme, e, previous)),
			"salt %d bytes, scheme %d", len(salt), scheme)
	}
}
