package wiki

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
)

// Name is the application's name. It prefixes the application's
// environment variables (WIKI_POSTGRES_SCHEMA) and names its Postgres
// schema ("wiki") by default.
const Name = "Wiki"

// The topics under which the example's types are stored.
const (
	TopicPage            = "wiki:Page"
	TopicPageCreated     = "wiki:PageCreated"
	TopicPageNameUpdated = "wiki:PageNameUpdated"
	TopicIndex           = "wiki:Index"
	TopicIndexCreated    = "wiki:IndexCreated"
	TopicIndexRefUpdated = "wiki:IndexRefUpdated"
)

// ErrPageNotFound is returned when no page has the name asked for. Errors
// that wrap it also wrap app.ErrAggregateNotFound when the name's index
// was never recorded.
var ErrPageNotFound = errors.New("page not found")

// NewRegistry returns a registry of the Page and Index aggregates and
// their events.
func NewRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(TopicPage, Page{})
	r.Register(TopicPageCreated, PageCreated{})
	r.Register(TopicPageNameUpdated, PageNameUpdated{})
	r.Register(TopicIndex, Index{})
	r.Register(TopicIndexCreated, IndexCreated{})
	r.Register(TopicIndexRefUpdated, IndexRefUpdated{})
	return r
}

// Wiki is the wiki application: pages that are found by name, and can be
// renamed. It embeds the *app.Application, so Save, Log, Mapper and Close
// are at hand. It is safe for concurrent use.
type Wiki struct {
	*app.Application
	pages   *app.Repository[Page, *Page]
	indexes *app.Repository[Index, *Index]
}

// NewWiki builds a Wiki application. opts configures it as for app.New
// (Env, Lookup, ...); Name defaults to Name and Registry to NewRegistry().
// Close it when done.
func NewWiki(ctx context.Context, opts app.Options) (*Wiki, error) {
	if opts.Name == "" {
		opts.Name = Name
	}
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Wiki{Application: a, pages: app.NewRepository[Page](a), indexes: app.NewRepository[Index](a)}, nil
}

// CreatePage creates a page named name with body and saves it together
// with the index of its name, and returns the page's ID. If another page
// has the name, nothing is saved and the error is a
// *persistence.ConcurrencyError (errors.Is(err, persistence.ErrIntegrity)).
func (w *Wiki) CreatePage(ctx context.Context, name, body string) (uuid.UUID, error) {
	page, err := NewPage(name, body)
	if err != nil {
		return uuid.Nil, err
	}
	index, err := w.claimIndex(ctx, name, page.ID())
	if err != nil {
		return uuid.Nil, fmt.Errorf("create page %q: %w", name, err)
	}
	if _, err := w.Save(ctx, page, index); err != nil {
		return uuid.Nil, fmt.Errorf("create page %q: %w", name, err)
	}
	return page.ID(), nil
}

// GetPage returns the page named name. If there is none the error is
// errors.Is(err, ErrPageNotFound).
func (w *Wiki) GetPage(ctx context.Context, name string) (*Page, error) {
	page, _, err := w.getPage(ctx, name)
	return page, err
}

// getPage returns the page named name and the index of the name through
// which it was found.
func (w *Wiki) getPage(ctx context.Context, name string) (*Page, *Index, error) {
	index, err := w.indexes.Get(ctx, IndexID(name))
	if errors.Is(err, app.ErrAggregateNotFound) {
		return nil, nil, fmt.Errorf("get page %q: %w: %w", name, ErrPageNotFound, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get page %q: %w", name, err)
	}
	if index.Ref == uuid.Nil {
		return nil, nil, fmt.Errorf("get page %q: %w: the name was released", name, ErrPageNotFound)
	}
	page, err := w.pages.Get(ctx, index.Ref)
	if err != nil {
		return nil, nil, fmt.Errorf("get page %q: %w", name, err)
	}
	return page, index, nil
}

// RenamePage renames the page named name to newName. It saves, in one
// transaction, the renamed page, the index of newName and the index of
// name released (referring to no page). If another page has newName,
// nothing is saved and the error is a *persistence.ConcurrencyError
// (errors.Is(err, persistence.ErrIntegrity)); if no page has name, it is
// errors.Is(err, ErrPageNotFound). Renaming a page to its own name does
// nothing.
func (w *Wiki) RenamePage(ctx context.Context, name, newName string) error {
	page, oldIndex, err := w.getPage(ctx, name)
	if err != nil {
		return err
	}
	if newName == name {
		return nil
	}
	if err := page.UpdateName(newName); err != nil {
		return err
	}
	newIndex, err := w.claimIndex(ctx, newName, page.ID())
	if err != nil {
		return fmt.Errorf("rename page %q to %q: %w", name, newName, err)
	}
	if err := oldIndex.UpdateRef(uuid.Nil); err != nil {
		return err
	}
	// The old index is the one the page was found through: saving its next
	// version with the page makes a concurrent rename of the page, which
	// saves that version too, a conflict, even when the page was read
	// after the other rename was recorded.
	if _, err := w.Save(ctx, page, newIndex, oldIndex); err != nil {
		return fmt.Errorf("rename page %q to %q: %w", name, newName, err)
	}
	return nil
}

// claimIndex returns the index of name, referring to page, to be saved
// with the page: a new index, or the released index of the name pointed at
// page. A new index for a name that is taken is refused when it is saved,
// as its version 1 is recorded already.
func (w *Wiki) claimIndex(ctx context.Context, name string, page uuid.UUID) (*Index, error) {
	index, err := w.indexes.Get(ctx, IndexID(name))
	switch {
	case errors.Is(err, app.ErrAggregateNotFound):
		return NewIndex(name, page)
	case err != nil:
		return nil, err
	case index.Ref != uuid.Nil:
		// Taken: let the recorder refuse it, as the Python library does, so that the
		// error is the same however the race was lost.
		return NewIndex(name, page)
	}
	if err := index.UpdateRef(page); err != nil {
		return nil, err
	}
	return index, nil
}
