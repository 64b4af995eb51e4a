package httplog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/google/uuid"
)

// The defaults of ClientOptions.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAttempts      = 5
	DefaultRetryMin         = 100 * time.Millisecond
	DefaultRetryMax         = 5 * time.Second
	DefaultMaxResponseBytes = 256 << 20
	DefaultWatchWait        = 15 * time.Second
)

// ClientOptions configures a Client.
type ClientOptions struct {
	// Token is sent as "Authorization: Bearer Token" when not empty.
	Token string
	// HTTPClient sends the requests (its Transport may carry a client
	// certificate for mutual TLS); nil means a client with a timeout of
	// DefaultTimeout per request.
	HTTPClient *http.Client
	// MaxAttempts is the most times a request is sent when it fails with
	// a connection error or a 5xx or 429 status (DefaultMaxAttempts when
	// zero; 1 never retries).
	MaxAttempts int
	// RetryMin and RetryMax bound the delay between attempts, which starts
	// at RetryMin and doubles up to RetryMax, each delay taken at random
	// between half and all of it (DefaultRetryMin and DefaultRetryMax
	// when zero). A Retry-After header of a 503 or 429 is honoured up to
	// RetryMax.
	RetryMin, RetryMax time.Duration
	// MaxResponseBytes is the largest response body read
	// (DefaultMaxResponseBytes when zero).
	MaxResponseBytes int64
	// WatchWait is how long each request of Watch asks the server to
	// wait for new notifications (DefaultWatchWait when zero; at most
	// MaxWait). It is cut to half of HTTPClient's Timeout when that is
	// shorter, so that a wait is not taken for a server that does not
	// answer.
	WatchWait time.Duration
}

// Client reads a notification log served by NewHandler. It is an
// app.NotificationReader, so a process application can follow the remote
// application with FollowLog, has Section, so a Reader can read it like a
// local log, and is a Watcher, so that a follower is woken when the remote
// log grows. It is safe for concurrent use.
//
// Its errors: a *StatusError for a response with an error status; an
// error that is errors.Is(err, persistence.ErrConnection) when the server
// could not be reached after the retries (as are StatusErrors with a 5xx
// or 429 status), so that the system runners retry it; the context's
// error when ctx ends; and errors in the response's contents.
type Client struct {
	base     *url.URL
	token    string
	http     *http.Client
	attempts int
	min, max time.Duration
	maxBytes int64
	wait     time.Duration // of Watch's requests
}

var _ app.NotificationReader = (*Client)(nil)

// NewClient returns a Client for the log served at baseURL (such as
// "https://leader.example:8443/log"), an absolute http or https URL. It
// returns an error for any other URL, and for a WatchWait below 0 or above
// MaxWait.
func NewClient(baseURL string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("httplog: new client: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("httplog: new client: base URL %q is not an absolute http or https URL without query", baseURL)
	}
	if opts.WatchWait < 0 || opts.WatchWait > MaxWait {
		return nil, fmt.Errorf("httplog: new client: watch wait %v is not between 0 and %v", opts.WatchWait, MaxWait)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c := &Client{base: u, token: opts.Token, http: opts.HTTPClient, attempts: opts.MaxAttempts,
		min: opts.RetryMin, max: opts.RetryMax, maxBytes: opts.MaxResponseBytes}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.attempts <= 0 {
		c.attempts = DefaultMaxAttempts
	}
	if c.min <= 0 {
		c.min = DefaultRetryMin
	}
	if c.max <= 0 {
		c.max = DefaultRetryMax
	}
	c.max = max(c.max, c.min)
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	c.wait = opts.WatchWait
	if c.wait == 0 {
		c.wait = DefaultWatchWait
	}
	if c.http.Timeout > 0 {
		c.wait = min(c.wait, c.http.Timeout/2)
	}
	return c, nil
}

// Section returns the section named by id, "first,last", as
// app.NotificationLog.Section does on the server. A malformed id is
// errors.Is(err, app.ErrSectionID) and sends no request; a section longer
// than the server serves (app.MaxReadLimit, or its section size when
// larger) is a *StatusError with status 400.
func (c *Client) Section(ctx context.Context, id string) (app.Section, error) {
	first, last, err := app.ParseSectionID(id)
	if err != nil {
		return app.Section{}, err
	}
	// The server refuses negative ids; below 1 they mean 1, as locally.
	if last < 1 {
		return app.Section{}, nil
	}
	first = max(first, 0)
	var body sectionBody
	if err := c.get(ctx, fmt.Sprintf("/sections/%d,%d", first, last), nil, &body); err != nil {
		return app.Section{}, err
	}
	s := toSection(body)
	if err := checkOrder(s.Items, first, 0); err != nil {
		return app.Section{}, fmt.Errorf("get section %s: %w", id, err)
	}
	return s, nil
}

// ReadNotifications returns up to limit notifications from start, in ID
// order, only of topics when any are given: see app.NotificationReader. A
// limit below 1 or above app.MaxReadLimit is an error, and so is a topic
// with a comma; neither sends a request.
func (c *Client) ReadNotifications(ctx context.Context, start int64, limit int, topics ...string) ([]persistence.Notification, error) {
	if limit > app.MaxReadLimit || limit < 1 {
		return nil, fmt.Errorf("read notifications: limit %d is not between 1 and %d", limit, app.MaxReadLimit)
	}
	start = max(start, 0)
	q := url.Values{"start": {strconv.FormatInt(start, 10)}, "limit": {strconv.Itoa(limit)}}
	if len(topics) > 0 {
		for _, t := range topics {
			if strings.Contains(t, ",") {
				return nil, fmt.Errorf("read notifications: topic %q has a comma", t)
			}
		}
		q.Set("topics", strings.Join(topics, ","))
	}
	var body notificationsBody
	if err := c.get(ctx, "/notifications", q, &body); err != nil {
		return nil, err
	}
	ns := fromItems(body.Items)
	if err := checkOrder(ns, start, limit); err != nil {
		return nil, fmt.Errorf("read notifications from %d: %w", start, err)
	}
	return ns, nil
}

// ReadCorrelated returns up to limit notifications from start, in ID
// order, of the events with the correlation ID correlationID: see
// app.NotificationLog.ReadCorrelated. A limit below 1 or above
// app.MaxReadLimit, or the nil UUID, is an error that sends no request.
func (c *Client) ReadCorrelated(ctx context.Context, correlationID uuid.UUID, start int64, limit int) ([]persistence.Notification, error) {
	if limit > app.MaxReadLimit || limit < 1 {
		return nil, fmt.Errorf("read notifications of correlation %s: limit %d is not between 1 and %d", correlationID, limit, app.MaxReadLimit)
	}
	if correlationID == uuid.Nil {
		return nil, errors.New("read notifications of a correlation: the correlation ID is the nil UUID")
	}
	start = max(start, 0)
	q := url.Values{"start": {strconv.FormatInt(start, 10)}, "limit": {strconv.Itoa(limit)}, "correlation_id": {correlationID.String()}}
	var body notificationsBody
	if err := c.get(ctx, "/notifications", q, &body); err != nil {
		return nil, err
	}
	ns := fromItems(body.Items)
	if err := checkOrder(ns, start, limit); err != nil {
		return nil, fmt.Errorf("read notifications of correlation %s from %d: %w", correlationID, start, err)
	}
	for _, n := range ns {
		if n.CorrelationID != correlationID {
			return nil, fmt.Errorf("read notifications of correlation %s: the log sent notification %d of correlation %s", correlationID, n.ID, n.CorrelationID)
		}
	}
	return ns, nil
}

// MaxNotificationID returns the largest notification ID of the remote
// log, or 0 when it is empty.
func (c *Client) MaxNotificationID(ctx context.Context) (int64, error) {
	var body headBody
	if err := c.get(ctx, "/head", nil, &body); err != nil {
		return 0, err
	}
	return body.MaxNotificationID, nil
}

// Watch calls wake once it has read the remote head, then whenever the
// head changes, until ctx ends (then it returns nil) or a request fails
// after the retries of ClientOptions (that error, as MaxNotificationID
// returns it): each request asks the server to answer as soon as the head
// passes the last one seen, or after WatchWait (GET
// /head?after=N&wait=D), and the next is sent at once. So a follower of
// the remote log is woken as one of a local log is by
// app.Application.Watch, and polls when Watch fails. wake runs on
// Watch's goroutine and should not block.
func (c *Client) Watch(ctx context.Context, wake func()) error {
	head, err := c.MaxNotificationID(ctx)
	for err == nil {
		wake()
		head, err = c.nextHead(ctx, head)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// nextHead returns the remote head once it differs from head, asking the
// server to wait for that.
func (c *Client) nextHead(ctx context.Context, head int64) (int64, error) {
	q := url.Values{"after": {strconv.FormatInt(head, 10)}, "wait": {c.wait.String()}}
	for {
		var body headBody
		if err := c.get(ctx, "/head", q, &body); err != nil {
			return 0, err
		}
		if body.MaxNotificationID != head {
			return body.MaxNotificationID, nil
		}
	}
}

// checkOrder checks that the server sent notifications in ID order from
// start, and no more than limit (when not 0).
func checkOrder(ns []persistence.Notification, start int64, limit int) error {
	if limit > 0 && len(ns) > limit {
		return fmt.Errorf("%w: %d notifications for a limit of %d", errResponse, len(ns), limit)
	}
	prev := start - 1
	for _, n := range ns {
		if n.ID <= prev {
			return fmt.Errorf("%w: notification %d after %d", errResponse, n.ID, prev)
		}
		prev = n.ID
	}
	return nil
}

var errResponse = errors.New("invalid response")

// get sends GET path?query, retrying as ClientOptions say, and decodes
// the JSON response into out.
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	target := u.String()
	delay := c.min
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, target, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("get %s: %w", target, context.Cause(ctx))
		}
		wait, retry := c.retryAfter(err, delay)
		if !retry || attempt >= c.attempts {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("get %s: %w (after %v)", target, context.Cause(ctx), err)
		case <-t.C:
		}
		delay = min(2*delay, c.max)
	}
}

// retryAfter reports whether err is worth another attempt, and after how
// long: delay jittered, or the server's Retry-After up to the maximum.
func (c *Client) retryAfter(err error, delay time.Duration) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		if !se.Retryable() {
			return 0, false
		}
		if se.retryAfter > 0 {
			return min(se.retryAfter, c.max), true
		}
	} else if !errors.Is(err, persistence.ErrConnection) {
		return 0, false
	}
	return delay/2 + rand.N(delay/2+1), true
}

func (c *Client) once(ctx context.Context, target string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", target, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w: %w", target, persistence.ErrConnection, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return fmt.Errorf("get %s: read response: %w: %w", target, persistence.ErrConnection, err)
	}
	if resp.StatusCode != http.StatusOK {
		se := &StatusError{URL: target, StatusCode: resp.StatusCode}
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil {
			se.Message = eb.Error
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.retryAfter = time.Duration(s) * time.Second
		}
		return se
	}
	if int64(len(data)) > c.maxBytes {
		return fmt.Errorf("get %s: %w: response larger than %d bytes", target, errResponse, c.maxBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("get %s: %w: %w", target, errResponse, err)
	}
	return nil
}

// StatusError is returned by a Client for a response with an error
// status. Message is the server's JSON error message, if it sent one.
// A 5xx or 429 status is errors.Is(err, persistence.ErrConnection) (the
// log is unavailable for now); 401, 403 and 404 are
// persistence.ErrProgramming (the credential or the URL needs fixing, as
// persistence.NeedsAttention reports); other statuses wrap nothing.
type StatusError struct {
	URL        string // the URL requested
	StatusCode int    // the response's status code
	Message    string // the "error" of the response's JSON body, if any
	retryAfter time.Duration
}

// Error returns the request's URL, the status and the server's message.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("get %s: %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Retryable reports whether the same request may succeed later: a 5xx
// or 429 status. The Client retries these itself.
func (e *StatusError) Retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// Unwrap returns the persistence error kind of the status; see
// StatusError.
func (e *StatusError) Unwrap() error {
	switch {
	case e.Retryable():
		return persistence.ErrConnection
	case e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden, e.StatusCode == http.StatusNotFound:
		return persistence.ErrProgramming
	}
	return nil
}
