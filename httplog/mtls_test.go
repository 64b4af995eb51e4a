package httplog_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return testCA{cert: cert, key: key}
}

// clientCertificate returns a client certificate for name signed by ca.
func (ca testCA) clientCertificate(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Mutual TLS with real handshakes: a server whose tls.Config verifies
// client certificates against its CA, and a handler that admits them
// (HandlerOptions.AllowClientCertificates) and has no token. A client
// with a certificate of that CA reads the log; one without a certificate
// gets 401; one with a certificate of another CA is refused in the
// handshake.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	notifications := memoryWorlds(t, 2).Log() // 7 notifications
	h, err := httplog.NewHandler(notifications, httplog.HandlerOptions{AllowClientCertificates: true})
	require.NoError(t, err)
	ca := newTestCA(t, "followers' CA")
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca.cert)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{ClientCAs: clientCAs, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// clientWith returns a log client that trusts the server, sends no
	// token, tries each request once, and presents the certificate that
	// configure sets up (none when nil).
	clientWith := func(configure func(*tls.Config)) *httplog.Client {
		transport := srv.Client().Transport.(*http.Transport).Clone() // trusts the test server's certificate
		if configure != nil {
			configure(transport.TLSClientConfig)
		}
		c, err := httplog.NewClient(srv.URL, httplog.ClientOptions{
			HTTPClient:  &http.Client{Transport: transport, Timeout: 10 * time.Second},
			MaxAttempts: 1,
		})
		require.NoError(t, err)
		return c
	}
	presenting := func(cert tls.Certificate) func(*tls.Config) {
		return func(c *tls.Config) { c.Certificates = []tls.Certificate{cert} }
	}

	got, err := clientWith(presenting(ca.clientCertificate(t, "ledger"))).ReadNotifications(t.Context(), 1, 10)
	require.NoError(t, err)
	require.Len(t, got, 7)

	var status *httplog.StatusError
	_, err = clientWith(nil).ReadNotifications(t.Context(), 1, 10)
	require.ErrorAs(t, err, &status, "no client certificate")
	require.Equal(t, http.StatusUnauthorized, status.StatusCode)

	// Go's TLS client presents a certificate only if it was issued by one
	// of the CAs the server names: this one is not, so none is sent.
	other := newTestCA(t, "another CA")
	intruder := other.clientCertificate(t, "intruder")
	_, err = clientWith(presenting(intruder)).ReadNotifications(t.Context(), 1, 10)
	require.ErrorAs(t, err, &status, "a certificate of another CA, not presented")
	require.Equal(t, http.StatusUnauthorized, status.StatusCode)

	// Presented anyway, the server refuses it in the handshake: no
	// response at all.
	force := func(c *tls.Config) {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &intruder, nil }
	}
	_, err = clientWith(force).ReadNotifications(t.Context(), 1, 10)
	require.Error(t, err, "a certificate of another CA, presented")
	require.False(t, errors.As(err, &status), "refused in the handshake, before any response: %v", err)
	require.ErrorIs(t, err, persistence.ErrConnection)
}
