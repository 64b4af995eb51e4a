package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string // where its PEM files are written
}

func newTestCA(t *testing.T, name string) testCA {
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
	return testCA{cert: cert, key: key, dir: t.TempDir()}
}

// file writes the CA's certificate as PEM and returns its path.
func (ca testCA) file(t *testing.T) string {
	t.Helper()
	path := filepath.Join(ca.dir, "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600))
	return path
}

// issue writes a certificate for name signed by ca, for a server on the
// loopback address or a client, and its key, as PEM files, and returns
// their paths.
func (ca testCA) issue(t *testing.T, name string, server bool) (certFile, keyFile string) {
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

// clientOf returns a log client of url configured by the Worlds
// variables of vars, as followers and status configure theirs, which
// tries each request once.
func clientOf(t *testing.T, url string, vars map[string]string) *httplog.Client {
	t.Helper()
	opts, err := httplog.ClientOptionsFromEnv(config.Environment{Name: counters.WorldsName, Values: vars, Lookup: noEnv})
	require.NoError(t, err)
	opts.MaxAttempts = 1
	c, err := httplog.NewClient(url, opts)
	require.NoError(t, err)
	return c
}

// serve with a TLS certificate and a client CA, and no token, serves
// HTTPS to clients with a certificate of that CA and refuses the others
// with 401; a token, when set too, is still accepted. status reads the
// head of a leader served so, with the client certificate of its
// configuration.
func TestServeMutualTLS(t *testing.T) {
	ctx := t.Context()
	file := filepath.Join(t.TempDir(), "worlds.db")
	env := map[string]string{"WORLDS_SQLITE_DBNAME": file, "NOTIFICATION_LOG_ADDR": "127.0.0.1:0"}
	leader, err := app.New(ctx, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), Env: env, Lookup: noEnv})
	require.NoError(t, err)
	defer leader.Close()
	_, err = counters.MakeWorlds(ctx, leader, 3) // 9 notifications
	require.NoError(t, err)

	serverCA, clientCA := newTestCA(t, "servers' CA"), newTestCA(t, "followers' CA")
	env["WORLDS_NOTIFICATION_LOG_TLS_CERT"], env["WORLDS_NOTIFICATION_LOG_TLS_KEY"] = serverCA.issue(t, "server", true)
	env["WORLDS_NOTIFICATION_LOG_CLIENT_CA"] = clientCA.file(t)
	url, _, stop := startServe(t, env)
	require.True(t, strings.HasPrefix(url, "https://127.0.0.1:"), url)

	follower := map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.file(t)}
	follower["WORLDS_NOTIFICATION_LOG_CERT"], follower["WORLDS_NOTIFICATION_LOG_KEY"] = clientCA.issue(t, "ledger", false)
	page, err := clientOf(t, url, follower).ReadNotifications(ctx, 1, 100)
	require.NoError(t, err, "a client certificate of the client CA")
	require.Len(t, page, 9)

	var status *httplog.StatusError
	_, err = clientOf(t, url, map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.file(t)}).ReadNotifications(ctx, 1, 100)
	require.ErrorAs(t, err, &status, "no client certificate")
	require.Equal(t, http.StatusUnauthorized, status.StatusCode)

	_, err = clientOf(t, url, map[string]string{}).ReadNotifications(ctx, 1, 100)
	require.ErrorContains(t, err, "certificate signed by unknown authority", "the server's CA is not among the system's roots")

	// status, for a follower in an SQLite file, reads the head over mutual TLS.
	countersFile := filepath.Join(t.TempDir(), "counters.db")
	followUpTo(t, leader, map[string]string{"COUNTERS_SQLITE_DBNAME": countersFile}, 6)
	statusOf := func(vars map[string]string) (int, string, string) {
		var out, errOut bytes.Buffer
		vars["WORLDS_NOTIFICATION_LOG_URL"] = url
		code := run(ctx, []string{"status", countersFile}, config.Environment{Values: vars, Lookup: noEnv}, time.Now, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, stderr := statusOf(follower)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, strings.Join(strings.Fields(out), " "), countersFile+" Worlds "+url+" 5 9 4")
	code, _, stderr = statusOf(map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.file(t)})
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "401", "status without the client certificate")

	code, stderr = stop()
	require.Equal(t, 0, code, stderr)

	// With a token as well, the token is accepted without a certificate.
	env["WORLDS_NOTIFICATION_LOG_TOKEN"] = "secret"
	url, _, stop = startServe(t, env)
	head, err := clientOf(t, url, map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.file(t), "WORLDS_NOTIFICATION_LOG_TOKEN": "secret"}).MaxNotificationID(ctx)
	require.NoError(t, err, "the token, without a certificate")
	require.EqualValues(t, 9, head)
	head, err = clientOf(t, url, follower).MaxNotificationID(ctx)
	require.NoError(t, err, "a certificate, without the token")
	require.EqualValues(t, 9, head)
	code, stderr = stop()
	require.Equal(t, 0, code, stderr)
}

// serve refuses TLS settings it cannot use, naming the variable and the
// file, and serves nothing.
func TestServeRefusesBadTLSSettings(t *testing.T) {
	ca := newTestCA(t, "a CA")
	cert, key := ca.issue(t, "server", true)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not PEM"), 0o600))
	db := filepath.Join(t.TempDir(), "worlds.db")
	leader, err := app.New(t.Context(), app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(),
		Env: map[string]string{"SQLITE_DBNAME": db}, Lookup: noEnv})
	require.NoError(t, err)
	leader.Close()

	for _, tc := range []struct {
		name     string
		vars     map[string]string
		variable string // named in the error, with the file
		file     string
	}{
		{"missing certificate file", map[string]string{"WORLDS_NOTIFICATION_LOG_TLS_CERT": missing, "NOTIFICATION_LOG_TLS_KEY": key},
			"WORLDS_NOTIFICATION_LOG_TLS_CERT", missing},
		{"missing key file", map[string]string{"NOTIFICATION_LOG_TLS_CERT": cert, "NOTIFICATION_LOG_TLS_KEY": missing},
			"NOTIFICATION_LOG_TLS_KEY", missing},
		{"a key that is not PEM", map[string]string{"NOTIFICATION_LOG_TLS_CERT": cert, "NOTIFICATION_LOG_TLS_KEY": garbage},
			"NOTIFICATION_LOG_TLS_CERT", cert},
		{"a certificate without its key", map[string]string{"NOTIFICATION_LOG_TLS_CERT": cert},
			"NOTIFICATION_LOG_TLS_KEY", ""},
		{"a client CA that is not PEM", map[string]string{"NOTIFICATION_LOG_TLS_CERT": cert, "NOTIFICATION_LOG_TLS_KEY": key, "WORLDS_NOTIFICATION_LOG_CLIENT_CA": garbage},
			"WORLDS_NOTIFICATION_LOG_CLIENT_CA", garbage},
		{"a missing client CA", map[string]string{"NOTIFICATION_LOG_TLS_CERT": cert, "NOTIFICATION_LOG_TLS_KEY": key, "NOTIFICATION_LOG_CLIENT_CA": missing},
			"NOTIFICATION_LOG_CLIENT_CA", missing},
		{"a client CA without TLS", map[string]string{"NOTIFICATION_LOG_CLIENT_CA": ca.file(t)},
			"NOTIFICATION_LOG_CLIENT_CA", ca.file(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"SQLITE_DBNAME": db, "NOTIFICATION_LOG_ADDR": "127.0.0.1:0", "NOTIFICATION_LOG_TOKEN": "secret"}
			for k, v := range tc.vars {
				vars[k] = v
			}
			var out, errOut bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // ends a serve that started (exit status 0)
			defer cancel()
			code := run(ctx, []string{"serve", "Worlds"}, config.Environment{Values: vars, Lookup: noEnv}, time.Now, &out, &errOut)
			require.Equal(t, 1, code)
			require.Contains(t, errOut.String(), " for "+tc.variable+":")
			require.Contains(t, errOut.String(), `"`+tc.file+`"`)
			require.Empty(t, out.String(), "nothing served")
		})
	}

	// Client certificates need no token; without them a token is needed.
	var errOut bytes.Buffer
	code := run(t.Context(), []string{"serve", "Worlds"}, config.Environment{Values: map[string]string{"SQLITE_DBNAME": db,
		"NOTIFICATION_LOG_TLS_CERT": cert, "NOTIFICATION_LOG_TLS_KEY": key}, Lookup: noEnv}, time.Now, io.Discard, &errOut)
	require.Equal(t, 1, code)
	require.Contains(t, errOut.String(), "NOTIFICATION_LOG_TOKEN")
}
