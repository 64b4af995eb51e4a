package wiki

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
)

// Page is an aggregate: a wiki page with a name, which may change, and a
// body. Its ID is random; pages are found by name through Index aggregates.
type Page struct {
	domain.Base
	Name string `json:"name"`
	Body string `json:"body"`
}

// PageCreated is the event that creates a Page.
type PageCreated struct {
	Name string `json:"name"`
	Body string `json:"body"`
}

// PageNameUpdated is the event that renames a Page.
type PageNameUpdated struct {
	Name string `json:"name"`
}

// NewPage creates a Page named name with body, with a new random ID.
func NewPage(name, body string) (*Page, error) {
	return domain.Create[Page](uuid.New(), PageCreated{Name: name, Body: body})
}

// UpdateName renames the page.
func (p *Page) UpdateName(name string) error {
	return domain.Trigger(p, PageNameUpdated{Name: name})
}

// Apply evolves the page's state from one of its events.
func (p *Page) Apply(data any) error {
	switch e := data.(type) {
	case PageCreated:
		p.Name, p.Body = e.Name, e.Body
	case PageNameUpdated:
		p.Name = e.Name
	default:
		return fmt.Errorf("page: unknown event %T", data)
	}
	return nil
}

// Index is an aggregate that maps a page name to the ID of the page of
// that name. Its ID is IndexID(Name), so that it is found from the name
// alone. Ref is uuid.Nil when the index has been released (no page has the
// name any more).
type Index struct {
	domain.Base
	Name string    `json:"name"`
	Ref  uuid.UUID `json:"ref"`
}

// IndexCreated is the event that creates an Index.
type IndexCreated struct {
	Name string    `json:"name"`
	Ref  uuid.UUID `json:"ref"`
}

// IndexRefUpdated is the event that points an Index at another page, or at
// none (uuid.Nil, the Python library's None).
type IndexRefUpdated struct {
	Ref uuid.UUID `json:"ref"`
}

// IndexID returns the ID of the Index of the page name: the version 5 UUID
// of "/pages/"+name in the URL namespace, like the Python library's
// uuid5(NAMESPACE_URL, f"/pages/{name}").
func IndexID(name string) uuid.UUID {
	return domain.NameID("/pages/" + name)
}

// NewIndex creates the Index of the name, referring to the page ref.
func NewIndex(name string, ref uuid.UUID) (*Index, error) {
	return domain.Create[Index](IndexID(name), IndexCreated{Name: name, Ref: ref})
}

// UpdateRef points the index at the page ref, or at none when ref is
// uuid.Nil.
func (i *Index) UpdateRef(ref uuid.UUID) error {
	return domain.Trigger(i, IndexRefUpdated{Ref: ref})
}

// Apply evolves the index's state from one of its events.
func (i *Index) Apply(data any) error {
	switch e := data.(type) {
	case IndexCreated:
		i.Name, i.Ref = e.Name, e.Ref
	case IndexRefUpdated:
		i.Ref = e.Ref
	default:
		return fmt.Errorf("index: unknown event %T", data)
	}
	return nil
}
