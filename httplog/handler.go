package httplog

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/google/uuid"
)

// ErrNoCredentials is returned by NewHandler when its options admit no
// credential (no tokens and no client certificates) and do not say
// Insecure.
var ErrNoCredentials = errors.New("httplog: a handler needs tokens or client certificates, or Insecure set")

// HandlerOptions configures the access to a handler made by NewHandler.
type HandlerOptions struct {
	// Tokens are the bearer tokens that a request may present in its
	// Authorization header ("Bearer TOKEN"). Each is compared in constant
	// time; none may be empty.
	Tokens []string
	// AllowClientCertificates admits, without a token, requests that came
	// over TLS with a client certificate the server verified (a non-empty
	// tls.ConnectionState.VerifiedChains). The http.Server's tls.Config
	// must ask for and verify client certificates.
	AllowClientCertificates bool
	// Insecure allows a handler with no tokens and no client
	// certificates: it serves the log to anyone who can reach it.
	Insecure bool
	// SharedCaches marks full sections "public" in Cache-Control, so that
	// shared caches (proxies, CDNs) may store them and serve them to any
	// of their users without asking the handler for credentials. Without
	// it they are "private" (a browser or a client's own cache only),
	// unless the handler is Insecure.
	SharedCaches bool
	// Watcher tells the handler when the log may have new notifications,
	// so that a request that waits for them (GET /head?after=N&wait=D)
	// is answered as soon as they are recorded: the application whose log
	// is served (*app.Application: LISTEN and NOTIFY on PostgreSQL, its
	// own saves in memory). The waiting requests share one Watch, which
	// runs while any of them waits and a few seconds more (so that it is
	// not started again by each request of a follower); a failed Watch is
	// logged and tried again a second later. Without a Watcher, or while
	// its Watch fails, a wait ends at its bound unless the head passes N
	// before the wait starts.
	Watcher Watcher
	// Logger receives errors in reading and watching the log, which
	// clients get as 500 without details, or not at all; nil means
	// slog.Default().
	Logger *slog.Logger
}

// handler serves one notification log; see NewHandler.
type handler struct {
	log       *app.NotificationLog
	tokens    [][sha256.Size]byte
	certs     bool
	insecure  bool
	immutable string
	logger    *slog.Logger
	watch     *sharedWatch // nil without a Watcher
	shutdowns shutdowns
	mux       *http.ServeMux
}

// NewHandler returns an http.Handler that serves log (one application's
// notification log) in the wire format of the package documentation,
// after checking each request's credential (see HandlerOptions). It
// refuses to build a handler that admits no credential, returning
// ErrNoCredentials, unless opts.Insecure is true; an empty token is an
// error too. The handler is safe for concurrent use; mount it with
// http.StripPrefix to serve it under a path.
func NewHandler(log *app.NotificationLog, opts HandlerOptions) (http.Handler, error) {
	if log == nil {
		return nil, errors.New("httplog: new handler: nil notification log")
	}
	if len(opts.Tokens) == 0 && !opts.AllowClientCertificates && !opts.Insecure {
		return nil, ErrNoCredentials
	}
	h := &handler{log: log, certs: opts.AllowClientCertificates, logger: opts.Logger, mux: http.NewServeMux()}
	h.insecure = opts.Insecure && len(opts.Tokens) == 0 && !opts.AllowClientCertificates
	for i, tok := range opts.Tokens {
		if tok == "" {
			return nil, fmt.Errorf("httplog: new handler: token %d is empty", i)
		}
		h.tokens = append(h.tokens, sha256.Sum256([]byte(tok)))
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if opts.Watcher != nil {
		h.watch = newSharedWatch(opts.Watcher, h.logger)
	}
	h.immutable = "private, max-age=31536000, immutable"
	if opts.SharedCaches || h.insecure {
		h.immutable = "public, max-age=31536000, immutable"
	}
	h.mux.HandleFunc("/sections/{id}", h.section)
	h.mux.HandleFunc("/notifications", h.notifications)
	h.mux.HandleFunc("/head", h.head)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such resource: "+r.URL.Path)
	})
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.shutdowns.of(r) // registers with the server at its first request, before any wait
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status, msg := h.authorize(r); status != 0 {
		if status == http.StatusUnauthorized {
			challenge := `Bearer realm="notification log"`
			if msg != errMissingCredential {
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
		}
		writeError(w, status, msg)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	h.mux.ServeHTTP(w, r)
}

const errMissingCredential = "missing credential: send Authorization: Bearer <token>"

// authorize returns 0 when r may be served, else the status and message
// to refuse it with. A wrong token is 401 (RFC 6750's invalid_token): the
// handler does not know who sent it, so it has authenticated no one (403
// would say that someone known may not see this log).
func (h *handler) authorize(r *http.Request) (int, string) {
	if h.insecure {
		return 0, ""
	}
	if h.certs && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return 0, ""
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(auth, " ")
	tok = strings.TrimSpace(tok)
	if auth == "" || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(h.tokens) == 0 {
		return http.StatusUnauthorized, errMissingCredential
	}
	// Compare digests, so that the comparison takes the same time whatever
	// the token's length, and compare with every token.
	sum := sha256.Sum256([]byte(tok))
	match := 0
	for i := range h.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], h.tokens[i][:])
	}
	if match != 1 {
		return http.StatusUnauthorized, "invalid token"
	}
	return 0, ""
}

// maxSection is the largest section a request may name: app.MaxReadLimit
// notifications, or the log's section size when that is larger.
func (h *handler) maxSection() int {
	return max(app.MaxReadLimit, h.log.SectionSize())
}

func (h *handler) section(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, b, ok := strings.Cut(id, ",")
	first, err1 := parseNonNegative(a)
	last, err2 := parseNonNegative(b)
	if !ok || err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid section id %q: expected \"first,last\", two integers from 0 to %d, such as \"1,10\"", id, int64(math.MaxInt64)))
		return
	}
	if len(r.URL.Query()) > 0 {
		writeError(w, http.StatusBadRequest, "a section takes no query parameters")
		return
	}
	if most := h.maxSection(); last >= max(first, 1) && last-max(first, 1) >= int64(most) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("section %q is too large: a section has at most %d notifications, such as \"%d,%d\"", id, most, max(first, 1), max(first, 1)+int64(most)-1))
		return
	}
	s, err := h.log.Section(r.Context(), fmt.Sprintf("%d,%d", first, last))
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	body := sectionBody{SectionID: s.ID, Items: toItems(s.Items), NextID: s.NextID}
	data, err := json.Marshal(body)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if s.NextID == "" {
		writeJSON(w, http.StatusOK, data, "no-store")
		return
	}
	sum := sha256.Sum256(data)
	etag := `"` + strings.ReplaceAll(s.ID, ",", "-") + "." + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	if matchesETag(r.Header.Get("If-None-Match"), etag) {
		w.Header().Set("Cache-Control", h.immutable)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, data, h.immutable)
}

func (h *handler) notifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, vs := range q {
		switch {
		case k != "start" && k != "limit" && k != "topics" && k != "correlation_id":
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q: expected start, limit, topics and correlation_id", k))
			return
		case k != "topics" && len(vs) > 1:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("query parameter %q given %d times", k, len(vs)))
			return
		}
	}
	if !q.Has("start") || !q.Has("limit") {
		writeError(w, http.StatusBadRequest, "start and limit are required, such as ?start=1&limit=100")
		return
	}
	start, err := parseNonNegative(q.Get("start"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid start %q: expected an integer from 0 to %d", q.Get("start"), int64(math.MaxInt64)))
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > app.MaxReadLimit {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid limit %q: expected an integer from 1 to %d", q.Get("limit"), app.MaxReadLimit))
		return
	}
	var topics []string
	for _, v := range q["topics"] {
		for t := range strings.SplitSeq(v, ",") {
			if t != "" {
				topics = append(topics, t)
			}
		}
	}
	var ns []persistence.Notification
	if q.Has("correlation_id") {
		id, parseErr := uuid.Parse(q.Get("correlation_id"))
		if parseErr != nil || id == uuid.Nil || len(topics) > 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid correlation_id %q: expected a UUID other than the nil UUID, without topics", q.Get("correlation_id")))
			return
		}
		ns, err = h.log.ReadCorrelated(r.Context(), id, start, limit)
	} else {
		ns, err = h.log.ReadNotifications(r.Context(), start, limit, topics...)
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.encode(w, r, notificationsBody{Items: toItems(ns)})
}

func (h *handler) head(w http.ResponseWriter, r *http.Request) {
	if q := r.URL.Query(); len(q) > 0 {
		after, wait, msg := parseWait(q)
		if msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		h.waitHead(w, r, after, wait)
		return
	}
	id, err := h.log.MaxNotificationID(r.Context())
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.encode(w, r, headBody{MaxNotificationID: id})
}

// waitHead answers with the head as soon as it passes after, or when
// wait has passed, or r's context has ended, or its server shuts down.
func (h *handler) waitHead(w http.ResponseWriter, r *http.Request, after int64, wait time.Duration) {
	var changed <-chan struct{} // nil, never ready, without a Watcher
	if h.watch != nil {
		changed = h.watch.join() // before reading the head: no change is missed
		defer h.watch.leave()
	}
	shutdown := h.shutdowns.of(r)
	bound := time.NewTimer(wait)
	defer bound.Stop()
	for {
		id, err := h.log.MaxNotificationID(r.Context())
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		if id > after {
			h.encode(w, r, headBody{MaxNotificationID: id})
			return
		}
		select {
		case <-changed:
			changed = h.watch.next()
		case <-bound.C:
			h.encode(w, r, headBody{MaxNotificationID: id})
			return
		case <-r.Context().Done(): // the client has gone
			h.encode(w, r, headBody{MaxNotificationID: id})
			return
		case <-shutdown:
			h.encode(w, r, headBody{MaxNotificationID: id})
			return
		}
	}
}

// parseWait parses the query of a wait for the head, ?after=N&wait=D, or
// returns why it is malformed.
func parseWait(q url.Values) (after int64, wait time.Duration, msg string) {
	const usage = "the head takes no query parameters, or after and wait, such as ?after=10&wait=20s"
	for k, vs := range q {
		switch {
		case k != "after" && k != "wait":
			return 0, 0, fmt.Sprintf("unknown query parameter %q: %s", k, usage)
		case len(vs) > 1:
			return 0, 0, fmt.Sprintf("query parameter %q given %d times", k, len(vs))
		}
	}
	if !q.Has("after") || !q.Has("wait") {
		return 0, 0, usage
	}
	after, err := parseNonNegative(q.Get("after"))
	if err != nil {
		return 0, 0, fmt.Sprintf("invalid after %q: expected an integer from 0 to %d", q.Get("after"), int64(math.MaxInt64))
	}
	wait, err = time.ParseDuration(q.Get("wait"))
	if err != nil || wait <= 0 || wait > MaxWait {
		return 0, 0, fmt.Sprintf("invalid wait %q: expected a duration above 0 and at most %v, such as 20s", q.Get("wait"), MaxWait)
	}
	return after, wait, ""
}

func (h *handler) encode(w http.ResponseWriter, r *http.Request, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, data, "no-store")
}

func (h *handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() == nil {
		h.logger.ErrorContext(r.Context(), "httplog: serve notification log", "path", r.URL.Path, "error", err)
	}
	writeError(w, http.StatusInternalServerError, "the notification log could not be read")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	data, _ := json.Marshal(errorBody{Error: msg})
	writeJSON(w, status, data, "no-store")
}

func writeJSON(w http.ResponseWriter, status int, data []byte, cacheControl string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// parseNonNegative parses a decimal integer from 0 to math.MaxInt64, digits
// only (no sign, no spaces).
func parseNonNegative(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("not a non-negative integer: %q", s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// matchesETag reports whether the If-None-Match header value header names
// etag (weakly, as RFC 9110 asks for If-None-Match) or is "*".
func matchesETag(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
