package httplog

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/eventsourcing-go/eventsourcing/config"
)

// The variables that ClientOptionsFromEnv reads, each may be prefixed
// with the name of the application whose log is read
// (WORLDS_NOTIFICATION_LOG_CA).
const (
	// EnvClientToken is the bearer token sent with the requests.
	EnvClientToken = "NOTIFICATION_LOG_TOKEN"
	// EnvClientCA names a PEM file of the certificate authorities trusted
	// to sign the log server's certificate; unset, the system's roots.
	EnvClientCA = "NOTIFICATION_LOG_CA"
	// EnvClientCert and EnvClientKey name the PEM files of the client
	// certificate and its private key, presented for mutual TLS: both or
	// neither.
	EnvClientCert = "NOTIFICATION_LOG_CERT"
	EnvClientKey  = "NOTIFICATION_LOG_KEY"
)

// The variables that ServerTLSFromEnv reads, each may be prefixed with
// the name of the application whose log is served.
const (
	// EnvServerCert and EnvServerKey name the PEM files of the server's
	// certificate (with its chain) and private key: both or neither.
	EnvServerCert = "NOTIFICATION_LOG_TLS_CERT"
	EnvServerKey  = "NOTIFICATION_LOG_TLS_KEY"
	// EnvServerClientCA names a PEM file of the certificate authorities
	// whose client certificates the server verifies and admits
	// (HandlerOptions.AllowClientCertificates); it needs EnvServerCert.
	EnvServerClientCA = "NOTIFICATION_LOG_CLIENT_CA"
)

// ClientOptionsFromEnv returns the options of a Client configured by env
// (see EnvClientToken, EnvClientCA, EnvClientCert and EnvClientKey): the
// token, and an HTTPClient with a Timeout of DefaultTimeout whose TLS
// configuration (TLS 1.2 or later) trusts the CA file, if any, and
// presents the client certificate, if any. A file that cannot be read or
// holds no valid PEM, or a certificate without its key or the reverse,
// is a *config.Error naming the variable.
func ClientOptionsFromEnv(env config.Environment) (ClientOptions, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	var err error
	if tlsConfig.RootCAs, err = certPoolFromEnv(env, EnvClientCA); err != nil {
		return ClientOptions{}, err
	}
	cert, err := keyPairFromEnv(env, EnvClientCert, EnvClientKey)
	if err != nil {
		return ClientOptions{}, err
	}
	if cert != nil {
		tlsConfig.Certificates = []tls.Certificate{*cert}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	return ClientOptions{
		Token:      env.String(EnvClientToken, ""),
		HTTPClient: &http.Client{Transport: transport, Timeout: DefaultTimeout},
	}, nil
}

// ServerTLSFromEnv returns the TLS configuration (TLS 1.2 or later) of a
// server of a notification log configured by env (see EnvServerCert,
// EnvServerKey and EnvServerClientCA), or nil when neither certificate
// nor key is set. With a client CA file it verifies the client
// certificates that are given against those CAs
// (tls.VerifyClientCertIfGiven), and its ClientCAs is not nil: serve with
// HandlerOptions.AllowClientCertificates then. A file that cannot be read
// or holds no valid PEM, a certificate without its key or the reverse,
// and a client CA without a certificate, are a *config.Error naming the
// variable.
func ServerTLSFromEnv(env config.Environment) (*tls.Config, error) {
	cert, err := keyPairFromEnv(env, EnvServerCert, EnvServerKey)
	if err != nil {
		return nil, err
	}
	clientCAs, err := certPoolFromEnv(env, EnvServerClientCA)
	if err != nil {
		return nil, err
	}
	if cert == nil {
		if clientCAs != nil {
			name, file, _ := env.Find(EnvServerClientCA)
			return nil, &config.Error{Var: name, Value: file, Reason: fmt.Sprintf("client certificates need TLS: set %s and %s", EnvServerCert, EnvServerKey)}
		}
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	if clientCAs != nil {
		c.ClientCAs, c.ClientAuth = clientCAs, tls.VerifyClientCertIfGiven
	}
	return c, nil
}

// certPoolFromEnv returns the certificates of the PEM file that the
// variable key names, or nil when it is not set.
func certPoolFromEnv(env config.Environment, key string) (*x509.CertPool, error) {
	name, file, _ := env.Find(key)
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &config.Error{Var: name, Value: file, Reason: err.Error()}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, &config.Error{Var: name, Value: file, Reason: "no PEM certificate in the file"}
	}
	return pool, nil
}

// keyPairFromEnv returns the certificate and private key of the PEM files
// that the variables certKey and keyKey name, or nil when neither is set.
func keyPairFromEnv(env config.Environment, certKey, keyKey string) (*tls.Certificate, error) {
	certName, certFile, _ := env.Find(certKey)
	keyName, keyFile, _ := env.Find(keyKey)
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case keyFile == "":
		return nil, &config.Error{Var: keyName, Value: "", Reason: "a private key is needed with " + certName}
	case certFile == "":
		return nil, &config.Error{Var: certName, Value: "", Reason: "a certificate is needed with " + keyName}
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, &config.Error{Var: certName, Value: certFile, Reason: err.Error()}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, &config.Error{Var: keyName, Value: keyFile, Reason: err.Error()}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &config.Error{Var: certName, Value: certFile, Reason: fmt.Sprintf("with the key of %s (%s): %v", keyName, keyFile, err)}
	}
	return &cert, nil
}
