package pgtest

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewDatabaseURL creates a fresh, empty database on the server returned by
// ServerURL and returns a connection URL for it. A test that needs fixed
// schema names (a reserved word such as "order", say) uses it so that
// parallel runs and leftovers of earlier runs cannot collide. It registers
// a t.Cleanup that drops the database (WITH (FORCE), so connections still
// open are ended); errors from the drop are logged and otherwise ignored.
//
// NewDatabaseURL calls ServerURL, so it skips or fails t in the same way
// when no server is available; it fails t if the database cannot be made.
func NewDatabaseURL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	u, err := url.Parse(server)
	if err != nil || u.Scheme == "" {
		t.Fatalf("pgtest: NewDatabaseURL needs a postgres:// server URL: %v", err)
	}
	name := schemaName(t.Name(), randomHex(randHexLen))
	if err := execOn(server, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := execOn(server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: dropping database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// execOn runs one statement on a connection of its own to url.
func execOn(url, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// NewClusterURL starts a throwaway cluster for t alone, apart from the
// server of ServerURL (as StartCluster does, whatever TEST_DATABASE_URL
// says), and returns the superuser connection URL of its "postgres"
// database. A test that needs two PostgreSQL servers, such as an
// application and its follower on servers of their own, uses it. A
// t.Cleanup stops the cluster and removes its files. Without the local
// PostgreSQL binaries it skips t, or fails it when CI is set.
func NewClusterURL(t testing.TB) string {
	t.Helper()
	c, err := StartCluster()
	if err != nil {
		if os.Getenv(envCI) != "" {
			t.Fatalf("pgtest: cannot start a throwaway cluster (CI is set, so this is fatal): %v", err)
		}
		t.Skipf("pgtest: cannot start a throwaway cluster, skipping: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Logf("pgtest: stopping throwaway cluster: %v", err)
		}
	})
	return c.URL()
}
