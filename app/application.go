package app

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
	"github.com/eventsourcing-go/eventsourcing/persistence/sqlite"
)

// EnvSnapshottingEnabled names the variable that turns snapshotting on.
const EnvSnapshottingEnabled = "IS_SNAPSHOTTING_ENABLED"

// EnvTimezoneTopic is the Python library's TZINFO_TOPIC, the zone of the timestamps
// of new events. Timestamps here are always UTC (domain.Now), so only the
// Python library's default "datetime:timezone.utc" (or "UTC") is accepted; another
// zone is a *config.Error: convert with time.Time.In when
// presenting times instead.
const EnvTimezoneTopic = "TZINFO_TOPIC"

// DefaultSectionSize is the default size of notification log sections.
const DefaultSectionSize = 10

// Options configures an Application. Typed settings, when set, win over
// the environment; the environment (Env, then the process's, with the
// variable names of the Python eventsourcing library; see package config)
// is read for those left zero. IS_SNAPSHOTTING_ENABLED is the exception:
// set, it overrides SnapshottingEnabled and SnapshottingIntervals either
// way, as in the Python library.
type Options struct {
	// Name is the application's name. It prefixes its environment
	// variables (BANK_ACCOUNTS_POSTGRES_SCHEMA for "BankAccounts") and names
	// its Postgres schema by default.
	Name string
	// Registry names the application's event and aggregate types. Required.
	Registry *codec.Registry

	// Module selects the persistence module (PERSISTENCE_MODULE). Zero
	// means: Postgres when Pool, DatabaseURL or a connection variable is
	// set, SQLite when SQLiteDBName or SQLITE_DBNAME is, else Memory.
	Module Module
	// Pool is a PostgreSQL pool of the caller's to record with (so it
	// keeps the caller's tracer, hooks and limits, and may be shared),
	// prepared with postgres.ConfigurePool for the application's schema.
	// The application migrates the schema (unless CREATE_TABLE is false)
	// and never closes the pool. It implies the Postgres module, and the
	// connection settings of the environment are not read.
	Pool *pgxpool.Pool
	// DatabaseURL is the connection string to open a pool with
	// (DATABASE_URL).
	DatabaseURL string
	// Schema is the application's Postgres schema (POSTGRES_SCHEMA);
	// the default is Name in snake case.
	Schema string
	// SQLiteDBName names the SQLite database to record in
	// (SQLITE_DBNAME): a file path, ":memory:", or a "file:" URI such as
	// "file::memory:?mode=memory&cache=shared"; see sqlite.Config. It
	// implies the SQLite module when Module is zero. Each application
	// needs a database of its own.
	SQLiteDBName string
	// SQLiteLockTimeout bounds a writer's wait for the SQLite write lock
	// (SQLITE_LOCK_TIMEOUT; 5 s when zero): a whole number of seconds, as
	// the variable takes; anything else is a *config.Error naming it.
	SQLiteLockTimeout time.Duration

	// CipherKey is a base64 AES key of 16, 24 or 32 bytes that encrypts
	// the stored state (CIPHER_KEY; see codec.CreateAESKey).
	CipherKey string
	// Cipher encrypts the stored state; it wins over CipherKey.
	Cipher codec.Cipher
	// Compressor compresses the stored state (COMPRESSOR_TOPIC).
	Compressor codec.Compressor

	// SnapshottingEnabled turns snapshotting on.
	SnapshottingEnabled bool
	// SnapshottingIntervals take a snapshot of an aggregate, after a save,
	// whenever its version passes a multiple of the interval given for
	// its type's topic. Non-empty intervals imply SnapshottingEnabled.
	SnapshottingIntervals map[string]int64
	// HashChain hash-chains the application's events (HASH_CHAIN): each
	// event recorded carries a hash of its contents and of its
	// aggregate's previous event, and events and snapshots read are
	// verified; see package integrity and docs/integrity.md. Off, the
	// application hashes and verifies nothing.
	HashChain bool
	// HashSalt keys the hashes (SALT_FOR_DATA_INTEGRITY, standard base64);
	// not nil (even empty), it implies HashChain. Keep it secret: whoever
	// has it can forge a chain.
	HashSalt []byte
	// HashScheme is the scheme of new hashes (HASH_SCHEME): 1 or 2, the
	// default; every known scheme is verified.
	HashScheme int
	// HashChainStrict refuses, on read, every event without a hash and
	// every snapshot without a seal (HASH_CHAIN_STRICT), so that removing
	// an aggregate's hashes in the database does not pass for events
	// recorded before hash-chaining. It requires HashChain (or HashSalt);
	// turn it on for an application that hash-chained every event it
	// recorded. See integrity.Hasher.Strict.
	HashChainStrict bool

	// SectionSize is the notification log's section size (default 10).
	SectionSize int
	// Logger receives the application's warnings; nil means
	// slog.Default(). Today the one warning is that of the memory module
	// chosen while a PostgreSQL connection variable is set, given once
	// per process (to the logger of the first application that meets it).
	Logger *slog.Logger

	// TracerProvider and MeterProvider receive the application's spans
	// and metrics (see docs/observability.md), and those of the process
	// applications (package system) built on it; nil means the global
	// providers (otel.GetTracerProvider, otel.GetMeterProvider), which
	// are no-ops until an OpenTelemetry SDK is installed.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// QueryTracer traces the queries of the PostgreSQL pool that the
	// application opens (pgx's hook; see postgres.Config.QueryTracer). A
	// pool given in Pool keeps its own tracer: set it in that pool's
	// pgxpool.Config (ConnConfig.Tracer); setting both is a
	// *config.Error. The memory and SQLite modules ignore it.
	QueryTracer pgx.QueryTracer

	// Env holds configuration set in code as environment variables; it
	// overrides the process environment.
	Env map[string]string
	// Lookup reads the process environment; nil means os.LookupEnv.
	Lookup func(string) (string, bool)
}

// environment returns where the configuration of opts is read from.
func (o Options) environment() config.Environment {
	return config.Environment{Name: o.Name, Values: o.Env, Lookup: o.Lookup, Settings: o.settings()}
}

// NewMapper returns the mapper that an application of opts would use (its
// registry, cipher and compressor), without opening its store: for tools
// that read an application's stored events, such as a follower's status.
// Options.Registry may be nil for Mapper.Timestamp. Errors are those of
// New for the cipher and compressor settings.
func NewMapper(opts Options) (*codec.Mapper, error) {
	return newMapper(opts, opts.environment())
}

func newMapper(opts Options, env config.Environment) (*codec.Mapper, error) {
	cipher := opts.Cipher
	if cipher == nil {
		var err error
		if cipher, err = cipherFromEnv(env); err != nil {
			return nil, err
		}
	}
	compressor := opts.Compressor
	if compressor == nil {
		var err error
		if compressor, err = compressorFromEnv(env); err != nil {
			return nil, err
		}
	}
	return &codec.Mapper{Registry: opts.Registry, Cipher: cipher, Compressor: compressor}, nil
}

// settings returns the typed options that stand for variables.
func (o Options) settings() map[string]config.Setting {
	set := map[string]config.Setting{}
	for key, s := range map[string]config.Setting{
		EnvPersistenceModule:    {Name: "app.Options.Module", Value: string(o.Module)},
		postgres.EnvDatabaseURL: {Name: "app.Options.DatabaseURL", Value: o.DatabaseURL},
		postgres.EnvSchema:      {Name: "app.Options.Schema", Value: o.Schema},
		sqlite.EnvDBName:        {Name: "app.Options.SQLiteDBName", Value: o.SQLiteDBName},
		EnvCipherKey:            {Name: "app.Options.CipherKey", Value: o.CipherKey},
	} {
		if s.Value != "" {
			set[key] = s
		}
	}
	if o.DatabaseURL != "" && o.Module == "" && o.SQLiteDBName == "" { // both: ModuleFromEnv asks which
		set[EnvPersistenceModule] = config.Setting{Name: "app.Options.DatabaseURL", Value: string(Postgres)}
	}
	if o.SQLiteLockTimeout != 0 {
		value := o.SQLiteLockTimeout.String() // refused by the variable's parser
		if o.SQLiteLockTimeout%time.Second == 0 {
			value = strconv.FormatInt(int64(o.SQLiteLockTimeout/time.Second), 10)
		}
		set[sqlite.EnvLockTimeout] = config.Setting{Name: "app.Options.SQLiteLockTimeout", Value: value}
	}
	if o.SQLiteDBName != "" && o.Module == "" && o.DatabaseURL == "" {
		set[EnvPersistenceModule] = config.Setting{Name: "app.Options.SQLiteDBName", Value: string(SQLite)}
	}
	o.hashSettings(set)
	return set
}

// Application is an event-sourced application: a mapper and recorders
// configured by Options and the environment, with Save, repositories (see
// NewRepository) and a notification log. It is safe for concurrent use;
// the aggregates it returns are not.
type Application struct {
	name      string
	infra     *infrastructure
	mapper    *codec.Mapper
	snapshots bool
	intervals map[string]int64
	log       *NotificationLog
	hasher    *integrity.Hasher // nil when the events are not hash-chained
	telemetry *telemetry

	mu       sync.RWMutex
	hooks    []RecordedFunc
	watchers map[chan struct{}]struct{} // of Watch in memory, each with room for one signal
}

// RecordedFunc is called after an application records new events, with
// their notification IDs; see Application.OnRecorded.
type RecordedFunc func(ctx context.Context, ids []int64) error

// New builds an application from opts and its environment. Configuration
// errors are *config.Error values naming the variable or option; an
// unreachable database is errors.Is(err, persistence.ErrConnection). Close
// the application when done.
func New(ctx context.Context, opts Options) (*Application, error) {
	if opts.Registry == nil {
		return nil, errors.New("app: Options.Registry is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	env := opts.environment()
	mapper, err := newMapper(opts, env)
	if err != nil {
		return nil, err
	}
	switch tzVar, tz, _ := env.Find(EnvTimezoneTopic); strings.TrimSpace(tz) {
	case "", "datetime:timezone.utc", "UTC":
	default:
		return nil, &config.Error{Var: tzVar, Value: tz,
			Reason: `timestamps are recorded in UTC: "datetime:timezone.utc" or "UTC" is expected; convert with time.Time.In when presenting them`}
	}
	snapshotting, err := env.Bool(EnvSnapshottingEnabled, opts.SnapshottingEnabled || len(opts.SnapshottingIntervals) > 0)
	if err != nil {
		return nil, err
	}
	hasher, err := hasherFromEnv(env)
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(opts.Name, opts.TracerProvider, opts.MeterProvider)
	if err != nil {
		return nil, err
	}
	infra, err := openInfrastructure(ctx, opts, env, logger, tel.observeBatch)
	if err != nil {
		return nil, err
	}
	a := &Application{
		name:      opts.Name,
		infra:     infra,
		mapper:    mapper,
		snapshots: snapshotting,
		intervals: opts.SnapshottingIntervals,
		log:       &NotificationLog{recorder: infra.recorder, sectionSize: opts.SectionSize},
		hasher:    hasher,
		telemetry: tel,
	}
	if a.log.sectionSize <= 0 {
		a.log.sectionSize = DefaultSectionSize
	}
	return a, nil
}

// Close releases the database connections the application opened (not
// those of Options.Pool).
func (a *Application) Close() { a.infra.close() }

// Name returns the application's name.
func (a *Application) Name() string { return a.name }

// Module returns the persistence module the application uses.
func (a *Application) Module() Module { return a.infra.module }

// Store names where the application records: two applications with the
// same Store record into the same tables (with the Postgres module, the
// same schema of the same database; an in-memory store is the
// application's own).
func (a *Application) Store() string { return a.infra.store }

// Schema returns the application's Postgres schema ("" in memory).
func (a *Application) Schema() string { return a.infra.schema }

// Mapper returns the mapper, for decoding notifications.
func (a *Application) Mapper() *codec.Mapper { return a.mapper }

// Recorder returns the application's recorder.
func (a *Application) Recorder() persistence.ProcessRecorder { return a.infra.recorder }

// Log returns the application's notification log.
func (a *Application) Log() *NotificationLog { return a.log }

// Snapshots returns the recorder of the application's snapshots, or nil
// when snapshotting is off.
func (a *Application) Snapshots() persistence.AggregateRecorder {
	if !a.snapshots {
		return nil
	}
	return a.infra.snapshots
}

// Pool returns the Postgres connection pool, for transactions that join
// SaveTx; nil with the in-memory module.
func (a *Application) Pool() *pgxpool.Pool { return a.infra.pool }

// SnapshottingEnabled reports whether the application keeps snapshots.
func (a *Application) SnapshottingEnabled() bool { return a.snapshots }

// Save records the pending events of all aggs in one atomic transaction,
// in argument order, or none of them, and returns their notification IDs.
// Only when all are recorded are the aggregates' pending events cleared; on
// error (a *persistence.ConcurrencyError when another writer recorded a
// version first, a *codec.MappingError for an event that cannot be
// stored) they stay pending. After recording, it takes the snapshots due
// by Options.SnapshottingIntervals.
//
// Each event is recorded with a new ID, and with the correlation ID of ctx
// (WithCorrelationID, WithCause) or else one new correlation ID shared by
// the events of this save.
//
// Then it calls the functions given to OnRecorded. If one fails, Save
// returns the IDs, because the events are recorded, with a *NotifyError.
//
// Save returns when ctx ends, whatever other saves recorded together with
// it are waiting for. If the events were on their way by then, or the
// connection failed, Save cannot know whether the database went on to
// record them (the error wraps persistence.ErrOutcomeUnknown when ctx
// ended): they are recorded all or none, and stay pending. Saving again
// tells: a *persistence.ConcurrencyError whose stored events are these
// means they were recorded.
func (a *Application) Save(ctx context.Context, aggs ...domain.Aggregate) ([]int64, error) {
	return a.record(ctx, nil, nil, pending(aggs), aggs)
}

// SaveTracked records events, the new events that processing the upstream
// notification named by tracking produced (collected from aggs, in the
// order they were generated), together with tracking, in one transaction:
// exactly-once processing. The tracking record is recorded even with no
// events. If tracking is recorded already it returns a
// *persistence.TrackingConflictError and records nothing. Otherwise it
// behaves as Save.
func (a *Application) SaveTracked(ctx context.Context, tracking persistence.Tracking, events []domain.Event, aggs ...domain.Aggregate) ([]int64, error) {
	return a.record(ctx, nil, []persistence.Tracking{tracking}, events, aggs)
}

// SaveTrackedPage is SaveTracked for a page of upstream notifications:
// events, the new events that processing all of them produced (in the
// order of the notifications, and of generation within each), are
// recorded together with one tracking record per notification, in one
// transaction. If any tracking record is recorded already it returns a
// *persistence.TrackingConflictError naming it, and records nothing.
func (a *Application) SaveTrackedPage(ctx context.Context, trackings []persistence.Tracking, events []domain.Event, aggs ...domain.Aggregate) ([]int64, error) {
	if len(trackings) == 0 {
		return nil, errors.New("save a tracked page: no tracking records")
	}
	return a.record(ctx, nil, trackings, events, aggs)
}

// SaveTx is Save within the caller's transaction tx on the application's
// Postgres database: the events, and the snapshots due, commit or roll
// back with tx, which SaveTx never commits or rolls back itself. It clears
// the aggregates' pending events when the events are recorded in tx; if tx
// is later rolled back, get the aggregates again. Since tx may yet roll
// back, it calls no OnRecorded functions: followers run by a
// ConcurrentRunner find the events when they next poll, and RunProcess's
// followers are woken at commit. tx may be begun on any pool of the
// database: the events are recorded in the application's schema whatever
// tx's search_path, which SaveTx leaves as it was; a schema without the
// event store is an error wrapping persistence.ErrProgramming. With the
// in-memory and SQLite modules it returns an error that is errors.Is(err,
// persistence.ErrNotSupported).
func (a *Application) SaveTx(ctx context.Context, tx pgx.Tx, aggs ...domain.Aggregate) ([]int64, error) {
	if err := a.checkTx(tx); err != nil {
		return nil, err
	}
	return a.record(ctx, tx, nil, pending(aggs), aggs)
}

// SaveTrackedTx is SaveTracked within the caller's transaction tx, as
// SaveTx is Save: a projection writes its read model into its own tables
// in tx, and records with SaveTrackedTx that it processed the upstream
// notification named by tracking (and any events), so that both commit or
// roll back together. A tracking record that exists already is a
// *persistence.TrackingConflictError, after which tx is aborted: roll it
// back.
func (a *Application) SaveTrackedTx(ctx context.Context, tx pgx.Tx, tracking persistence.Tracking, events []domain.Event, aggs ...domain.Aggregate) ([]int64, error) {
	if err := a.checkTx(tx); err != nil {
		return nil, err
	}
	return a.record(ctx, tx, []persistence.Tracking{tracking}, events, aggs)
}

// checkTx returns an error unless tx can be saved in.
func (a *Application) checkTx(tx pgx.Tx) error {
	switch {
	case a.infra.pgRecorder == nil:
		return fmt.Errorf("save in a transaction: %w: the %s persistence module has no transactions", persistence.ErrNotSupported, a.infra.module)
	case tx == nil:
		return errors.New("save in a transaction: tx is nil")
	}
	return nil
}

// record is the one write path of the application: it maps events once,
// records them (with the tracking records, in tx when not nil) by one
// call of the recorder, clears the aggregates' pending events, takes the
// snapshots due and, outside a caller's transaction, calls the
// OnRecorded functions. It runs in a span, whose trace context each event
// records (see telemetry.go).
func (a *Application) record(ctx context.Context, tx pgx.Tx, trackings []persistence.Tracking, events []domain.Event, aggs []domain.Aggregate) (ids []int64, err error) {
	ctx, span := a.telemetry.startSave(ctx, len(events), len(trackings))
	defer func() { a.telemetry.endSave(ctx, span, len(events), ids, err) }()
	events = identify(ctx, events)
	stored, err := a.mapper.ToStoredEvents(events)
	if err != nil {
		return nil, a.saveError(events, trackings, err)
	}
	recordTraceContext(ctx, stored)
	if a.hasher != nil {
		if err := a.hashEvents(ctx, stored, aggs); err != nil {
			return nil, a.saveError(events, trackings, err)
		}
	}
	ids, err = a.infra.insert(ctx, tx, stored, trackings)
	if err != nil {
		return nil, a.saveError(events, trackings, err)
	}
	collect(aggs)
	if a.hasher != nil {
		setHeads(aggs, stored)
	}
	if err := a.snapshotDue(ctx, tx, aggs, events); err != nil {
		return ids, err
	}
	if tx != nil || len(ids) == 0 {
		return ids, nil
	}
	a.mu.RLock()
	hooks := a.hooks
	for w := range a.watchers {
		select {
		case w <- struct{}{}:
		default: // a signal is pending already
		}
	}
	a.mu.RUnlock()
	for _, h := range hooks {
		if err := h(ctx, ids); err != nil {
			return ids, &NotifyError{IDs: ids, Err: err}
		}
	}
	return ids, nil
}

// saveError wraps err, the failure to record events. The recorder's
// errors say what they recorded where; the mapper's do not, so they get
// the count.
func (a *Application) saveError(events []domain.Event, trackings []persistence.Tracking, err error) error {
	var mapping *codec.MappingError
	what := "save"
	if errors.As(err, &mapping) {
		what = "save 1 event"
		if len(events) != 1 {
			what = fmt.Sprintf("save %d events", len(events))
		}
	}
	switch n := len(trackings); {
	case n == 1:
		return fmt.Errorf("%s tracking %s#%d: %w", what, trackings[0].ApplicationName, trackings[0].NotificationID, err)
	case n > 1:
		return fmt.Errorf("%s tracking %s#%d to #%d: %w", what, trackings[0].ApplicationName, trackings[0].NotificationID, trackings[n-1].NotificationID, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// OnRecorded adds f to the functions called after the application records
// new events (by Save or SaveTracked, not by SaveTx or SaveTrackedTx,
// whose transaction may yet roll back). Runners use it to prompt
// followers. They run on the saving goroutine, in the order added; they
// should be quick. Safe for concurrent use.
func (a *Application) OnRecorded(f RecordedFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hooks = append(a.hooks, f)
}

// Exclusive runs fn while no other caller of Exclusive with the same name
// on the same store (see Store), in this or any other process, runs its
// own: the others wait for it, until their ctx ends (then they return an
// error wrapping ctx.Err()). On PostgreSQL (where the name is taken with
// the application's schema, in its database) the exclusion is a
// session-level advisory lock on a connection of its own; if that
// session is lost, fn's context is canceled within about a second and
// Exclusive returns an error that is errors.Is(err,
// persistence.ErrConnection), since another caller may then run. On an
// SQLite file (on Unix) it is an advisory file lock (flock) on a lock
// file beside the database, which the kernel releases when the holder's
// process ends, however it ends (see sqlite.Database.Exclusive); on other
// systems it holds only among the goroutines of one process, and
// instances of a process application in several processes on one file
// then race (each notification is still recorded once, and the loser's
// policy runs are thrown away). With an in-memory SQLite database, which
// no other process sees, it holds among the goroutines of the process.
// With the in-memory module, whose store no other application shares, it
// runs fn directly. Runners use it so that, of several instances of a
// process application, one processes at a time and the others stand by.
func (a *Application) Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	switch {
	case a.infra.sqliteDB != nil:
		return a.infra.sqliteDB.Exclusive(ctx, name, fn)
	case a.infra.pool == nil:
		return fn(ctx)
	}
	h := fnv.New64a()
	h.Write([]byte(a.infra.schema + "\x00" + name)) // advisory locks are per database
	return postgres.Exclusive(ctx, a.infra.pool, int64(h.Sum64()), fn)
}

// Watch calls wake whenever events may have been recorded in the
// application's store by any process (on PostgreSQL, from the insert
// procedure's NOTIFY, listened to on a connection of its own; in memory,
// after each save of this application, the only one that records in its
// store; with SQLite, after each save of this application, and when the
// database's last notification ID changes, which it checks every
// SQLiteWatchInterval, since SQLite tells no other process of a commit),
// and once when it starts listening, until ctx ends (then it returns nil)
// or the connection is lost (an error: watch again, and meanwhile poll).
// wake runs on Watch's goroutine and should not block.
func (a *Application) Watch(ctx context.Context, wake func()) error {
	if a.infra.pool != nil {
		return a.infra.watch(ctx, wake)
	}
	var tick <-chan time.Time
	var last int64
	if a.infra.module == SQLite {
		t := time.NewTicker(SQLiteWatchInterval)
		defer t.Stop()
		tick = t.C
		var err error
		if last, err = a.infra.recorder.MaxNotificationID(ctx); err != nil {
			return err
		}
	}
	signal := make(chan struct{}, 1)
	a.mu.Lock()
	if a.watchers == nil {
		a.watchers = map[chan struct{}]struct{}{}
	}
	a.watchers[signal] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.watchers, signal)
		a.mu.Unlock()
	}()
	wake()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-signal:
			wake()
		case <-tick:
			max, err := a.infra.recorder.MaxNotificationID(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if max != last {
				last = max
				wake()
			}
		}
	}
}

// SQLiteWatchInterval is how often Watch checks an SQLite database for
// events recorded by other processes.
const SQLiteWatchInterval = 100 * time.Millisecond

func pending(aggs []domain.Aggregate) []domain.Event {
	var events []domain.Event
	for _, agg := range aggs {
		events = append(events, agg.PendingEvents()...)
	}
	return events
}

func collect(aggs []domain.Aggregate) {
	for _, agg := range aggs {
		agg.CollectEvents()
	}
}

// snapshotDue snapshots, in tx when not nil, each aggregate one of whose
// saved events has a version that is a multiple of the interval for its
// type.
func (a *Application) snapshotDue(ctx context.Context, tx pgx.Tx, aggs []domain.Aggregate, saved []domain.Event) error {
	if !a.snapshots || len(a.intervals) == 0 {
		return nil
	}
	var due []persistence.StoredEvent
	for _, agg := range aggs {
		topic, err := a.mapper.Registry.TopicOf(agg)
		if err != nil {
			return fmt.Errorf("automatic snapshot: %w", err)
		}
		interval := a.intervals[topic]
		if interval <= 0 {
			continue
		}
		for _, e := range saved {
			if e.OriginatorID == agg.ID() && e.OriginatorVersion%interval == 0 {
				s, err := a.mapper.ToStoredSnapshot(domain.TakeSnapshot(agg))
				if err == nil && a.hasher != nil {
					err = a.sealSnapshot(ctx, agg, &s)
				}
				if err != nil {
					return fmt.Errorf("automatic snapshot: %w", err)
				}
				due = append(due, s)
				break
			}
		}
	}
	if err := a.infra.insertSnapshots(ctx, tx, due); err != nil {
		return fmt.Errorf("automatic snapshot: %w", err)
	}
	return nil
}

// putSnapshot records s, a snapshot of agg; one recorded already is not
// an error.
func (a *Application) putSnapshot(ctx context.Context, agg domain.Aggregate, s domain.Snapshot) error {
	if !a.snapshots {
		return ErrSnapshottingDisabled
	}
	stored, err := a.mapper.ToStoredSnapshot(s)
	if err != nil {
		return err
	}
	if a.hasher != nil {
		if err := a.sealSnapshot(ctx, agg, &stored); err != nil {
			return err
		}
	}
	return a.infra.insertSnapshots(ctx, nil, []persistence.StoredEvent{stored})
}
