package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// sqliteWorlds opens Worlds, hash-chaining its events, on the SQLite file
// of env; closed at the end of the test.
func sqliteWorlds(t *testing.T, env map[string]string) *worlds.Worlds {
	t.Helper()
	w, err := worlds.NewWorlds(t.Context(), app.Options{Env: env, Lookup: noEnv})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	require.True(t, w.HashChain())
	return w
}

// sqliteWorld records a world with four things happened (versions 1 to 5)
// in w and returns its id.
func sqliteWorld(t *testing.T, w *worlds.Worlds) uuid.UUID {
	t.Helper()
	ctx := t.Context()
	id, err := w.CreateWorld(ctx, "Earth")
	require.NoError(t, err)
	for _, what := range []string{"dinosaurs", "trucks", "internet", "robots"} {
		require.NoError(t, w.MakeItSo(ctx, id, what))
	}
	return id
}

// openSQL opens the SQLite file path with database/sql, as another client
// of the file would; closed at the end of the test.
func openSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000&_txlock=immediate")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// integrityKind returns the kind of the integrity error err ("event",
// "head", "snapshot", "scheme"), its aggregate and version.
func integrityKind(err error) (string, uuid.UUID, int64) {
	var event *integrity.EventHashError
	var head *integrity.HeadHashError
	var snapshot *integrity.SnapshotHashError
	var scheme *integrity.SchemeError
	switch {
	case errors.As(err, &event):
		return "event", event.OriginatorID, event.Version
	case errors.As(err, &head):
		return "head", head.OriginatorID, head.Version
	case errors.As(err, &snapshot):
		return "snapshot", snapshot.OriginatorID, snapshot.Version
	case errors.As(err, &scheme):
		return "scheme", scheme.OriginatorID, scheme.Version
	}
	return "", uuid.Nil, 0
}

// problemLine is a problem as verify prints it.
var problemLine = regexp.MustCompile(`(?m)^event (\d+) of ([0-9a-f-]{36})\b`)

// verifySQLite runs `eventsourcing verify Worlds` with env, and returns
// its exit status, its output, and the versions of the problems it
// printed for id.
func verifySQLite(t *testing.T, env map[string]string, id uuid.UUID) (int, string, []int64) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"verify", worlds.Name}, config.Environment{Values: env, Lookup: noEnv}, time.Now, &out, &errOut)
	var versions []int64
	for _, m := range problemLine.FindAllStringSubmatch(out.String(), -1) {
		require.Equal(t, id.String(), m[2], out.String())
		v, err := strconv.ParseInt(m[1], 10, 64)
		require.NoError(t, err)
		versions = append(versions, v)
	}
	return code, out.String() + errOut.String(), versions
}

// problemsFound is verify's last line for n problems.
func problemsFound(n int) string {
	if n == 1 {
		return "\n1 problem found\n"
	}
	return "\n" + strconv.Itoa(n) + " problems found\n"
}

// Tampering done in SQL on an SQLite file, by another client of the file,
// is refused by the repository with a typed error naming the aggregate
// and the version, and reported by `eventsourcing verify` with exit
// status 1; with plain state and with encrypted and compressed state.
func TestVerifySQLiteTamperedInSQL(t *testing.T) {
	t.Parallel()
	key, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	salt := base64.StdEncoding.EncodeToString([]byte("the salt"))
	// flipByte is SQL that changes the byte at the 1-based position ?2 of
	// the event hash of version ?3 of the aggregate ?1: a blob spliced
	// with ||, which yields text, cast back.
	const flipByte = `UPDATE stored_events SET event_hash = CAST(substr(event_hash, 1, ?2 - 1)
		|| CASE WHEN substr(event_hash, ?2, 1) = x'07' THEN x'08' ELSE x'07' END
		|| substr(event_hash, ?2 + 1) AS BLOB) WHERE originator_id = ?1 AND originator_version = ?3`
	for _, codecs := range []struct {
		name string
		env  map[string]string
	}{{"plain", nil}, {"encrypted and compressed", map[string]string{"CIPHER_KEY": key, "COMPRESSOR_TOPIC": "zlib"}}} {
		t.Run(codecs.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				name    string
				sql     string
				args    []any   // after the aggregate's id
				version int64   // of the repository's error
				as      string  // its type: see integrityKind
				cliAt   []int64 // the versions verify reports
			}{
				{"edited state", `UPDATE stored_events SET state = CAST(state || x'00' AS BLOB) WHERE originator_id = ?1 AND originator_version = 3`,
					nil, 3, "event", []int64{3}},
				{"edited topic", `UPDATE stored_events SET topic = 'worlds:Discarded' WHERE originator_id = ?1 AND originator_version = 2`,
					nil, 2, "event", []int64{2}},
				{"deleted middle event", `DELETE FROM stored_events WHERE originator_id = ?1 AND originator_version = 3`,
					nil, 4, "head", []int64{4}},
				{"deleted first event", `DELETE FROM stored_events WHERE originator_id = ?1 AND originator_version = 1`,
					nil, 2, "event", []int64{2}},
				{"swapped events", `UPDATE stored_events AS a SET topic = b.topic, state = b.state, event_id = b.event_id,
					correlation_id = b.correlation_id, causation_id = b.causation_id, event_hash = b.event_hash
					FROM stored_events AS b WHERE a.originator_id = ?1 AND b.originator_id = ?1
					AND a.originator_version IN (2, 3) AND b.originator_version = 5 - a.originator_version`,
					nil, 2, "event", []int64{2, 3, 4}},
				{"edited hash", flipByte, []any{11, 4}, 4, "event", []int64{4, 5}},
				{"hash removed in the middle", `UPDATE stored_events SET event_hash = NULL WHERE originator_id = ?1 AND originator_version = 3`,
					nil, 3, "head", []int64{3, 4}},
				{"unknown scheme", flipByte, []any{1, 5}, 5, "scheme", []int64{5}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					ctx := t.Context()
					path := t.TempDir() + "/worlds.db"
					env := map[string]string{"WORLDS_SQLITE_DBNAME": path, "WORLDS_SALT_FOR_DATA_INTEGRITY": salt}
					for k, v := range codecs.env {
						env[k] = v
					}
					w := sqliteWorlds(t, env)
					id := sqliteWorld(t, w)
					_, err := w.Repository().Get(ctx, id)
					require.NoError(t, err, "intact")
					code, out, _ := verifySQLite(t, env, id)
					require.Equal(t, 0, code, out)

					before := storedHashes(t, w, id)
					res, err := openSQL(t, path).ExecContext(ctx, tc.sql, append([]any{id.String()}, tc.args...)...)
					require.NoError(t, err)
					n, err := res.RowsAffected()
					require.NoError(t, err)
					require.Positive(t, n, "tampered")
					require.NotEqual(t, before, storedHashes(t, w, id), "the rows changed")

					_, err = w.Repository().Get(ctx, id)
					require.ErrorIs(t, err, domain.ErrDataIntegrity)
					kind, errID, version := integrityKind(err)
					require.Equal(t, tc.as, kind, "%v", err)
					require.Equal(t, id, errID)
					require.Equal(t, tc.version, version, "%v", err)
					require.Contains(t, err.Error(), id.String())
					require.Contains(t, err.Error(), strconv.FormatInt(tc.version, 10))

					code, out, versions := verifySQLite(t, env, id)
					require.Equal(t, 1, code, out)
					require.Equal(t, tc.cliAt, versions, out)
					require.Contains(t, out, problemsFound(len(tc.cliAt)))
				})
			}
		})
	}
}

// storedHashes returns the versions, hashes and states of the events of
// id as recorded, for comparisons.
func storedHashes(t *testing.T, w *worlds.Worlds, id uuid.UUID) []string {
	t.Helper()
	events, err := w.Recorder().SelectEvents(t.Context(), id, persistence.EventQuery{})
	require.NoError(t, err)
	var out []string
	for _, e := range events {
		out = append(out, strconv.FormatInt(e.OriginatorVersion, 10)+" "+e.Topic+" "+string(e.Hash)+" "+string(e.State))
	}
	return out
}

// On an SQLite file, an application reopened with another salt refuses
// its events, and verify with that salt reports every one; events of
// scheme 1 followed by events of scheme 2 verify.
func TestVerifySQLiteSaltAndSchemes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := t.TempDir() + "/worlds.db"
	salt := base64.StdEncoding.EncodeToString([]byte("the salt"))
	env := map[string]string{"WORLDS_SQLITE_DBNAME": path, "WORLDS_SALT_FOR_DATA_INTEGRITY": salt, "HASH_SCHEME": "1"}
	old := sqliteWorlds(t, env)
	id, err := old.CreateWorld(ctx, "Earth")
	require.NoError(t, err)
	require.NoError(t, old.MakeItSo(ctx, id, "dinosaurs"))
	old.Close()

	delete(env, "HASH_SCHEME")
	w := sqliteWorlds(t, env)
	require.NoError(t, w.MakeItSo(ctx, id, "trucks"))
	var schemes []byte
	events, err := w.Recorder().SelectEvents(ctx, id, persistence.EventQuery{})
	require.NoError(t, err)
	for _, e := range events {
		schemes = append(schemes, e.Hash[0])
	}
	require.Equal(t, []byte{integrity.Scheme1, integrity.Scheme1, integrity.Scheme2}, schemes)
	got, err := w.Repository().Get(ctx, id)
	require.NoError(t, err, "scheme 1 then scheme 2 verify")
	require.Equal(t, []string{"dinosaurs", "trucks"}, got.History)
	code, out, versions := verifySQLite(t, env, id)
	require.Equal(t, 0, code, out)
	require.Empty(t, versions)
	require.Contains(t, out, "checked 1 aggregates: 3 events (0 without a hash)")
	require.Contains(t, out, "\nno problems found\n")

	// Another salt.
	other := map[string]string{"WORLDS_SQLITE_DBNAME": path, "WORLDS_SALT_FOR_DATA_INTEGRITY": base64.StdEncoding.EncodeToString([]byte("another"))}
	_, err = sqliteWorlds(t, other).Repository().Get(ctx, id)
	require.ErrorIs(t, err, domain.ErrDataIntegrity)
	var hashErr *integrity.EventHashError
	require.ErrorAs(t, err, &hashErr)
	require.Equal(t, id, hashErr.OriginatorID)
	require.EqualValues(t, 1, hashErr.Version)
	code, out, versions = verifySQLite(t, other, id)
	require.Equal(t, 1, code, out)
	require.Equal(t, []int64{1, 2, 3}, versions, out)
	require.Contains(t, out, problemsFound(3))
}
