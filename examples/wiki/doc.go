// Package wiki is the Python library's example of saving several aggregates in one
// atomic transaction, and of finding aggregates by name through index
// aggregates with name-based (version 5) IDs.
//
// A Page has a name and a body and a random ID. For each name there is an
// Index aggregate whose ID is IndexID(name) and whose Ref is the ID of the
// page of that name. CreatePage saves a page and its index together, and
// RenamePage saves the renamed page, the index of the new name and the
// released index of the old name together. Because an aggregate's first
// event has version 1 and an (aggregate ID, version) is recorded at most
// once, a second index for a name in use cannot be recorded: the whole
// save is refused with a *persistence.ConcurrencyError, which is
// errors.Is(err, persistence.ErrIntegrity), and nothing of it is stored.
// No lock and no check-then-act race is needed for names to be unique.
//
// The released index of an old name refers to no page (its Ref is
// uuid.Nil), so the old name can be taken again by another page, or by
// the same page when renamed back.
//
// The program in cmd/wiki runs the example.
package wiki
