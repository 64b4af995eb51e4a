package main

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// verify checks a schema in the database, or an SQLite database in Go,
// prints what it checked and each problem, and exits 1 on a problem.
func TestVerify(t *testing.T) {
	t.Parallel()
	salt := base64.StdEncoding.EncodeToString([]byte("the salt"))
	for _, store := range []string{"postgres", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			env := map[string]string{"WORLDS_SALT_FOR_DATA_INTEGRITY": salt}
			if store == "postgres" {
				env["DATABASE_URL"], env["WORLDS_POSTGRES_SCHEMA"] = pgtest.ServerURL(t), pgtest.NewSchemaName(t)
			} else {
				env["WORLDS_SQLITE_DBNAME"] = t.TempDir() + "/worlds.db"
			}
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
			assert.Contains(t, out, "checked 3 aggregates: 9 events (0 without a hash), 0 snapshots (0 unsealed)\nno problems found\n")
			assert.Contains(t, out, "no problems found")

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
			assert.Contains(t, out, "\nevent 4 of "+ids[1].String()+" has no hash, after a hashed event\n")
			assert.Contains(t, out, "checked 3 aggregates: 10 events (1 without a hash)")
			assert.Contains(t, out, "\n1 problem found\n")

			// Another salt: every hashed event is a problem.
			env["WORLDS_SALT_FOR_DATA_INTEGRITY"] = base64.StdEncoding.EncodeToString([]byte("another"))
			code, out, _ = verify(env)
			require.Equal(t, 1, code, out)
			assert.Contains(t, out, "\n10 problems found\n", "9 hashes that do not match, and the event without one")

			env["WORLDS_SALT_FOR_DATA_INTEGRITY"] = "not base64!"
			code, _, errOut = verify(env)
			require.Equal(t, 1, code)
			assert.Contains(t, errOut, "WORLDS_SALT_FOR_DATA_INTEGRITY")
			assert.NotContains(t, errOut, "not base64")
		})
	}
}

// verify needs a database.
func TestVerifyInMemory(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"verify", "Worlds"}, config.Environment{Lookup: noEnv}, time.Now, &out, &errOut)
	require.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "no database")
}
