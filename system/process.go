package system

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Policy is how a process application responds to an event of an
// application it follows: it may get and change aggregates of its own
// application (p) and must hand every changed aggregate to pe.Save, so
// that the new events are recorded together with the tracking record of
// the event's notification. Events it ignores need no Save. It should get
// aggregates with app.NewRepository(...).Get(ctx, id) using the ctx it is
// given, which carries the page's app.UnitOfWork (see Paging): then it sees
// what the page's earlier notifications changed. The ctx also carries the
// event as the cause of what the policy saves (app.WithCause), and the
// events handed to pe.Save are recorded with the event's ID as their
// causation ID and its correlation ID as theirs. An error stops processing
// at this notification, records nothing for it (the page's notifications
// before it are recorded), and is returned as a *PolicyError; processing
// resumes there next time.
type Policy func(ctx context.Context, p *ProcessApplication, event domain.Event, pe *ProcessEvent) error

// ProcessEvent collects the new events a policy generates while processing
// one upstream notification, with the tracking record of that notification.
type ProcessEvent struct {
	Tracking persistence.Tracking
	events   []domain.Event
	aggs     []domain.Aggregate
}

// Save collects the pending events of aggs, in the order given, to be
// recorded with the tracking record. Events of repeated calls keep the
// order in which they were generated.
func (pe *ProcessEvent) Save(aggs ...domain.Aggregate) {
	for _, agg := range aggs {
		pe.events = append(pe.events, agg.CollectEvents()...)
		pe.aggs = append(pe.aggs, agg)
	}
}

// Events returns the events collected so far.
func (pe *ProcessEvent) Events() []domain.Event { return append([]domain.Event(nil), pe.events...) }

// PolicyError reports the upstream notification whose processing failed.
type PolicyError struct {
	Application  string // the process application
	Upstream     string // the application followed
	Notification int64
	Err          error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("%s processing notification %d of %s: %v", e.Application, e.Notification, e.Upstream, e.Err)
}

// Unwrap returns the policy's error.
func (e *PolicyError) Unwrap() error { return e.Err }

// ErrLeaderBehind is wrapped by a *LeaderBehindError.
var ErrLeaderBehind = errors.New("the followed application is behind the position tracked")

// LeaderBehindError is returned by PullAndProcess when the position the
// follower has tracked is past the last notification of the application it
// follows: the leader's events were removed or its notification sequence
// started again (a migration down and up, a restored backup), so its new
// notifications would be skipped. It stops the runners; reset the
// follower's tracking records (or its schema) deliberately. It matches
// errors.Is(err, ErrLeaderBehind).
type LeaderBehindError struct {
	Application string // the process application
	Upstream    string // the application followed
	Tracked     int64  // the last notification tracked
	LeaderMax   int64  // the leader's largest notification ID
}

func (e *LeaderBehindError) Error() string {
	return fmt.Sprintf("%s has processed notifications of %s up to %d, but %s's last notification is %d: its notifications were removed or renumbered, and new ones would be skipped",
		e.Application, e.Upstream, e.Tracked, e.Upstream, e.LeaderMax)
}

// Unwrap returns ErrLeaderBehind.
func (e *LeaderBehindError) Unwrap() error { return ErrLeaderBehind }

// ProcessApplication is an application that follows other applications
// and processes their events with its Policy, exactly once. It is itself
// an application whose events others may follow. It is safe for concurrent
// use; each upstream is processed by one goroutine at a time.
type ProcessApplication struct {
	*app.Application
	policy Policy
	paging Paging

	telemetry *telemetry

	mu        sync.Mutex
	upstreams map[string]*upstream
	division  *division // nil: the upstream logs are not divided
	undivided bool      // checked that no other instance divides them
}

// upstream is an application followed: the reader of its notifications
// and the mapper that decodes them (with its own cipher settings).
type upstream struct {
	name     string
	reader   app.NotificationReader
	mapper   *codec.Mapper
	mu       sync.Mutex // one PullAndProcess at a time
	progress progress
}

// Paging bounds the pages in which a process application processes its
// leaders' notifications: it runs the policy on each notification of a
// page, in order, and records the new events of the whole page with one
// tracking record per notification, in one transaction. Within a page, a
// policy that gets an aggregate with app.Repository.Get (with the context
// it was given) gets it with the changes of the page's earlier
// notifications.
type Paging struct {
	// Size is the most notifications in a page (DefaultPageSize when
	// zero). With 1, each notification is processed and recorded on its
	// own.
	Size int
	// Time is the longest a page takes to process before it is recorded
	// with the notifications processed so far (DefaultPageTime when zero).
	Time time.Duration
}

// The default Paging.
const (
	DefaultPageSize = 100
	DefaultPageTime = 100 * time.Millisecond
)

func (pg Paging) size() int {
	if pg.Size > 0 {
		return min(pg.Size, app.MaxReadLimit)
	}
	return DefaultPageSize
}

func (pg Paging) time() time.Duration {
	if pg.Time > 0 {
		return pg.Time
	}
	return DefaultPageTime
}

// readSize is the fewest upstream notifications PullAndProcess reads at
// once, whatever the page size: reads of one notification would be bound
// by round trips.
const readSize = 100

// SetPaging sets the pages in which p processes notifications; see
// Paging. Call it before p processes anything.
func (p *ProcessApplication) SetPaging(pg Paging) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paging = pg
}

// NewProcessApplication makes a an application that processes the events
// of the applications it follows (see Follow) with policy.
func NewProcessApplication(a *app.Application, policy Policy) *ProcessApplication {
	return &ProcessApplication{Application: a, policy: policy, upstreams: map[string]*upstream{}, telemetry: newTelemetry(a)}
}

// Follow makes p follow leader: PullAndProcess(leader.Name()) reads the
// leader's notification log and decodes it with the leader's mapper.
func (p *ProcessApplication) Follow(leader *app.Application) {
	p.FollowLog(leader.Name(), leader.Log(), leader.Mapper())
}

// FollowLog makes p follow the application named leader through reader,
// its notifications, decoded by mapper (with the leader's registry and
// cipher settings). Following a name again replaces its reader.
func (p *ProcessApplication) FollowLog(leader string, reader app.NotificationReader, mapper *codec.Mapper) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.upstreams[leader] = &upstream{name: leader, reader: reader, mapper: mapper}
}

// Upstreams returns the names of the applications p follows, sorted.
func (p *ProcessApplication) Upstreams() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.upstreams))
	for name := range p.upstreams {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// maxConflicts bounds the conflicts PullAndProcess meets at one position
// with no instance getting further: a conflict that does not go away (a
// policy creating an aggregate that exists already, say) is an error, not
// a race with another instance.
const maxConflicts = 10

// PullAndProcess processes the notifications of the followed application
// leader that have not been processed yet, in order, starting after the
// last tracked notification, until it has caught up, in pages (see
// Paging): the new events of a page are recorded with the tracking records
// of its notifications in one transaction. The next notifications are read
// while a page is processed. It returns how many notifications it
// processed.
//
// If another instance of this application records a notification first
// (a tracking or version conflict), nothing of the page is recorded, and
// it carries on from the new position, one notification at a time up to
// the end of that page; conflicts with no progress past the same position
// are an error. Errors: a *PolicyError, a *codec.MappingError for a
// notification it cannot decode, or a persistence error; the
// notifications of the page before that one are recorded, and processing
// stops at it. Once caught up, it returns a *LeaderBehindError if the
// position tracked is past the leader's last notification.
//
// When the runners divide p's upstream logs in partitions
// (RunnerOptions.Partitions), it processes only the notifications of the
// partitions this instance holds leases on, each partition from its own
// position, and a conflict is retried after a random pause of up to a
// page's time (instances of other partitions may write the same
// aggregates). An instance that does not divide the logs returns a
// *persistence.PartitionCountError once other instances have divided
// them: it would skip their partitions' notifications.
func (p *ProcessApplication) PullAndProcess(ctx context.Context, leader string) (int, error) {
	p.mu.Lock()
	up, ok := p.upstreams[leader]
	paging := p.paging
	p.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("%s does not follow %q", p.Name(), leader)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	ahead := &readAhead{reader: up.reader, limit: max(readSize, paging.size())}
	defer ahead.wait()
	processed, conflicts := 0, 0
	stuckAt := int64(-1)  // the progress at the last conflict
	oneByOne := int64(-1) // after a conflict, the last notification of the page that met it
	for {
		s, err := p.newShare(ctx, leader)
		if err != nil {
			return processed, err
		}
		if len(s.active) == 0 {
			return processed, nil // no partition held
		}
		if s.progress() != stuckAt {
			conflicts = 0 // progress since the last conflict
		}
		n, cursor, err := p.processShare(ctx, up, s, ahead, paging, oneByOne)
		processed += n
		switch {
		case persistence.IsConflict(err):
			p.telemetry.conflict(ctx, leader)
			limit := maxConflicts
			if s.division != nil {
				// Instances of other partitions may write the same
				// aggregates: let the one that recorded first go on.
				limit *= 10
				if !wait(ctx, time.Duration(rand.Int64N(int64(paging.time())))) {
					return processed, ctx.Err()
				}
			}
			if conflicts++; conflicts > limit {
				return processed, fmt.Errorf("%s following %s: giving up after %d conflicts at notification %d: %w", p.Name(), leader, conflicts, cursor, err)
			}
			stuckAt, oneByOne = s.progress(), cursor
			continue // another instance recorded first: re-read the positions
		case err != nil:
			return processed, err
		case cursor < 0:
			continue // partitions newly held: read their positions
		}
		return processed, p.checkLeaderNotBehind(ctx, up, s.highest())
	}
}

// processShare processes the notifications of the partitions of s, from
// the lowest of their positions, until it has caught up: then it records
// that the partitions are processed up to the last notification read, and
// returns it as cursor. It returns a negative cursor when the instance
// newly holds partitions (the pass must start again from their positions).
// On a conflict, it returns the last notification of the page that met
// it. Notifications up to oneByOne are processed in pages of one.
func (p *ProcessApplication) processShare(ctx context.Context, up *upstream, s *share, ahead *readAhead, paging Paging, oneByOne int64) (processed int, cursor int64, err error) {
	cursor = s.lowest()
	advanced := time.Now()
	for {
		items, err := ahead.read(ctx, cursor+1)
		if err != nil {
			return processed, cursor, err
		}
		if len(items) == 0 {
			return processed, cursor, p.advance(ctx, s, up.name, cursor)
		}
		ahead.start(ctx, items[len(items)-1].ID+1)
		mine := s.mine(items)
		for len(mine) > 0 {
			size := paging.size()
			if mine[0].ID <= oneByOne {
				size = 1
			}
			n, err := p.processPage(ctx, up, mine, size, paging.time(), s)
			processed += n
			if n > 0 {
				up.progress.add(time.Now(), n)
			}
			if persistence.IsConflict(err) {
				return processed, mine[min(size, len(mine))-1].ID, err
			}
			if err != nil {
				return processed, cursor, err
			}
			s.recorded(mine[:n])
			if s.update() {
				return processed, -1, nil
			}
			mine = s.mine(mine[n:])
		}
		cursor = items[len(items)-1].ID
		if s.update() {
			return processed, -1, nil
		}
		if len(s.active) == 0 {
			return processed, cursor, nil // the leases ran out
		}
		if time.Since(advanced) >= time.Second {
			if err := p.advance(ctx, s, up.name, cursor); err != nil {
				return processed, cursor, err
			}
			advanced = time.Now()
		}
	}
}

// processPage processes a page of up to size of items, from the first,
// within pageTime, and records it; it returns how many notifications it
// recorded. A notification whose policy changed an aggregate version that
// an earlier notification of the page changed too (it read the aggregate
// from the store, not from the page) ends the page before it: it is
// processed again, first of the next page. A decode or policy error
// records the page before the notification, and is returned. The page,
// and each notification, has a span (see telemetry.go).
func (p *ProcessApplication) processPage(ctx context.Context, up *upstream, items []persistence.Notification, size int, pageTime time.Duration, s *share) (recorded int, err error) {
	ctx, span := p.telemetry.startPage(ctx, up.name, items[0].ID, min(size, len(items)))
	defer func() { p.telemetry.endPage(ctx, span, up.name, recorded, err) }()
	uow := app.NewUnitOfWork(p.Application)
	pageCtx := uow.Context(ctx)
	var pg page
	began := time.Now()
	for _, n := range items[:min(size, len(items))] {
		if len(pg.trackings) > 0 && time.Since(began) >= pageTime {
			break
		}
		notificationCtx, notificationSpan := p.telemetry.startNotification(pageCtx, up.name, n)
		event, err := up.mapper.ToDomainEvent(n.StoredEvent)
		if err != nil {
			endSpan(notificationSpan, err)
			return p.recordPage(ctx, &pg, fmt.Errorf("%s following %s: notification %d: %w", p.Name(), up.name, n.ID, err))
		}
		pe := &ProcessEvent{Tracking: persistence.Tracking{ApplicationName: up.name, NotificationID: n.ID, Partition: s.partition(n)}}
		if p.policy != nil {
			if err := p.policy(app.WithCause(notificationCtx, event), p, event, pe); err != nil {
				endSpan(notificationSpan, err)
				return p.recordPage(ctx, &pg, &PolicyError{Application: p.Name(), Upstream: up.name, Notification: n.ID, Err: err})
			}
			app.Stamp(pe.events, event)
		}
		endSpan(notificationSpan, nil)
		if !pg.add(pe) {
			break
		}
		uow.Put(pe.aggs...)
		uow.Forget()
	}
	return p.recordPage(ctx, &pg, nil)
}

// recordPage records pg, and then returns how many notifications it
// recorded and cause; or the error of recording it.
func (p *ProcessApplication) recordPage(ctx context.Context, pg *page, cause error) (int, error) {
	if len(pg.trackings) == 0 {
		return 0, cause
	}
	// An aggregate changed after it was saved (by a policy that failed)
	// is not what is recorded: its snapshot is not taken.
	aggs := slices.DeleteFunc(pg.aggs, func(agg domain.Aggregate) bool { return len(agg.PendingEvents()) > 0 })
	if _, err := p.SaveTrackedPage(ctx, pg.trackings, pg.events, aggs...); err != nil {
		return 0, err
	}
	return len(pg.trackings), cause
}

// page collects the processing of a page of notifications.
type page struct {
	trackings []persistence.Tracking
	events    []domain.Event
	aggs      []domain.Aggregate
	seenAggs  map[domain.Aggregate]bool
	versions  map[versionKey]bool
}

type versionKey struct {
	id      uuid.UUID
	version int64
}

// add adds the processing of one notification, unless one of its events
// is at an aggregate version that an event of the page holds already.
func (pg *page) add(pe *ProcessEvent) bool {
	if pg.versions == nil {
		pg.versions, pg.seenAggs = map[versionKey]bool{}, map[domain.Aggregate]bool{}
	}
	for _, e := range pe.events {
		if pg.versions[versionKey{e.OriginatorID, e.OriginatorVersion}] {
			return false
		}
	}
	for _, e := range pe.events {
		pg.versions[versionKey{e.OriginatorID, e.OriginatorVersion}] = true
	}
	pg.trackings = append(pg.trackings, pe.Tracking)
	pg.events = append(pg.events, pe.events...)
	for _, agg := range pe.aggs {
		if !pg.seenAggs[agg] {
			pg.seenAggs[agg] = true
			pg.aggs = append(pg.aggs, agg)
		}
	}
	return true
}

// readAhead reads the next notifications of an upstream while the current
// ones are processed.
type readAhead struct {
	reader  app.NotificationReader
	limit   int
	pending chan readResult // nil when no read is under way
	from    int64
}

type readResult struct {
	items []persistence.Notification
	err   error
}

// start reads from from in the background.
func (r *readAhead) start(ctx context.Context, from int64) {
	r.wait()
	r.pending, r.from = make(chan readResult, 1), from
	go func(ch chan<- readResult) {
		items, err := r.reader.ReadNotifications(ctx, from, r.limit)
		ch <- readResult{items, err}
	}(r.pending)
}

// read returns the notifications from from: those read ahead if they
// start there, else read now.
func (r *readAhead) read(ctx context.Context, from int64) ([]persistence.Notification, error) {
	if r.pending != nil && r.from == from {
		res := <-r.pending
		r.pending = nil
		if res.err == nil || ctx.Err() != nil {
			return res.items, res.err
		}
		// A read ahead that failed is tried again now.
	}
	r.wait()
	return r.reader.ReadNotifications(ctx, from, r.limit)
}

// wait waits for the read under way, if any, and drops it.
func (r *readAhead) wait() {
	if r.pending != nil {
		<-r.pending
		r.pending = nil
	}
}

// checkLeaderNotBehind returns a *LeaderBehindError if tracked is past the
// leader's last notification.
func (p *ProcessApplication) checkLeaderNotBehind(ctx context.Context, up *upstream, tracked int64) error {
	if tracked == 0 {
		return nil
	}
	max, err := up.reader.MaxNotificationID(ctx)
	if err != nil {
		return err
	}
	if tracked > max {
		return &LeaderBehindError{Application: p.Name(), Upstream: up.name, Tracked: tracked, LeaderMax: max}
	}
	return nil
}
