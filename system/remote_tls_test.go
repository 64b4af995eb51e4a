package system_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// pemCA is a certificate authority made for one test, which writes its
// certificates as PEM files.
type pemCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

func newPEMCA(t *testing.T, name string) pemCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	ca := pemCA{cert: cert, key: key, dir: t.TempDir()}
	require.NoError(t, os.WriteFile(ca.file(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return ca
}

// file returns the path of the CA's certificate.
func (ca pemCA) file() string { return filepath.Join(ca.dir, "ca.pem") }

// issue writes a certificate for name signed by ca, for a server on the
// loopback address or a client, and its key, and returns their paths.
func (ca pemCA) issue(t *testing.T, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+"-key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600))
	return certFile, keyFile
}

// RunProcess follows a leader in another database whose log server
// admits client certificates and no token (mutual TLS, configured as
// serve configures it), by configuration alone: the CA that signed the
// server's certificate and the follower's certificate and key, each a
// <LEADER>_NOTIFICATION_LOG_ variable. It processes every notification
// exactly once, and is woken by the leader's later saves.
func TestRunProcessFollowsALeaderOverMutualTLS(t *testing.T) {
	t.Parallel()
	leaderEnv := map[string]string{"DATABASE_URL": pgtest.NewDatabaseURL(t), "WORLDS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t)}
	worldsApp := newApp(t, "Worlds", worlds.NewRegistry(), leaderEnv)
	want := writeWorlds(t, worldsApp, 5, 20)

	serverCA, clientCA := newPEMCA(t, "servers' CA"), newPEMCA(t, "followers' CA")
	serverEnv := map[string]string{"NOTIFICATION_LOG_CLIENT_CA": clientCA.file()}
	serverEnv["NOTIFICATION_LOG_TLS_CERT"], serverEnv["NOTIFICATION_LOG_TLS_KEY"] = serverCA.issue(t, "leader", true)
	tlsConfig, err := httplog.ServerTLSFromEnv(config.Environment{Name: "Worlds", Values: serverEnv, Lookup: noEnv})
	require.NoError(t, err)
	handler, err := httplog.NewHandler(worldsApp.Log(), httplog.HandlerOptions{AllowClientCertificates: true, Watcher: worldsApp})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = tlsConfig
	srv.StartTLS()
	defer srv.Close()

	env := map[string]string{
		"PERSISTENCE_MODULE":          "postgres",
		"DATABASE_URL":                pgtest.NewDatabaseURL(t),
		"COUNTERS_POSTGRES_SCHEMA":    pgtest.NewSchemaName(t),
		"WORLDS_NOTIFICATION_LOG_URL": srv.URL,
		"WORLDS_NOTIFICATION_LOG_CA":  serverCA.file(),
	}
	env["WORLDS_NOTIFICATION_LOG_CERT"], env["WORLDS_NOTIFICATION_LOG_KEY"] = clientCA.issue(t, "counters", false)
	countersApp := newApp(t, "Counters", counters.NewRegistry(), env)
	runCtx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- system.RunProcess(runCtx, counters.System(), "Counters", system.ProcessOptions{
			RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv, PollInterval: time.Hour,
				RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond},
			Logger: slog.New(slog.DiscardHandler),
		})
	}()
	defer func() {
		stop()
		require.NoError(t, <-done, "RunProcess ends cleanly")
	}()
	trackedAtLeast := func(n int64) func() bool {
		return func() bool { got, err := tracked(t.Context(), countersApp); return err == nil && got >= n }
	}

	require.Eventually(t, trackedAtLeast(100), time.Minute, 10*time.Millisecond)
	requireExactlyOnce(t, worldsApp, countersApp, want)
	for what, n := range writeWorlds(t, worldsApp, 2, 10) {
		want[what] += n
	}
	require.Eventually(t, trackedAtLeast(120), 10*time.Second, 10*time.Millisecond, "woken over mutual TLS (it polls once an hour)")
	requireExactlyOnce(t, worldsApp, countersApp, want)
}

// A TLS file that RunProcess cannot read is a configuration error naming
// its variable, and ends RunProcess at once.
func TestRunProcessRefusesAnUnreadableTLSFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.pem")
	env := map[string]string{"PERSISTENCE_MODULE": "postgres", "DATABASE_URL": pgtest.ServerURL(t),
		"COUNTERS_POSTGRES_SCHEMA": pgtest.NewSchemaName(t), "WORLDS_NOTIFICATION_LOG_URL": "https://127.0.0.1:1",
		"WORLDS_NOTIFICATION_LOG_CA": missing}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // ends a RunProcess that started (then nil)
	defer cancel()
	err := system.RunProcess(ctx, counters.System(), "Counters", system.ProcessOptions{
		RunnerOptions: system.RunnerOptions{Env: env, Lookup: noEnv}, Logger: slog.New(slog.DiscardHandler)})
	var cfgErr *config.Error
	require.ErrorAs(t, err, &cfgErr)
	require.Equal(t, "WORLDS_NOTIFICATION_LOG_CA", cfgErr.Var)
	require.Equal(t, missing, cfgErr.Value)
}
