// Command eventsourcing reports on the event stores of a PostgreSQL
// database, or of SQLite database files.
//
// Usage:
//
//	eventsourcing status [FILE...]
//	eventsourcing serve NAME
//	eventsourcing verify [--strict] NAME
//
// status prints, as a table, every process application whose event store
// is in the database and each upstream application it follows: the last
// upstream notification it tracked, the upstream's head and how many
// notifications lie between, and the age of the oldest one not processed
// yet. An upstream application is looked for in the schema its own
// configuration names: <NAME>_POSTGRES_SCHEMA, else its name in snake case
// (as app.New does); when it is not in the database its head is shown as
// "-". The age needs the upstream's CIPHER_KEY and COMPRESSOR_TOPIC when
// its events are encrypted or compressed (set them, prefixed with the
// upstream's name if they differ between applications); "?" means the
// event could not be read.
//
// On SQLite each application records in a database file of its own, so
// status reads the files of the followers: the FILE arguments or, with
// none, the file SQLITE_DBNAME names (when the configuration selects
// SQLite, as for applications: SQLITE_DBNAME, or PERSISTENCE_MODULE=sqlite).
// An upstream application is looked for in the file its own configuration
// names with the prefix of its name, <NAME>_SQLITE_DBNAME (such as
// WORLDS_SQLITE_DBNAME=worlds.db); without one its head is shown as "-".
// The columns are those of PostgreSQL with files in place of schemas. A
// file that does not exist, or is not an SQLite database with an event
// store, is an error naming it; status creates no file.
//
// On either store, an upstream application whose
// <NAME>_NOTIFICATION_LOG_URL is set (its followers read it over HTTP; see
// system.RunProcess) has its head, and the oldest notification not
// processed yet, read from that log server, with the bearer token
// <NAME>_NOTIFICATION_LOG_TOKEN and, over TLS, the CA file
// <NAME>_NOTIFICATION_LOG_CA and client certificate
// <NAME>_NOTIFICATION_LOG_CERT and _KEY, and the URL is shown in place of its
// schema or file; a log server that cannot be reached (10 s per request),
// or refuses the token, is an error. status shows no processing rate: the
// runners measure it (system.ProcessApplication.Lag, and the "rate" of
// their progress logs).
//
// serve serves the notification log of the application NAME over HTTP
// (package httplog), until it is interrupted (SIGINT or SIGTERM), so that
// followers in other databases can follow it (with
// <NAME>_NOTIFICATION_LOG_URL; see system.RunProcess). It listens on
// NOTIFICATION_LOG_ADDR (default 127.0.0.1:8080) and requires the bearer
// token NOTIFICATION_LOG_TOKEN (all its variables may be prefixed with the
// application's name). With NOTIFICATION_LOG_TLS_CERT and
// NOTIFICATION_LOG_TLS_KEY (PEM files, both or neither) it serves HTTPS
// (TLS 1.2 or later), else plain HTTP; with NOTIFICATION_LOG_CLIENT_CA as
// well (a PEM file of CAs) it verifies the client certificates that
// followers present and admits those of these CAs, and the token becomes
// optional (still accepted when set). A file that cannot be read or is not
// PEM is an error naming its variable, and nothing is served. Followers
// set the matching <NAME>_NOTIFICATION_LOG_CA, _CERT and _KEY (see
// httplog.ClientOptionsFromEnv), as status does. The application's schema
// is configured as for the application itself (<NAME>_POSTGRES_SCHEMA,
// else its name in snake case). It answers a follower's wait for new notifications as soon as the
// application records some (LISTEN on one connection for all waits), and
// ends the waits when it is interrupted. On SQLite (SQLITE_DBNAME, which
// may be prefixed with the application's name) it serves the file the
// application writes, which must exist (an in-memory database is
// refused), and answers a wait when a check of the file, every
// app.SQLiteWatchInterval, finds new notifications. With no database
// configured it fails.
//
// verify checks the hash chains of the events, and the seals of the
// snapshots, of the application NAME (see docs/integrity.md): on
// PostgreSQL in the database, by the SQL functions of the schema; on SQLite
// (SQLITE_DBNAME) in Go. The hashes are keyed by SALT_FOR_DATA_INTEGRITY
// (may be prefixed with the application's name). With --strict (or
// HASH_CHAIN_STRICT true, which may be prefixed too) every event without a
// hash and every snapshot without a seal is a problem: for an application
// that hash-chained every event it recorded, so that removing an
// aggregate's hashes is found. It prints each problem and what it
// checked, and exits with status 1 when it finds a problem.
//
// The PostgreSQL database is named by DATABASE_URL or, when it is not
// set, by POSTGRES_HOST, POSTGRES_PORT (default 5432), POSTGRES_DBNAME,
// POSTGRES_USER and POSTGRES_PASSWORD, as for cmd/migrate. The exit status
// is 0 on success, 1 when the configuration is bad or the database cannot
// be read, and 2 when the command line is wrong.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
	"github.com/eventsourcing-go/eventsourcing/system"
)

const usage = `usage: eventsourcing status [FILE...] | serve NAME | verify [--strict] NAME

commands:
  status       the position of every process application in the database
               on each application it follows: tracked, head, behind, age;
               an upstream NAME is read over HTTP when
               <NAME>_NOTIFICATION_LOG_URL is set (with the token
               <NAME>_NOTIFICATION_LOG_TOKEN, and over TLS the CA file
               <NAME>_NOTIFICATION_LOG_CA and the client certificate
               <NAME>_NOTIFICATION_LOG_CERT and _KEY)
  status FILE...
               the same for the applications of SQLite database files; an
               upstream NAME is read in the file <NAME>_SQLITE_DBNAME
  serve NAME   serve the notification log of the application NAME over
               HTTP on NOTIFICATION_LOG_ADDR (default 127.0.0.1:8080), to
               requests with the bearer token NOTIFICATION_LOG_TOKEN,
               from PostgreSQL or from the SQLite file SQLITE_DBNAME;
               HTTPS with NOTIFICATION_LOG_TLS_CERT and _TLS_KEY, and
               client certificates of the CAs in NOTIFICATION_LOG_CLIENT_CA
               admitted without the token
  verify NAME  verify the hash chains of the application NAME's events
               and its snapshots' seals, with SALT_FOR_DATA_INTEGRITY
  verify --strict NAME
               the same, and every event without a hash or snapshot
               without a seal is a problem (also with HASH_CHAIN_STRICT)

The database is DATABASE_URL, else POSTGRES_HOST, POSTGRES_PORT,
POSTGRES_DBNAME, POSTGRES_USER and POSTGRES_PASSWORD; or, with no FILE,
the SQLite file SQLITE_DBNAME (SQLITE_DBNAME, or PERSISTENCE_MODULE=sqlite,
selects SQLite).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], config.Environment{}, time.Now, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args with the configuration of env, at the
// time now gives, and returns the exit status.
func run(ctx context.Context, args []string, env config.Environment, now func() time.Time, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 2 && args[0] == "serve":
		return serve(ctx, args[1], env, stdout, stderr)
	case len(args) >= 2 && args[0] == "verify":
		name, strict, ok := verifyArgs(args[1:])
		if !ok {
			fmt.Fprint(stderr, usage)
			return 2
		}
		return verify(ctx, name, strict, env, stdout, stderr)
	case len(args) == 0 || args[0] != "status" || slices.ContainsFunc(args[1:], func(a string) bool { return strings.HasPrefix(a, "-") }):
		fmt.Fprint(stderr, usage)
		return 2
	}
	files := args[1:]
	if len(files) == 0 {
		module, err := app.ModuleFromEnv(env)
		if err != nil {
			fmt.Fprintln(stderr, "eventsourcing:", err)
			return 1
		}
		if module == app.SQLite {
			cfg, err := sqlite.ConfigFromEnv(env)
			if err != nil {
				fmt.Fprintln(stderr, "eventsourcing:", err)
				return 1
			}
			files = []string{cfg.DBName}
		}
	}
	if len(files) > 0 {
		if err := sqliteStatus(ctx, files, env, now, stdout); err != nil {
			fmt.Fprintln(stderr, "eventsourcing: status:", err)
			return 1
		}
		return 0
	}
	cfg, err := postgres.ConfigFromEnv(env)
	if err != nil {
		fmt.Fprintln(stderr, "eventsourcing:", err)
		return 1
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.ConnString)
	if err != nil {
		fmt.Fprintln(stderr, "eventsourcing: DATABASE_URL cannot be parsed")
		return 1
	}
	poolCfg.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		fmt.Fprintln(stderr, "eventsourcing:", err)
		return 1
	}
	defer pool.Close()
	if err := status(ctx, pool, env, now, stdout); err != nil {
		fmt.Fprintln(stderr, "eventsourcing: status:", err)
		return 1
	}
	return 0
}

// status prints the table of follower positions.
func status(ctx context.Context, pool *pgxpool.Pool, env config.Environment, now func() time.Time, out io.Writer) error {
	schemaOf := func(upstream string) string {
		e := env
		e.Name = upstream
		return e.String(postgres.EnvSchema, config.SnakeCase(upstream))
	}
	positions, err := postgres.FollowerPositions(ctx, pool, schemaOf)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SCHEMA\tUPSTREAM\tUPSTREAM SCHEMA\tTRACKED\tHEAD\tBEHIND\tAGE")
	for _, p := range positions {
		url, remote, next, err := remoteHead(ctx, p.Upstream, p.Tracked, env)
		if err != nil {
			return fmt.Errorf("upstream %s of schema %s: %w", p.Upstream, p.Schema, err)
		}
		if url != "" {
			p.UpstreamSchema, p.Head, p.Next = url, remote, next
		}
		upstreamSchema, head, behind, age := "-", "-", "-", "-"
		if p.UpstreamSchema != "" {
			upstreamSchema, head = p.UpstreamSchema, fmt.Sprint(p.Head)
			behind = fmt.Sprint(max(0, p.Head-p.Tracked))
			age = "0s"
		}
		if p.Next != nil {
			age = ageOf(p.Upstream, p.Next, env, now)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", p.Schema, p.Upstream, upstreamSchema, p.Tracked, head, behind, age)
	}
	return w.Flush()
}

// remoteTimeout bounds each request status sends to a log server.
const remoteTimeout = 10 * time.Second

// remoteHead reads, when the upstream's <UPSTREAM>_NOTIFICATION_LOG_URL is
// set (then system.RunProcess follows it over HTTP, not in a database),
// the head of its log from that log server, with the bearer token and
// TLS settings of httplog.ClientOptionsFromEnv (prefixed with UPSTREAM),
// and the notification after tracked,
// if any. It returns the URL, or "" when the variable is not set.
func remoteHead(ctx context.Context, upstream string, tracked int64, env config.Environment) (url string, head int64, next *persistence.Notification, err error) {
	upstreamEnv := config.Environment{Name: upstream, Values: env.Values, Lookup: env.Lookup}
	variable, url, _ := upstreamEnv.Find(system.EnvNotificationLogURL)
	if url == "" {
		return "", 0, nil, nil
	}
	opts, err := httplog.ClientOptionsFromEnv(upstreamEnv)
	if err != nil {
		return "", 0, nil, err
	}
	opts.HTTPClient.Timeout, opts.MaxAttempts = remoteTimeout, 2
	client, err := httplog.NewClient(url, opts)
	if err != nil {
		return "", 0, nil, &config.Error{Var: variable, Value: url, Reason: err.Error()}
	}
	if head, err = client.MaxNotificationID(ctx); err != nil || head <= tracked {
		return url, head, nil, err
	}
	ns, err := client.ReadNotifications(ctx, tracked+1, 1)
	if len(ns) > 0 {
		next = &ns[0]
	}
	return url, head, next, err
}

// ageOf returns the age of the notification next of the application
// upstream, read with the upstream's mapper, or "?".
func ageOf(upstream string, next *persistence.Notification, env config.Environment, now func() time.Time) string {
	mapper, err := app.NewMapper(app.Options{Name: upstream, Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return "?"
	}
	at, err := mapper.Timestamp(next.StoredEvent)
	if err != nil {
		return "?"
	}
	return now().Sub(at).Round(time.Millisecond).String()
}

// sqliteStatus prints the table of follower positions of the SQLite
// databases files, each upstream read in the file that its
// <NAME>_SQLITE_DBNAME names, if any.
func sqliteStatus(ctx context.Context, files []string, env config.Environment, now func() time.Time, out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "DATABASE\tUPSTREAM\tUPSTREAM DATABASE\tTRACKED\tHEAD\tBEHIND\tAGE")
	for _, file := range files {
		positions, err := readSQLite(ctx, file, func(d *sqlite.Database) ([]sqlite.TrackingPosition, error) {
			return sqlite.NewRecorder(d).TrackingPositions(ctx)
		})
		if err != nil {
			return err
		}
		for _, p := range positions {
			upstreamFile, head, behind, age := "-", "-", "-", "-"
			upstreamEnv := config.Environment{Name: p.Upstream, Values: env.Values, Lookup: env.Lookup}
			url, remote, next, err := remoteHead(ctx, p.Upstream, p.Tracked, env)
			if err != nil {
				return fmt.Errorf("upstream %s of %s: %w", p.Upstream, file, err)
			}
			if url != "" {
				upstreamFile, head, behind, age = url, fmt.Sprint(remote), fmt.Sprint(max(0, remote-p.Tracked)), "0s"
				if next != nil {
					age = ageOf(p.Upstream, next, env, now)
				}
			} else if variable, path, _ := upstreamEnv.Find(sqlite.EnvDBName); path != "" && variable != sqlite.EnvDBName {
				type headAndNext struct {
					head int64
					next *persistence.Notification
				}
				h, err := readSQLite(ctx, path, func(d *sqlite.Database) (h headAndNext, err error) {
					r := sqlite.NewRecorder(d)
					if h.head, err = r.MaxNotificationID(ctx); err != nil || h.head <= p.Tracked {
						return h, err
					}
					next, err := r.SelectNotifications(ctx, persistence.NotificationQuery{Start: p.Tracked + 1, Limit: 1})
					if len(next) > 0 {
						h.next = &next[0]
					}
					return h, err
				})
				if err != nil {
					return fmt.Errorf("upstream %s of %s (%s): %w", p.Upstream, file, variable, err)
				}
				upstreamFile, head, behind, age = path, fmt.Sprint(h.head), fmt.Sprint(max(0, h.head-p.Tracked)), "0s"
				if h.next != nil {
					age = ageOf(p.Upstream, h.next, env, now)
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", file, p.Upstream, upstreamFile, p.Tracked, head, behind, age)
		}
	}
	return w.Flush()
}

// readSQLite opens the SQLite database file, which must exist, calls read
// with it and closes it. The errors name the file.
func readSQLite[T any](ctx context.Context, file string, read func(d *sqlite.Database) (T, error)) (T, error) {
	var zero T
	d, err := sqlite.Open(ctx, sqlite.Config{DBName: file, MustExist: true})
	if err != nil {
		return zero, err
	}
	defer d.Close()
	return read(d)
}

// The variables of serve.
const (
	envLogAddr  = "NOTIFICATION_LOG_ADDR"
	envLogToken = "NOTIFICATION_LOG_TOKEN"
)

// serve serves the notification log of the application name until ctx
// ends, and returns the exit status.
func serve(ctx context.Context, name string, env config.Environment, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "eventsourcing: serve:", err)
		return 1
	}
	appEnv := env
	appEnv.Name = name
	tlsConfig, err := httplog.ServerTLSFromEnv(appEnv)
	if err != nil {
		return fail(err)
	}
	clientCerts := tlsConfig != nil && tlsConfig.ClientCAs != nil
	var tokens []string
	if token := appEnv.String(envLogToken, ""); token != "" {
		tokens = []string{token}
	} else if !clientCerts {
		return fail(&config.Error{Var: envLogToken, Value: "", Reason: "a bearer token, or client certificates (" + httplog.EnvServerClientCA + "), are required to serve a notification log"})
	}
	module, err := app.ModuleFromEnv(appEnv)
	if err != nil {
		return fail(err)
	}
	switch module {
	case app.Memory:
		return fail(fmt.Errorf("%s has no database: set DATABASE_URL (or the POSTGRES_ variables) or SQLITE_DBNAME", name))
	case app.SQLite:
		// serve reads a database that the application has made: it
		// neither creates a file nor serves an in-memory database, which
		// would be empty and this process's alone.
		cfg, err := sqlite.ConfigFromEnv(appEnv)
		if err != nil {
			return fail(err)
		}
		exists := func(*sqlite.Database) (struct{}, error) { return struct{}{}, nil }
		if _, err := readSQLite(ctx, cfg.DBName, exists); err != nil {
			return fail(err)
		}
	}
	a, err := app.New(ctx, app.Options{Name: name, Registry: codec.NewRegistry(), Env: env.Values, Lookup: env.Lookup})
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	handler, err := httplog.NewHandler(a.Log(), httplog.HandlerOptions{Tokens: tokens, AllowClientCertificates: clientCerts, Watcher: a})
	if err != nil {
		return fail(err)
	}
	l, err := net.Listen("tcp", appEnv.String(envLogAddr, "127.0.0.1:8080"))
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsConfig}
	where := "schema " + a.Schema()
	if module == app.SQLite {
		where = a.Store()
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "serving the notification log of %s (%s) on %s://%s\n", name, where, scheme, l.Addr())
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(l, "", "") // the certificate is in TLSConfig
			return
		}
		served <- srv.Serve(l)
	}()
	select {
	case err := <-served:
		return fail(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fail(err)
	}
	return 0
}
