package system

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Policy is how a process application responds to an event of an
// application it follows: it may get and change aggregates of its own
// application (p) and must hand every changed aggregate to pe.Save, so
// that the new events are recorded together with the tracking record of
// the event's notification. Events it ignores need no Save. An error stops
// processing at this notification, records nothing for it, and is
// returned as a *PolicyError; processing resumes there next time.
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

	mu        sync.Mutex
	upstreams map[string]*upstream
}

// upstream is an application followed: the reader of its notifications
// and the mapper that decodes them (with its own cipher settings).
type upstream struct {
	name   string
	reader app.NotificationReader
	mapper *codec.Mapper
	mu     sync.Mutex // one PullAndProcess at a time
}

// pageSize is how many upstream notifications PullAndProcess reads at once.
const pageSize = 100

// NewProcessApplication makes a an application that processes the events
// of the applications it follows (see Follow) with policy.
func NewProcessApplication(a *app.Application, policy Policy) *ProcessApplication {
	return &ProcessApplication{Application: a, policy: policy, upstreams: map[string]*upstream{}}
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
// leader that have not been processed yet, in order, each in its own
// transaction with its tracking record, starting after the last tracked
// notification, until it has caught up. It returns how many notifications
// it processed. If another instance of this application records a
// notification first (a tracking or version conflict), it carries on from
// the new position; conflicts with no progress past the same position are
// an error. Errors: a *PolicyError, a *codec.MappingError for
// a notification it cannot decode, or a persistence error; processing
// stops at that notification. Once caught up, it returns a
// *LeaderBehindError if the position tracked is past the leader's last
// notification.
func (p *ProcessApplication) PullAndProcess(ctx context.Context, leader string) (int, error) {
	p.mu.Lock()
	up, ok := p.upstreams[leader]
	p.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("%s does not follow %q", p.Name(), leader)
	}
	up.mu.Lock()
	defer up.mu.Unlock()

	processed, conflicts := 0, 0
	stuckAt := int64(-1) // the position of the last conflict
	for {
		last, err := p.Recorder().MaxTrackingID(ctx, leader)
		if err != nil {
			return processed, err
		}
		if last != stuckAt {
			conflicts = 0 // progress since the last conflict
		}
		items, err := up.reader.ReadNotifications(ctx, last+1, pageSize)
		if err != nil {
			return processed, err
		}
		if len(items) == 0 {
			return processed, p.checkLeaderNotBehind(ctx, up, last)
		}
		for _, n := range items {
			err := p.process(ctx, up, n)
			if persistence.IsConflict(err) {
				if conflicts++; conflicts > maxConflicts {
					return processed, fmt.Errorf("%s following %s: giving up after %d conflicts at notification %d: %w", p.Name(), leader, conflicts, n.ID, err)
				}
				stuckAt = last
				break // another instance recorded first: re-read the position
			}
			if err != nil {
				return processed, err
			}
			processed++
		}
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

// process runs the policy on one notification and records the result with
// its tracking record.
func (p *ProcessApplication) process(ctx context.Context, up *upstream, n persistence.Notification) error {
	event, err := up.mapper.ToDomainEvent(n.StoredEvent)
	if err != nil {
		return fmt.Errorf("%s following %s: notification %d: %w", p.Name(), up.name, n.ID, err)
	}
	pe := &ProcessEvent{Tracking: persistence.Tracking{ApplicationName: up.name, NotificationID: n.ID}}
	if p.policy != nil {
		if err := p.policy(ctx, p, event, pe); err != nil {
			return &PolicyError{Application: p.Name(), Upstream: up.name, Notification: n.ID, Err: err}
		}
	}
	_, err = p.SaveTracked(ctx, pe.Tracking, pe.events, pe.aggs...)
	return err
}
