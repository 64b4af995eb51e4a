package httplog_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func noEnv(string) (string, bool) { return "", false }

const token = "s3cret-token-for-tests"

// newApp returns an application of opts that reads no process
// environment, closed when the test ends.
func newApp(t *testing.T, opts app.Options) *app.Application {
	t.Helper()
	opts.Lookup = noEnv
	a, err := app.New(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// serve serves log on loopback with the handler of opts (the test token
// when opts admits nothing), wrapped by wrap when not nil.
func serve(t *testing.T, log *app.NotificationLog, opts httplog.HandlerOptions, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	if len(opts.Tokens) == 0 && !opts.Insecure && !opts.AllowClientCertificates {
		opts.Tokens = []string{token}
	}
	h, err := httplog.NewHandler(log, opts)
	require.NoError(t, err)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of the log at url with the test token and
// short retry delays, unless opts says otherwise.
func newClient(t *testing.T, url string, opts httplog.ClientOptions) *httplog.Client {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	if opts.RetryMin == 0 {
		opts.RetryMin, opts.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	c, err := httplog.NewClient(url, opts)
	require.NoError(t, err)
	return c
}

// get sends GET url with the given Authorization header value (none when
// empty) and extra headers, and returns the response and its body.
func get(t *testing.T, url, auth string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// requireJSONError checks that body is exactly {"error": "..."}, with a
// message, and no notifications.
func requireJSONError(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), string(body))
	require.Len(t, m, 1, string(body))
	msg, ok := m["error"].(string)
	require.True(t, ok, string(body))
	require.NotEmpty(t, msg)
	require.NotContains(t, string(body), "originator")
	return msg
}
