package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// worldsEnvOn returns the variables of a Worlds application with salt on
// store ("postgres": a new schema of the test server; "sqlite": a new
// file).
func worldsEnvOn(t *testing.T, store, salt string) map[string]string {
	t.Helper()
	env := map[string]string{"WORLDS_SALT_FOR_DATA_INTEGRITY": salt}
	if store == "postgres" {
		env["DATABASE_URL"], env["WORLDS_POSTGRES_SCHEMA"] = pgtest.ServerURL(t), pgtest.NewSchemaName(t)
	} else {
		env["WORLDS_SQLITE_DBNAME"] = t.TempDir() + "/worlds.db"
	}
	return env
}

// verify checks a schema in the database, or an SQLite database in Go,
// prints what it checked and each problem, and exits 1 on a problem.
func TestVerify(t *testing.T) {
	t.Parallel()
	salt := base64.StdEncoding.EncodeToString([]byte("the salt"))
	for _, store := range []string{"postgres", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			env := worldsEnvOn(t, store, salt)
			verify := func(env map[string]string) (int, string, string) {
				var out, errOut bytes.Buffer
				code := run(ctx, []string{"verify", "Worlds"}, config.Environment{Values: env, Lookup: noEnv}, time.Now, &out, &errOut)
				return code, out.String(), errOut.String()
			}
			leader, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, Lookup: noEnv})
			require.NoError(t, err)
			defer leader.Close()
			require.True(t, leader.HashChain())
			ids, err := counters.MakeWorlds(ctx, leader, 3)
			require.NoError(t, err)

			code, out, errOut := verify(env)
			require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
			require.Contains(t, out, "checked 3 aggregates: 9 events (0 without a hash), 0 snapshots (0 unsealed)\nno problems found\n")
			require.Contains(t, out, "no problems found")

			// An event with no hash after hashed ones, recorded behind the
			// application's back.
			last, err := leader.Recorder().SelectEvents(ctx, ids[1], persistence.EventQuery{Desc: true, Limit: 1})
			require.NoError(t, err)
			forged := last[0].Clone()
			forged.OriginatorVersion++
			forged.Hash = nil
			_, err = leader.Recorder().InsertNotifications(ctx, []persistence.StoredEvent{forged})
			require.NoError(t, err)
			code, out, _ = verify(env)
			require.Equal(t, 1, code, out)
			require.Contains(t, out, "\nevent 4 of "+ids[1].String()+" has no hash, after a hashed event\n")
			require.Contains(t, out, "checked 3 aggregates: 10 events (1 without a hash)")
			require.Contains(t, out, "\n1 problem found\n")

			// Another salt: every hashed event is a problem.
			env["WORLDS_SALT_FOR_DATA_INTEGRITY"] = base64.StdEncoding.EncodeToString([]byte("another"))
			code, out, _ = verify(env)
			require.Equal(t, 1, code, out)
			require.Contains(t, out, "\n10 problems found\n", "9 hashes that do not match, and the event without one")

			env["WORLDS_SALT_FOR_DATA_INTEGRITY"] = "not base64!"
			code, _, errOut = verify(env)
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "WORLDS_SALT_FOR_DATA_INTEGRITY")
			require.NotContains(t, errOut, "not base64")
		})
	}
}

// verify needs a database.
func TestVerifyInMemory(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"verify", "Worlds"}, config.Environment{Lookup: noEnv}, time.Now, &out, &errOut)
	require.Equal(t, 1, code)
	require.Contains(t, errOut.String(), "no database")
}

// verify --strict (or HASH_CHAIN_STRICT) reports every event without a
// hash and every snapshot without a seal, and exits 1: an aggregate whose
// hashes were all removed in the database, and then edited, passes
// without it.
func TestVerifyStrict(t *testing.T) {
	t.Parallel()
	salt := base64.StdEncoding.EncodeToString([]byte("the salt"))
	for _, store := range []string{"postgres", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			env := worldsEnvOn(t, store, salt)
			verify := func(args ...string) (int, string) {
				var out, errOut bytes.Buffer
				code := run(ctx, append([]string{"verify"}, args...), config.Environment{Values: env, Lookup: noEnv}, time.Now, &out, &errOut)
				return code, out.String() + errOut.String()
			}
			leader, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, Lookup: noEnv,
				SnapshottingEnabled: true})
			require.NoError(t, err)
			defer leader.Close()
			ids, err := counters.MakeWorlds(ctx, leader, 2)
			require.NoError(t, err)
			require.NoError(t, app.NewRepository[worlds.World](leader).TakeSnapshot(ctx, ids[1], 0))
			snaps, err := leader.Snapshots().SelectEvents(ctx, ids[1], persistence.EventQuery{})
			require.NoError(t, err)
			require.Len(t, snaps, 1)
			code, out := verify("--strict", "Worlds")
			require.Equal(t, 0, code, out)
			require.Contains(t, out, "strictly: every event must have a hash and every snapshot a seal\n")
			require.Contains(t, out, "\nno problems found\n")

			// Every hash of ids[0] removed, and an event edited; the seal
			// of ids[1]'s snapshot removed.
			var exec func(query string, id uuid.UUID)
			if store == "postgres" {
				exec = func(query string, id uuid.UUID) {
					_, err := leader.Pool().Exec(ctx, strings.ReplaceAll(query, "?", "$1"), id)
					require.NoError(t, err, query)
				}
			} else {
				db, err := sql.Open("sqlite", "file:"+env["WORLDS_SQLITE_DBNAME"]+"?_busy_timeout=5000")
				require.NoError(t, err)
				defer db.Close()
				exec = func(query string, id uuid.UUID) {
					_, err := db.ExecContext(ctx, query, id.String())
					require.NoError(t, err, query)
				}
			}
			exec("UPDATE stored_events SET event_hash = NULL WHERE originator_id = ?", ids[0])
			exec("UPDATE stored_events SET topic = topic || ' ' WHERE originator_id = ? AND originator_version = 2", ids[0])
			exec("UPDATE snapshots SET event_hash = NULL WHERE originator_id = ?", ids[1])
			stripped := len(storedEventsOf(t, leader, ids[0]))

			code, out = verify("Worlds")
			require.Equal(t, 0, code, "not strict, the limit: %s", out)
			require.Contains(t, out, fmt.Sprintf("(%d without a hash), 1 snapshots (1 unsealed)\n", stripped))
			require.Contains(t, out, "not covered (--strict reports them)\n")
			require.Contains(t, out, "\nno problems found\n")

			for name, strict := range map[string]func() (int, string){
				"flag first": func() (int, string) { return verify("--strict", "Worlds") },
				"flag last":  func() (int, string) { return verify("Worlds", "-strict") },
				"variable": func() (int, string) {
					env["WORLDS_HASH_CHAIN_STRICT"] = "yes"
					defer delete(env, "WORLDS_HASH_CHAIN_STRICT")
					return verify("Worlds")
				},
			} {
				code, out = strict()
				require.Equal(t, 1, code, "%s: %s", name, out)
				for v := 1; v <= stripped; v++ {
					require.Contains(t, out, fmt.Sprintf("\nevent %d of %s has no hash (strict: every event must have one)\n", v, ids[0]), name)
				}
				require.Contains(t, out, fmt.Sprintf("\nsnapshot %d of %s is not sealed", snaps[0].OriginatorVersion, ids[1]), name)
				require.Contains(t, out, fmt.Sprintf("\n%d problems found\n", stripped+1), name)
				require.NotContains(t, out, "not covered", name)
			}

			code, out = verify("--strict", "Worlds", "Other")
			require.Equal(t, 2, code, out)
			code, out = verify("--strict")
			require.Equal(t, 2, code, out)
			code, out = verify("--strictly", "Worlds")
			require.Equal(t, 2, code, out)
		})
	}
}

// storedEventsOf returns every recorded event of id.
func storedEventsOf(t *testing.T, a *app.Application, id uuid.UUID) []persistence.StoredEvent {
	t.Helper()
	events, err := a.Recorder().SelectEvents(t.Context(), id, persistence.EventQuery{})
	require.NoError(t, err)
	return events
}
