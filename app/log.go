package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/google/uuid"
)

// Section is a section of the notification log: up to a section size of
// notifications in ID order. ID names the notifications it holds, as
// "first,last" (empty when it holds none); NextID names the next section
// to read, and is empty when this section was not full (the reader has
// caught up, for now).
type Section struct {
	ID     string
	Items  []persistence.Notification
	NextID string
}

// NotificationReader reads an application's notifications: the seam
// through which followers read the applications they follow, whether the
// log is local (NotificationLog) or across the network.
type NotificationReader interface {
	// ReadNotifications returns up to limit notifications with IDs from
	// start, in ID order; with topics, only those of these topics (the
	// limit counts them). IDs may have gaps.
	ReadNotifications(ctx context.Context, start int64, limit int, topics ...string) ([]persistence.Notification, error)
	// MaxNotificationID returns the largest notification ID (the head of
	// the log), or 0 when the log is empty.
	MaxNotificationID(ctx context.Context) (int64, error)
}

// MaxReadLimit is the largest limit of NotificationLog.ReadNotifications.
const MaxReadLimit = 1000

var _ NotificationReader = (*NotificationLog)(nil)

// NotificationLog presents the application sequence in sections, so that
// others can follow the application's events in order. It is safe for
// concurrent use.
type NotificationLog struct {
	recorder    persistence.ApplicationRecorder
	sectionSize int
}

// SectionSize returns the largest number of notifications in a section.
func (l *NotificationLog) SectionSize() int { return l.sectionSize }

// Section returns the section named by id, "first,last": the notifications
// with IDs from first (at least 1), at most last-first+1 of them and at most
// the section size. Because IDs may have gaps, the section's own ID gives
// the IDs actually found, and its last ID may exceed last. A malformed id
// gives an error that is errors.Is(err, ErrSectionID).
func (l *NotificationLog) Section(ctx context.Context, id string) (Section, error) {
	first, last, err := ParseSectionID(id)
	if err != nil {
		return Section{}, err
	}
	start := max(1, first)
	limit := min(max(0, last-start+1), int64(l.sectionSize))
	if limit == 0 {
		return Section{}, nil
	}
	items, err := l.Select(ctx, start, int(limit))
	if err != nil {
		return Section{}, err
	}
	if len(items) == 0 {
		return Section{}, nil
	}
	lastID := items[len(items)-1].ID
	s := Section{ID: fmt.Sprintf("%d,%d", items[0].ID, lastID), Items: items}
	if int64(len(items)) == limit {
		s.NextID = fmt.Sprintf("%d,%d", lastID+1, lastID+limit)
	}
	return s, nil
}

// Select returns up to limit notifications from start, in ID order. A
// limit above the section size, or below 1, is an error.
func (l *NotificationLog) Select(ctx context.Context, start int64, limit int) ([]persistence.Notification, error) {
	if limit > l.sectionSize || limit < 1 {
		return nil, fmt.Errorf("select notifications: requested limit %d is not between 1 and the section size %d", limit, l.sectionSize)
	}
	return l.recorder.SelectNotifications(ctx, persistence.NotificationQuery{Start: start, Limit: limit})
}

// ReadNotifications returns up to limit notifications from start, in ID
// order, only of topics when any are given; see NotificationReader. A
// limit below 1 or above MaxReadLimit is an error.
func (l *NotificationLog) ReadNotifications(ctx context.Context, start int64, limit int, topics ...string) ([]persistence.Notification, error) {
	if limit > MaxReadLimit || limit < 1 {
		return nil, fmt.Errorf("read notifications: limit %d is not between 1 and %d", limit, MaxReadLimit)
	}
	return l.recorder.SelectNotifications(ctx, persistence.NotificationQuery{Start: start, Limit: limit, Topics: topics})
}

// ReadCorrelated returns up to limit notifications from start, in ID
// order, of the events with the correlation ID correlationID: the story
// one command started in this application (see WithCorrelationID). A
// limit below 1 or above MaxReadLimit, or the nil UUID, is an error. The
// stores filter as they scan the log from start; no index serves it.
func (l *NotificationLog) ReadCorrelated(ctx context.Context, correlationID uuid.UUID, start int64, limit int) ([]persistence.Notification, error) {
	if limit > MaxReadLimit || limit < 1 {
		return nil, fmt.Errorf("read notifications of correlation %s: limit %d is not between 1 and %d", correlationID, limit, MaxReadLimit)
	}
	if correlationID == uuid.Nil {
		return nil, errors.New("read notifications of a correlation: the correlation ID is the nil UUID")
	}
	return l.recorder.SelectNotifications(ctx, persistence.NotificationQuery{Start: start, Limit: limit, CorrelationID: correlationID})
}

// MaxNotificationID returns the largest notification ID, or 0 when the log
// is empty.
func (l *NotificationLog) MaxNotificationID(ctx context.Context) (int64, error) {
	return l.recorder.MaxNotificationID(ctx)
}

// ParseSectionID parses a section ID, "first,last" (such as "1,10"), as
// Section does; anything else gives an error that is errors.Is(err,
// ErrSectionID).
func ParseSectionID(id string) (first, last int64, err error) {
	a, b, ok := strings.Cut(id, ",")
	if ok {
		first, err = strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	}
	if ok && err == nil {
		last, err = strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("%w %q: expected \"first,last\", such as \"1,10\"", ErrSectionID, id)
	}
	return first, last, nil
}
