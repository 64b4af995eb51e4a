package httplog_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/testtls"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

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
	ca := testtls.NewCA(t, "followers' CA")
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca.Cert)
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

	got, err := clientWith(presenting(ca.Certificate(t, "ledger", false))).ReadNotifications(t.Context(), 1, 10)
	require.NoError(t, err)
	require.Len(t, got, 7)

	var status *httplog.StatusError
	_, err = clientWith(nil).ReadNotifications(t.Context(), 1, 10)
	require.ErrorAs(t, err, &status, "no client certificate")
	require.Equal(t, http.StatusUnauthorized, status.StatusCode)

	// Go's TLS client presents a certificate only if it was issued by one
	// of the CAs the server names: this one is not, so none is sent.
	other := testtls.NewCA(t, "another CA")
	intruder := other.Certificate(t, "intruder", false)
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
