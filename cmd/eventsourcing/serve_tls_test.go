package main

import (
	"bytes"
	"context"
	"io"
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
	"github.com/eventsourcing-go/eventsourcing/internal/testtls"
)

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

	serverCA, clientCA := testtls.NewCA(t, "servers' CA"), testtls.NewCA(t, "followers' CA")
	env["WORLDS_NOTIFICATION_LOG_TLS_CERT"], env["WORLDS_NOTIFICATION_LOG_TLS_KEY"] = serverCA.Issue(t, "server", true)
	env["WORLDS_NOTIFICATION_LOG_CLIENT_CA"] = clientCA.File()
	url, _, stop := startServe(t, env)
	require.True(t, strings.HasPrefix(url, "https://127.0.0.1:"), url)

	follower := map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.File()}
	follower["WORLDS_NOTIFICATION_LOG_CERT"], follower["WORLDS_NOTIFICATION_LOG_KEY"] = clientCA.Issue(t, "ledger", false)
	page, err := clientOf(t, url, follower).ReadNotifications(ctx, 1, 100)
	require.NoError(t, err, "a client certificate of the client CA")
	require.Len(t, page, 9)

	var status *httplog.StatusError
	_, err = clientOf(t, url, map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.File()}).ReadNotifications(ctx, 1, 100)
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
	code, _, stderr = statusOf(map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.File()})
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "401", "status without the client certificate")

	code, stderr = stop()
	require.Equal(t, 0, code, stderr)

	// With a token as well, the token is accepted without a certificate.
	env["WORLDS_NOTIFICATION_LOG_TOKEN"] = "secret"
	url, _, stop = startServe(t, env)
	head, err := clientOf(t, url, map[string]string{"WORLDS_NOTIFICATION_LOG_CA": serverCA.File(), "WORLDS_NOTIFICATION_LOG_TOKEN": "secret"}).MaxNotificationID(ctx)
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
	ca := testtls.NewCA(t, "a CA")
	cert, key := ca.Issue(t, "server", true)
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
		{"a client CA without TLS", map[string]string{"NOTIFICATION_LOG_CLIENT_CA": ca.File()},
			"NOTIFICATION_LOG_CLIENT_CA", ca.File()},
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
