package httplog

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// SectionReader reads a notification log in linked sections:
// *app.NotificationLog and *Client are SectionReaders.
type SectionReader interface {
	// Section returns the section named by id, "first,last"; see
	// app.NotificationLog.Section.
	Section(ctx context.Context, id string) (app.Section, error)
}

// Log is a notification log that a Reader reads: along its sections
// (Read) and by pages (Select). *app.NotificationLog and *Client are Logs.
type Log interface {
	SectionReader
	app.NotificationReader
}

var (
	_ Log = (*app.NotificationLog)(nil)
	_ Log = (*Client)(nil)
)

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	// PageSize is the size of the sections that Read asks for (the log
	// may give smaller ones) and the limit of each read of Select, at
	// most app.MaxReadLimit (app.DefaultSectionSize when zero).
	PageSize int
	// Topics, when not empty, keeps only the notifications of these
	// topics: Select asks the log for them, Read filters the sections.
	Topics []string
}

// Reader reads a notification log, local or remote, in order: the Python
// library's NotificationLogReader. It is safe for concurrent use; each
// iteration reads the log afresh.
type Reader struct {
	log      Log
	pageSize int
	topics   []string
}

// NewReader returns a Reader of log. It panics, as a programmer error,
// when opts.PageSize is negative or above app.MaxReadLimit.
func NewReader(log Log, opts ReaderOptions) *Reader {
	if opts.PageSize < 0 || opts.PageSize > app.MaxReadLimit {
		panic(fmt.Sprintf("httplog: new reader: page size %d is not between 1 and %d", opts.PageSize, app.MaxReadLimit))
	}
	r := &Reader{log: log, pageSize: opts.PageSize, topics: slices.Clone(opts.Topics)}
	if r.pageSize == 0 {
		r.pageSize = app.DefaultSectionSize
	}
	return r
}

// Read yields the notifications with IDs from start, in ID order, following
// the log's linked sections from the section "start,start+PageSize-1" along
// their next IDs until a section that is not full: the end of the log, for
// now. On an error it yields the error and stops.
func (r *Reader) Read(ctx context.Context, start int64) iter.Seq2[persistence.Notification, error] {
	return func(yield func(persistence.Notification, error) bool) {
		start = max(start, 1)
		id := fmt.Sprintf("%d,%d", start, start+int64(r.pageSize)-1)
		for {
			s, err := r.log.Section(ctx, id)
			if err != nil {
				yield(persistence.Notification{}, fmt.Errorf("read notification log section %s: %w", id, err))
				return
			}
			advanced := false
			for _, n := range s.Items {
				if n.ID < start {
					continue
				}
				start, advanced = n.ID+1, true
				if len(r.topics) > 0 && !slices.Contains(r.topics, n.Topic) {
					continue
				}
				if !yield(n, nil) {
					return
				}
			}
			if s.NextID == "" || len(s.Items) == 0 {
				return
			}
			if !advanced {
				yield(persistence.Notification{}, fmt.Errorf("read notification log section %s: next section %s does not advance", id, s.NextID))
				return
			}
			id = s.NextID
		}
	}
}

// Select yields the notifications with IDs from start (of ReaderOptions'
// topics, if any), in ID order, reading the log a page at a time
// (ReadNotifications with a limit of PageSize) until a page that is not
// full. On an error it yields the error and stops.
func (r *Reader) Select(ctx context.Context, start int64) iter.Seq2[persistence.Notification, error] {
	return func(yield func(persistence.Notification, error) bool) {
		start = max(start, 1)
		for {
			page, err := r.log.ReadNotifications(ctx, start, r.pageSize, r.topics...)
			if err != nil {
				yield(persistence.Notification{}, fmt.Errorf("select notifications from %d: %w", start, err))
				return
			}
			for _, n := range page {
				if !yield(n, nil) {
					return
				}
			}
			if len(page) < r.pageSize {
				return
			}
			start = page[len(page)-1].ID + 1
		}
	}
}
