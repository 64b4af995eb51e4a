package httplog_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
)

// memoryWorlds returns a Worlds application in memory with sections of 5
// and n worlds made (n = 2 gives 7 notifications).
func memoryWorlds(t *testing.T, n int) *app.Application {
	t.Helper()
	a := newApp(t, app.Options{Name: counters.WorldsName, Registry: worlds.NewRegistry(), SectionSize: 5,
		Env: map[string]string{"PERSISTENCE_MODULE": "memory"}})
	_, err := counters.MakeWorlds(t.Context(), a, n)
	require.NoError(t, err)
	return a
}

func TestNewHandlerNeedsCredentials(t *testing.T) {
	t.Parallel()
	log := memoryWorlds(t, 0).Log()
	_, err := httplog.NewHandler(log, httplog.HandlerOptions{})
	require.ErrorIs(t, err, httplog.ErrNoCredentials)
	_, err = httplog.NewHandler(log, httplog.HandlerOptions{Tokens: []string{"a", ""}})
	require.Error(t, err, "an empty token")
	_, err = httplog.NewHandler(nil, httplog.HandlerOptions{Insecure: true})
	require.Error(t, err, "no log")

	srv := serve(t, log, httplog.HandlerOptions{Insecure: true}, nil)
	resp, body := get(t, srv.URL+"/head", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "Insecure serves anyone")
	require.JSONEq(t, `{"max_notification_id": 0}`, string(body))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}

// Malformed section ids, starts and limits out of range, non-numbers and
// unknown parameters get 400 with a JSON error; unknown paths 404, other
// methods 405.
func TestBadInput(t *testing.T) {
	t.Parallel()
	srv := serve(t, memoryWorlds(t, 1).Log(), httplog.HandlerOptions{}, nil)
	cases := []struct {
		path   string
		status int
	}{
		{"/sections/x", 400},
		{"/sections/1", 400},
		{"/sections/1,", 400},
		{"/sections/,5", 400},
		{"/sections/a,b", 400},
		{"/sections/-1,5", 400},
		{"/sections/1,-5", 400},
		{"/sections/+1,5", 400},
		{"/sections/1%20,5", 400},
		{"/sections/1,99999999999999999999", 400},
		{"/sections/1,10?x=1", 400},
		{"/sections/1,1001", 400},
		{"/sections/0,1001", 400},
		{"/sections/5,1000004", 400},
		{"/sections/1,1000000", 400},
		{"/notifications", 400},
		{"/notifications?start=1", 400},
		{"/notifications?limit=10", 400},
		{"/notifications?start=-1&limit=10", 400},
		{"/notifications?start=99999999999999999999&limit=10", 400},
		{"/notifications?start=a&limit=10", 400},
		{"/notifications?start=1&limit=0", 400},
		{"/notifications?start=1&limit=-1", 400},
		{"/notifications?start=1&limit=1001", 400},
		{"/notifications?start=1&limit=1000000", 400},
		{"/notifications?start=1&limit=1.5", 400},
		{"/notifications?start=1&limit=10&limit=20", 400},
		{"/notifications?start=1&limit=10&topic=x", 400},
		{"/notifications?start=1&limit=10&correlation_id=x", 400},
		{"/notifications?start=1&limit=10&correlation_id=00000000-0000-0000-0000-000000000000", 400},
		{"/notifications?start=1&limit=10&correlation_id=" + uuid.NewString() + "&topics=x", 400},
		{"/head?x=1", 400},
		{"/", 404},
		{"/nope", 404},
		{"/sections/", 404},
		{"/sections/1,10/x", 404},
		{"/head/x", 404},
	}
	for _, c := range cases {
		resp, body := get(t, srv.URL+c.path, "Bearer "+token)
		require.Equal(t, c.status, resp.StatusCode, c.path)
		msg := requireJSONError(t, resp, body)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), c.path)
		t.Logf("%s: %d %s", c.path, resp.StatusCode, msg)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/head", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))

	// The largest limit is served.
	resp, body := get(t, srv.URL+"/notifications?start=1&limit=1000&topics=worlds:WorldCreated,x&topics=y", "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, 1, strings.Count(string(body), `"id"`))

	// A section of a million notifications is refused, saying why; the
	// largest section is served, in the log's section size.
	resp, body = get(t, srv.URL+"/sections/1,1000000", "Bearer "+token)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, `section "1,1000000" is too large: a section has at most 1000 notifications, such as "1,1000"`, requireJSONError(t, resp, body))
	more := serve(t, memoryWorlds(t, 3).Log(), httplog.HandlerOptions{}, nil)
	resp, body = get(t, more.URL+"/sections/0,1000", "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, 5, strings.Count(string(body), `"id"`), "the section size")
	require.Contains(t, string(body), `"next_id":"6,10"`)
}

// Requests without a credential get 401 with a Bearer challenge, and with
// a wrong one 401 too (invalid_token); neither gets any notification. A
// verified client certificate is a credential when the handler allows it.
func TestCredentials(t *testing.T) {
	t.Parallel()
	log := memoryWorlds(t, 1).Log()
	srv := serve(t, log, httplog.HandlerOptions{Tokens: []string{"other-token", token}}, nil)
	for _, path := range []string{"/sections/1,10", "/notifications?start=1&limit=10", "/head", "/nope", "/sections/x"} {
		resp, body := get(t, srv.URL+path, "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		require.Equal(t, `Bearer realm="notification log"`, resp.Header.Get("WWW-Authenticate"), path)
		requireJSONError(t, resp, body)
		require.NotContains(t, string(body), "max_notification_id")

		for _, auth := range []string{"Bearer wrong", "Bearer " + token + "x", "Bearer " + token[:len(token)-1], "Basic " + token, "Bearer", "Bearer  ", token} {
			resp, body := get(t, srv.URL+path, auth)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %q", path, auth)
			require.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer"), auth)
			requireJSONError(t, resp, body)
		}
	}
	resp, _ := get(t, srv.URL+"/head", "Bearer wrong")
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	for _, tok := range []string{token, "other-token"} {
		resp, body := get(t, srv.URL+"/sections/1,10", "Bearer "+tok)
		require.Equal(t, http.StatusOK, resp.StatusCode, tok)
		require.Contains(t, string(body), `"originator_id"`)
	}
	resp, _ = get(t, srv.URL+"/head", "bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the scheme is case-insensitive")

	// Another application's handler, with its own token, refuses ours.
	other := serve(t, memoryWorlds(t, 1).Log(), httplog.HandlerOptions{Tokens: []string{"token-of-another-app"}}, nil)
	resp, body := get(t, other.URL+"/sections/1,10", "Bearer "+token)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	requireJSONError(t, resp, body)

	// Client certificates, as the server's tls.Config left them.
	verified := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{}}, VerifiedChains: [][]*x509.Certificate{{{}}}}
	unverified := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{}}}
	serveTLS := func(opts httplog.HandlerOptions, state *tls.ConnectionState) int {
		h, err := httplog.NewHandler(log, opts)
		require.NoError(t, err)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "https://leader/head", nil)
		req.TLS = state
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	certs := httplog.HandlerOptions{AllowClientCertificates: true}
	require.Equal(t, http.StatusOK, serveTLS(certs, verified))
	require.Equal(t, http.StatusUnauthorized, serveTLS(certs, unverified), "a certificate the server did not verify")
	require.Equal(t, http.StatusUnauthorized, serveTLS(certs, nil), "no TLS")
	require.Equal(t, http.StatusUnauthorized, serveTLS(httplog.HandlerOptions{Tokens: []string{token}}, verified), "certificates not allowed")
}

// A full section has an ETag and may be cached for good; If-None-Match
// gets 304. The open end of the log and the head are not cached.
func TestCaching(t *testing.T) {
	t.Parallel()
	log := memoryWorlds(t, 2).Log() // 7 notifications, sections of 5
	srv := serve(t, log, httplog.HandlerOptions{}, nil)
	auth := "Bearer " + token

	resp, body := get(t, srv.URL+"/sections/1,5", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s struct {
		SectionID string            `json:"section_id"`
		Items     []json.RawMessage `json:"items"`
		NextID    string            `json:"next_id"`
	}
	require.NoError(t, json.Unmarshal(body, &s))
	require.Equal(t, "1,5", s.SectionID)
	require.Equal(t, "6,10", s.NextID)
	require.Len(t, s.Items, 5)
	etag := resp.Header.Get("ETag")
	require.Regexp(t, `^"1-5\.[0-9a-f]+"$`, etag)
	require.Equal(t, "private, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))

	for _, inm := range []string{etag, "W/" + etag, `"x", ` + etag, "*"} {
		resp, body = get(t, srv.URL+"/sections/1,5", auth, "If-None-Match", inm)
		require.Equal(t, http.StatusNotModified, resp.StatusCode, inm)
		require.Empty(t, body)
		require.Equal(t, etag, resp.Header.Get("ETag"))
		require.Equal(t, "private, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	}
	resp, _ = get(t, srv.URL+"/sections/1,5", auth, "If-None-Match", `"1-5.0000"`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "another tag")
	resp, _ = get(t, srv.URL+"/sections/1,5", "", "If-None-Match", etag)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no 304 without a credential")
	resp, _ = get(t, srv.URL+"/sections/2,6", auth)
	require.NotEqual(t, etag, resp.Header.Get("ETag"), "another section, another tag")

	for _, path := range []string{"/sections/6,10", "/sections/8,12", "/head", "/notifications?start=1&limit=5"} {
		resp, _ = get(t, srv.URL+path, auth, "If-None-Match", "*")
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), path)
		require.Empty(t, resp.Header.Get("ETag"), path)
	}

	for _, opts := range []httplog.HandlerOptions{{Insecure: true}, {Tokens: []string{token}, SharedCaches: true}} {
		srv := serve(t, log, opts, nil)
		resp, _ := get(t, srv.URL+"/sections/1,5", auth)
		require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	}
}

// The events' metadata crosses the wire, and a client reads one
// correlation of the remote log.
func TestMetadataAndCorrelations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := memoryWorlds(t, 2)
	story := uuid.New()
	_, err := counters.CreateWorld(app.WithCorrelationID(ctx, story), a, "told")
	require.NoError(t, err)
	local, err := a.Log().ReadNotifications(ctx, 1, 100)
	require.NoError(t, err)
	srv := serve(t, a.Log(), httplog.HandlerOptions{}, nil)
	c := newClient(t, srv.URL, httplog.ClientOptions{})

	remote, err := c.ReadNotifications(ctx, 1, 100)
	require.NoError(t, err)
	require.Len(t, remote, len(local))
	for i := range local {
		require.Truef(t, local[i].StoredEvent.Equal(remote[i].StoredEvent), "notification %d: %+v != %+v", local[i].ID, local[i], remote[i])
		require.NotEqual(t, uuid.Nil, remote[i].EventID)
	}
	told, err := c.ReadCorrelated(ctx, story, 1, 10)
	require.NoError(t, err)
	require.Len(t, told, 1)
	require.Equal(t, local[len(local)-1].ID, told[0].ID)
	_, err = c.ReadCorrelated(ctx, uuid.Nil, 1, 10)
	require.Error(t, err)
	none, err := c.ReadCorrelated(ctx, uuid.New(), 1, 10)
	require.NoError(t, err)
	require.Empty(t, none)
}
