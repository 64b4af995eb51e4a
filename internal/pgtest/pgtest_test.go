package pgtest

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func connect(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), ServerURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func schemaExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var n int
	err := conn.QueryRow(t.Context(),
		"SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", name).Scan(&n)
	if err != nil {
		t.Fatalf("query schemata: %v", err)
	}
	return n > 0
}

func TestServerURL(t *testing.T) {
	url := ServerURL(t)
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		t.Errorf("ServerURL() = %q, want a postgres:// URL", url)
	}
	if again := ServerURL(t); again != url {
		t.Errorf("second ServerURL() = %q, want %q", again, url)
	}
	var super bool
	if err := connect(t).QueryRow(t.Context(),
		"SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatalf("query: %v", err)
	}
	if !super {
		t.Errorf("ServerURL connection is not a superuser")
	}
}

func TestNewSchemaNameDroppedOnCleanup(t *testing.T) {
	ctx := t.Context()
	conn := connect(t)

	var name string
	t.Run("Uses Schema", func(t *testing.T) {
		name = NewSchemaName(t)
		sc := pgx.Identifier{name}.Sanitize()
		for _, q := range []string{
			"CREATE SCHEMA " + sc,
			"CREATE TABLE " + sc + ".events (id bigserial PRIMARY KEY, body text NOT NULL)",
			"INSERT INTO " + sc + ".events (body) VALUES ('hello')",
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if !schemaExists(t, conn, name) {
			t.Fatalf("schema %s does not exist after CREATE SCHEMA", name)
		}
	})
	if name == "" {
		t.Fatal("subtest did not record a schema name")
	}
	if schemaExists(t, conn, name) {
		t.Errorf("schema %s still exists after the subtest's cleanup", name)
	}
}

func TestNewSchemaNameUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := NewSchemaName(t)
		if seen[n] {
			t.Fatalf("duplicate schema name %q", n)
		}
		seen[n] = true
	}
}

var validSchema = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func TestSchemaName(t *testing.T) {
	suffix := "0123456789ab"
	for _, tc := range []struct{ test, want string }{
		{"TestFoo", "t_testfoo_" + suffix},
		{"TestFoo/Sub Test#01", "t_sub_test_01_" + suffix},
		{"TestFoo/", "t_testfoo_" + suffix},
		{"Test/!!!", "t_" + suffix},
		{"TestÜmlaut--Name__x", "t_test_mlaut_name_x_" + suffix},
		{strings.Repeat("VeryLong", 20), ""},
	} {
		got := schemaName(tc.test, suffix)
		if tc.want != "" && got != tc.want {
			t.Errorf("schemaName(%q) = %q, want %q", tc.test, got, tc.want)
		}
		if !validSchema.MatchString(got) || len(got) > maxIdentLen || !strings.HasSuffix(got, "_"+suffix) {
			t.Errorf("schemaName(%q) = %q: not a valid <=63-byte lower-case identifier ending in the suffix", tc.test, got)
		}
	}
}

func TestVersionLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"9.6", "10", true},
		{"10", "9.6", false},
		{"15", "16", true},
		{"16", "16", false},
		{"9.5", "9.6", true},
	} {
		if got := versionLess(tc.a, tc.b); got != tc.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDurableFromEnv(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"0", false, false},
		{"1", true, false},
		{"true", true, false},
		{"yes please", false, true},
	} {
		t.Setenv(envDurable, tc.value)
		got, err := durableFromEnv()
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s=%q: durableFromEnv() = %v, %v; want %v, error %v", envDurable, tc.value, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestNewClusterURLIsAServerOfItsOwnStoppedOnCleanup(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var url string
	t.Run("Uses Cluster", func(t *testing.T) {
		url = NewClusterURL(t)
		if url == ServerURL(t) {
			t.Fatalf("NewClusterURL() = ServerURL() = %q, want a server of its own", url)
		}
		if _, err := Describe(ctx, url); err != nil {
			t.Fatalf("connecting to the new cluster: %v", err)
		}
	})
	if url == "" {
		return // skipped
	}
	if _, err := Describe(ctx, url); err == nil {
		t.Errorf("the cluster still answers after the test that started it")
	}
}
