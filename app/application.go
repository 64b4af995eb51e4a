package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/factory"
	"github.com/eventsourcing-go/eventsourcing/persistence/postgres"
)

// EnvSnapshottingEnabled names the variable that turns snapshotting on.
const EnvSnapshottingEnabled = "IS_SNAPSHOTTING_ENABLED"

// EnvTimezoneTopic is the seeds' TZINFO_TOPIC, the zone of the timestamps
// of new events. Timestamps here are always UTC (domain.Now), so only the
// seeds' default "datetime:timezone.utc" (or "UTC") is accepted; another
// zone is a *config.Error: convert with time.Time.In when
// presenting times instead.
const EnvTimezoneTopic = "TZINFO_TOPIC"

// DefaultSectionSize is the default size of notification log sections.
const DefaultSectionSize = 10

// Options configures an Application.
type Options struct {
	// Name is the application's name. It prefixes its environment
	// variables (BANK_ACCOUNTS_POSTGRES_SCHEMA for "BankAccounts") and names
	// its Postgres schema by default.
	Name string
	// Registry names the application's event and aggregate types. Required.
	Registry *codec.Registry
	// Env holds configuration set in code; it overrides the process
	// environment.
	Env map[string]string
	// Lookup reads the process environment; nil means os.LookupEnv.
	Lookup func(string) (string, bool)
	// SnapshottingEnabled turns snapshotting on unless the environment
	// says otherwise (IS_SNAPSHOTTING_ENABLED).
	SnapshottingEnabled bool
	// SnapshottingIntervals takes a snapshot of an aggregate, after a
	// save, whenever its version passes a multiple of the interval given
	// for its type's topic. Non-empty intervals imply SnapshottingEnabled.
	SnapshottingIntervals map[string]int64
	// SectionSize is the notification log's section size (default 10).
	SectionSize int
}

// Application is an event-sourced application: a mapper and recorders
// configured from the environment, with Save, repositories (see
// NewRepository) and a notification log. It is safe for concurrent use;
// the aggregates it returns are not.
type Application struct {
	name      string
	infra     *factory.Infrastructure
	mapper    *codec.Mapper
	snapshots persistence.AggregateRecorder // nil when snapshotting is off
	intervals map[string]int64
	log       *NotificationLog

	mu        sync.RWMutex
	listeners []Listener
}

// Listener is called after an application records new events, with their
// notification IDs; see Application.Listen.
type Listener func(ctx context.Context, ids []int64) error

// New builds an application from opts and its environment. Configuration
// errors are *config.Error values naming the variable; an
// unreachable database is errors.Is(err, persistence.ErrInterface). Close
// the application when done.
func New(ctx context.Context, opts Options) (*Application, error) {
	if opts.Registry == nil {
		return nil, errors.New("app: Options.Registry is required")
	}
	env := config.Environment{Name: opts.Name, Values: opts.Env, Lookup: opts.Lookup}
	cipher, err := codec.CipherFromEnv(env)
	if err != nil {
		return nil, err
	}
	compressor, err := codec.CompressorFromEnv(env)
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
	infra, err := factory.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	mapper := &codec.Mapper{Registry: opts.Registry, Cipher: cipher, Compressor: compressor}
	a := &Application{
		name:      opts.Name,
		infra:     infra,
		mapper:    mapper,
		intervals: opts.SnapshottingIntervals,
		log:       &NotificationLog{recorder: infra.Recorder, sectionSize: opts.SectionSize},
	}
	if a.log.sectionSize <= 0 {
		a.log.sectionSize = DefaultSectionSize
	}
	if snapshotting {
		a.snapshots = infra.Snapshots
	}
	return a, nil
}

// Close releases the application's database connections, if any.
func (a *Application) Close() { a.infra.Close() }

// Name returns the application's name.
func (a *Application) Name() string { return a.name }

// Module returns the persistence module the application uses.
func (a *Application) Module() factory.Module { return a.infra.Module }

// Schema returns the application's Postgres schema ("" in memory).
func (a *Application) Schema() string { return a.infra.Schema }

// Mapper returns the mapper, for decoding notifications.
func (a *Application) Mapper() *codec.Mapper { return a.mapper }

// Recorder returns the application's recorder.
func (a *Application) Recorder() persistence.ProcessRecorder { return a.infra.Recorder }

// Log returns the application's notification log.
func (a *Application) Log() *NotificationLog { return a.log }

// Snapshots returns the recorder of the application's snapshots, or nil
// when snapshotting is off.
func (a *Application) Snapshots() persistence.AggregateRecorder { return a.snapshots }

// Pool returns the Postgres connection pool, for transactions that join
// SaveTx; nil with the in-memory module.
func (a *Application) Pool() *pgxpool.Pool { return a.infra.Pool }

// SnapshottingEnabled reports whether the application keeps snapshots.
func (a *Application) SnapshottingEnabled() bool { return a.snapshots != nil }

// Save records the pending events of all aggs in one atomic transaction,
// in argument order, or none of them, and returns their notification IDs.
// Only when all are recorded are the aggregates' pending events cleared; on
// error (a *persistence.ConcurrencyError when another writer recorded a
// version first, a *codec.MappingError for an event that cannot be
// stored) they stay pending. After recording, it takes the snapshots due
// by Options.SnapshottingIntervals.
//
// Then it calls the listeners (see Listen). If one fails, Save returns the
// IDs, because the events are recorded, with a *NotifyError.
//
// Save returns when ctx ends, whatever other saves recorded together with
// it are waiting for. If the events were on their way by then, or the
// connection failed, Save cannot know whether the database went on to
// record them (the error wraps persistence.ErrOutcomeUnknown when ctx
// ended): they are recorded all or none, and stay pending. Saving again
// tells: a *persistence.ConcurrencyError whose stored events are these
// means they were recorded.
func (a *Application) Save(ctx context.Context, aggs ...domain.Aggregate) ([]int64, error) {
	events := pending(aggs)
	stored, err := a.mapper.ToStoredEvents(events)
	if err != nil {
		return nil, fmt.Errorf("save %d events: %w", len(events), err)
	}
	ids, err := a.infra.Recorder.InsertNotifications(ctx, stored)
	if err != nil {
		return nil, fmt.Errorf("save %d events: %w", len(events), err)
	}
	collect(aggs)
	return ids, a.afterRecording(ctx, aggs, events, ids)
}

// SaveTracked records events, the new events that processing the upstream
// notification named by tracking produced (collected from aggs, in the
// order they were generated), together with tracking, in one transaction:
// exactly-once processing (requirement 10). The tracking record is
// recorded even with no events. If tracking is recorded already it returns
// a *persistence.TrackingConflictError and records nothing. Afterwards it
// behaves as Save: snapshots due, listeners, pending events cleared.
func (a *Application) SaveTracked(ctx context.Context, tracking persistence.Tracking, events []domain.Event, aggs ...domain.Aggregate) ([]int64, error) {
	stored, err := a.mapper.ToStoredEvents(events)
	if err != nil {
		return nil, fmt.Errorf("save %d events tracking %s#%d: %w", len(events), tracking.ApplicationName, tracking.NotificationID, err)
	}
	ids, err := a.infra.Recorder.InsertTracked(ctx, stored, tracking)
	if err != nil {
		return nil, fmt.Errorf("save %d events tracking %s#%d: %w", len(events), tracking.ApplicationName, tracking.NotificationID, err)
	}
	collect(aggs)
	return ids, a.afterRecording(ctx, aggs, events, ids)
}

// afterRecording takes the snapshots due and calls the listeners.
func (a *Application) afterRecording(ctx context.Context, aggs []domain.Aggregate, events []domain.Event, ids []int64) error {
	if err := a.snapshotDue(ctx, aggs, events); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	a.mu.RLock()
	listeners := a.listeners
	a.mu.RUnlock()
	for _, l := range listeners {
		if err := l(ctx, ids); err != nil {
			return &NotifyError{IDs: ids, Err: err}
		}
	}
	return nil
}

// Listen adds l to the functions called after the application records new
// events (by Save or SaveTracked, not SaveTx, whose transaction may yet
// roll back). Runners use it to prompt followers. Listeners run on the
// saving goroutine, in the order added; they should be quick. Safe for
// concurrent use.
func (a *Application) Listen(l Listener) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.listeners = append(a.listeners, l)
}

// SaveTx is Save within the caller's transaction tx on the application's
// Postgres database: the events commit or roll back with tx, which SaveTx
// never commits or rolls back itself. It clears the aggregates' pending
// events when the events are recorded in tx; if tx is later rolled back,
// get the aggregates again. It takes no automatic snapshots. tx may be
// begun on any pool of the database: the events are recorded in the
// application's schema whatever tx's search_path, which SaveTx leaves as
// it was; a schema without the event store is an error wrapping
// persistence.ErrProgramming. With the in-memory module it returns an
// error that is errors.Is(err, persistence.ErrNotSupported).
func (a *Application) SaveTx(ctx context.Context, tx pgx.Tx, aggs ...domain.Aggregate) ([]int64, error) {
	rec, ok := a.infra.Recorder.(*postgres.Recorder)
	if !ok {
		return nil, fmt.Errorf("save in a transaction: %w: the %s persistence module has no transactions", persistence.ErrNotSupported, a.infra.Module)
	}
	events := pending(aggs)
	stored, err := a.mapper.ToStoredEvents(events)
	if err != nil {
		return nil, fmt.Errorf("save %d events: %w", len(events), err)
	}
	ids, err := rec.InsertNotificationsTx(ctx, tx, stored)
	if err != nil {
		return nil, fmt.Errorf("save %d events: %w", len(events), err)
	}
	collect(aggs)
	return ids, nil
}

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

// snapshotDue snapshots each aggregate one of whose saved events has a
// version that is a multiple of the interval for its type.
func (a *Application) snapshotDue(ctx context.Context, aggs []domain.Aggregate, saved []domain.Event) error {
	if a.snapshots == nil || len(a.intervals) == 0 {
		return nil
	}
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
				if err := a.putSnapshot(ctx, domain.TakeSnapshot(agg)); err != nil {
					return fmt.Errorf("automatic snapshot: %w", err)
				}
				break
			}
		}
	}
	return nil
}

func (a *Application) putSnapshot(ctx context.Context, s domain.Snapshot) error {
	if a.snapshots == nil {
		return ErrSnapshottingDisabled
	}
	stored, err := a.mapper.ToStoredSnapshot(s)
	if err != nil {
		return err
	}
	err = a.snapshots.InsertEvents(ctx, []persistence.StoredEvent{stored})
	var conflict *persistence.ConcurrencyError
	if errors.As(err, &conflict) {
		return nil // a snapshot at this version exists already
	}
	return err
}
