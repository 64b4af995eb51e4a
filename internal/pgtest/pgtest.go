package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	envURL     = "TEST_DATABASE_URL"
	envCI      = "CI"
	envDurable = "PGTEST_DURABLE"

	// maxIdentLen is PostgreSQL's NAMEDATALEN-1.
	maxIdentLen = 63
	// randHexLen is the number of random hex characters in a schema name.
	randHexLen = 12
)

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error

	mu         sync.Mutex
	running    *Cluster // throwaway cluster started by this process, if any
	mainCalled bool
)

// Main runs the tests of m and then stops the throwaway PostgreSQL cluster
// started by ServerURL, if any, and removes its files. It returns the exit
// code of m.Run. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	mu.Lock()
	mainCalled = true
	mu.Unlock()
	defer stopRunning()
	return m.Run()
}

func stopRunning() {
	mu.Lock()
	c := running
	running = nil
	mu.Unlock()
	if c == nil {
		return
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stopping throwaway cluster: %v\n", err)
	}
}

// ServerURL returns a postgres:// connection URL for a PostgreSQL server the
// test may use. The connection is a superuser one, to a database in which the
// test may create schemas (see NewSchemaName).
//
// The URL in the TEST_DATABASE_URL environment variable is used if it is set.
// Otherwise a throwaway cluster is started from the local PostgreSQL binaries
// the first time ServerURL is called in the test binary; it is stopped by
// Main, which the test binary must therefore call from TestMain.
//
// If no server can be had, ServerURL fails the test when the CI environment
// variable is non-empty, and skips it otherwise. The first successful call
// logs the server version and address to standard error.
func ServerURL(t testing.TB) string {
	t.Helper()
	serverOnce.Do(func() { serverURL, serverErr = resolveServer() })
	if serverErr != nil {
		if os.Getenv(envCI) != "" {
			t.Fatalf("pgtest: no PostgreSQL server available (CI is set, so this is fatal): %v", serverErr)
		} else {
			t.Skipf("pgtest: no PostgreSQL server available, skipping: %v", serverErr)
		}
	}
	return serverURL
}

// resolveServer finds or starts a server, checks that it answers and logs
// which server is in use.
func resolveServer() (string, error) {
	var (
		url    string
		source string
	)
	if u := os.Getenv(envURL); u != "" {
		url, source = u, envURL
	} else {
		c, err := StartCluster()
		if err != nil {
			return "", err
		}
		mu.Lock()
		running = c
		withMain := mainCalled
		mu.Unlock()
		if !withMain {
			fmt.Fprintf(os.Stderr, "pgtest: warning: pgtest.Main is not used by this test binary; the throwaway cluster in %s will not be stopped\n", c.base)
		}
		url, source = c.url, "throwaway cluster"
		if c.durable {
			source = "durable throwaway cluster"
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server, err := Describe(ctx, url)
	if err != nil {
		if source == envURL {
			return "", fmt.Errorf("connecting to %s: %w", envURL, err)
		}
		return "", fmt.Errorf("connecting to throwaway cluster: %w", err)
	}
	fmt.Fprintf(os.Stderr, "pgtest: using %s (%s)\n", server, source)
	return url, nil
}

// Describe connects to url and returns the server's short version string
// and address, as in "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) at
// 127.0.0.1:36445".
func Describe(ctx context.Context, url string) (string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return "", fmt.Errorf("SELECT version(): %w", err)
	}
	// "PostgreSQL 15.18 (Debian ...) on x86_64-pc-linux-gnu, compiled by ..."
	if i := strings.Index(version, " on "); i > 0 {
		version = version[:i]
	}
	cfg := conn.Config()
	return version + " at " + net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), nil
}

// NewSchemaName returns a fresh, unique, valid lower-case PostgreSQL schema
// name for t, built from t's name and random hex digits and at most 63 bytes
// long. It does not create the schema, but it registers a t.Cleanup that
// drops it (DROP SCHEMA IF EXISTS ... CASCADE) on the server returned by
// ServerURL; errors from the drop, for instance because the server is gone,
// are logged and otherwise ignored.
//
// NewSchemaName calls ServerURL, so it skips or fails t in the same way when
// no server is available.
func NewSchemaName(t testing.TB) string {
	t.Helper()
	url := ServerURL(t)
	name := schemaName(t.Name(), randomHex(randHexLen))
	t.Cleanup(func() {
		if err := dropSchema(url, name); err != nil {
			t.Logf("pgtest: dropping schema %s: %v", name, err)
		}
	})
	return name
}

func dropSchema(url, name string) error {
	return execOn(url, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
}

// schemaName builds "t_<sanitized test name>_<suffix>", truncating the test
// name so that the result fits in maxIdentLen bytes.
func schemaName(testName, suffix string) string {
	// Prefer the innermost subtest name; it is the most specific part.
	if i := strings.LastIndexByte(testName, '/'); i >= 0 && i+1 < len(testName) {
		testName = testName[i+1:]
	}
	var b strings.Builder
	lastUnderscore := true // suppress leading underscores
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			lastUnderscore = false
		} else if !lastUnderscore {
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	short := strings.TrimRight(b.String(), "_")
	if max := maxIdentLen - len("t_") - len("_") - len(suffix); len(short) > max {
		short = strings.TrimRight(short[:max], "_")
	}
	if short == "" {
		return "t_" + suffix
	}
	return "t_" + short + "_" + suffix
}

func randomHex(n int) string {
	buf := make([]byte, (n+1)/2)
	if _, err := rand.Read(buf); err != nil {
		panic(errors.New("pgtest: reading random bytes: " + err.Error()))
	}
	return hex.EncodeToString(buf)[:n]
}
