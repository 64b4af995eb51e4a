// Package httplog serves an application's notification log over HTTP as
// JSON, and reads such a log from another process: a follower in one
// service can follow a leader whose database it cannot reach.
//
// NewHandler serves one application's *app.NotificationLog; Client reads
// it and is an app.NotificationReader, so a process application follows a
// remote leader with ProcessApplication.FollowLog(name, client, mapper),
// keeping its tracking records, and so exactly-once, in its own database.
// Reader follows any log, local or remote, along its linked sections or
// by pages, as Go iterators. Client.Watch wakes a follower when the remote
// log may have grown, as app.Application.Watch does for a local one.
//
// # Wire format
//
// Every response is JSON (Content-Type: application/json). The handler
// serves GET (and HEAD) only:
//
//	GET /sections/{first},{last}
//	    {"section_id": "1,10", "items": [ITEM, ...], "next_id": "11,20"}
//	GET /notifications?start=N&limit=M[&topics=T1,T2 | &correlation_id=UUID]
//	    {"items": [ITEM, ...]}
//	GET /head
//	    {"max_notification_id": N}
//	GET /head?after=N&wait=D
//	    {"max_notification_id": H}
//
// where each ITEM is
//
//	{"id": 1, "originator_id": "UUID", "originator_version": 1,
//	 "topic": "worlds:World.Created", "state": "BASE64",
//	 "event_id": "UUID", "correlation_id": "UUID", "causation_id": "UUID",
//	 "trace_context": "BASE64", "event_hash": "BASE64"}
//
// whose last five members, the event's metadata (see
// persistence.StoredEvent), are left out where the event has none.
//
// A section is app.NotificationLog.Section of the id in the path: first
// and last are decimal integers from 0 to 2^63-1; section_id names the
// notification ids actually found ("" when none), and next_id the section
// to read next ("" when the section was not full: the reader has caught up
// for now). Ids may have gaps. A section is at most app.MaxReadLimit
// notifications long (or the log's section size, when larger): a longer
// one, such as /sections/1,1000000, is refused with 400 and a message
// saying so; a shorter one is served in sections of the log's section size
// at most, with next_id naming the rest. /notifications is
// app.NotificationLog.ReadNotifications: start from 0 to 2^63-1, limit from
// 1 to app.MaxReadLimit, topics optional (comma-separated, or the
// parameter repeated); with correlation_id instead of topics it is
// app.NotificationLog.ReadCorrelated. /head gives 0 for an empty log.
//
// The state is the stored bytes in standard base64 (RFC 4648 with
// padding), exactly as recorded: still compressed and encrypted when the
// application compresses or encrypts, so the server holds no cipher key
// and each reader decodes with its own mapper (codec.ErrCipherText with a
// wrong key).
//
// A full section (next_id not empty) never changes: ids are committed in
// the order they are given, so no notification can later appear inside
// it. Its response has an ETag (the section id and a hash of the body) and
// Cache-Control "private, max-age=31536000, immutable" ("public" instead
// when the handler needs no credentials or HandlerOptions.SharedCaches is
// set), and a request with a matching If-None-Match gets 304 Not Modified.
// Everything else (the open end of the log, /notifications, /head, errors)
// is sent with Cache-Control: no-store.
//
// Errors are {"error": "message"} with a status code: 400 for malformed
// section ids, starts, limits, afters and waits out of range, unknown or
// repeated query parameters; 401 (with a WWW-Authenticate: Bearer
// header) for a missing or unknown credential; 404 for unknown paths; 405
// for methods other than GET and HEAD; 500 when the log cannot be read
// (the cause is logged, not sent). Error responses carry no
// notifications.
//
// # Waiting for new notifications
//
// /head with after and wait is a long poll: the handler answers as soon
// as the head H passes N (at once if it has already), or else when D has
// passed, the request's context has ended or the http.Server serving it
// has begun to shut down (so that Shutdown need not wait for the waits),
// with the head as last read (N or less). D is a Go duration ("20s",
// "500ms") above 0 and at most MaxWait. The handler learns of new
// notifications from HandlerOptions.Watcher, the application itself,
// whose Watch all waiting requests share; without one, or while its
// Watch fails, waits last until their bound, so a follower is late by
// one wait at most. Client.Watch asks again as soon as it gets an answer.
//
// A long poll rather than a stream of server-sent events: each answer is
// a complete JSON response like the others, so the client's timeouts,
// retries and backoff apply unchanged, the credential is checked on each
// request, and proxies need no support for streaming. The price is one
// request per change of the head, which the follower reads anyway.
//
// # Credentials
//
// Requests carry "Authorization: Bearer TOKEN", one of
// HandlerOptions.Tokens, or, with HandlerOptions.AllowClientCertificates,
// come over TLS with a client certificate that the server's tls.Config
// verified (tls.RequireAndVerifyClientCert or
// tls.VerifyClientCertIfGiven). Serve tokens only over TLS.
// ServerTLSFromEnv and ClientOptionsFromEnv read the TLS settings of both
// ends from PEM files that variables name, as cmd/eventsourcing serve and
// system.RunProcess do.
package httplog
