package integrity

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Chain verifies the events of one aggregate, given in ascending version
// order, from its first event (NewChain) or from a snapshot's head
// (ChainFrom). Events without a hash before the first hashed one are
// accepted (they were recorded before the application hash-chained its
// events) unless the Hasher is strict. A Chain is not safe for concurrent
// use.
type Chain struct {
	h       *Hasher
	id      uuid.UUID
	head    []byte
	version int64
	started bool // version is known: an event was checked, or the chain started from a head
	hashed  bool // a hashed event (or a head) came before
}

// NewChain returns a chain that verifies the events of the aggregate id
// from its first recorded event.
func (h *Hasher) NewChain(id uuid.UUID) *Chain { return &Chain{h: h, id: id} }

// ChainFrom returns a chain that verifies the events of the aggregate id
// that follow its event at version, whose hash is head (a snapshot's
// head hash; nil when that event has none).
func (h *Hasher) ChainFrom(id uuid.UUID, version int64, head []byte) *Chain {
	return &Chain{h: h, id: id, head: head, version: version, started: true, hashed: head != nil}
}

// Next verifies e, the next event read, and makes it the chain's head. It
// returns a *HeadHashError when e is not the next version, or has no hash
// after a hashed event (or at all, when the Hasher is strict), an
// *EventHashError when its hash is not the hash
// of its contents chained to the head, and a *SchemeError for a hash of
// an unknown scheme. After an error the chain's head is unchanged.
func (c *Chain) Next(e persistence.StoredEvent) error {
	switch {
	case e.OriginatorID != c.id:
		return fmt.Errorf("integrity: event of %s in the chain of %s", e.OriginatorID, c.id)
	case c.started && e.OriginatorVersion != c.version+1:
		return &HeadHashError{OriginatorID: c.id, Version: e.OriginatorVersion,
			Reason: fmt.Sprintf("follows version %d: the events between are missing", c.version)}
	case e.Hash == nil && c.hashed:
		return &HeadHashError{OriginatorID: c.id, Version: e.OriginatorVersion, Reason: "has no hash, after a hashed event"}
	case e.Hash == nil && c.h.strict:
		return &HeadHashError{OriginatorID: c.id, Version: e.OriginatorVersion, Reason: "has no hash (strict: every event must have one)"}
	case e.Hash == nil:
		c.version, c.started = e.OriginatorVersion, true
		return nil
	}
	ok, err := c.h.check(e, c.head, false)
	if err != nil {
		return err
	}
	if !ok {
		return &EventHashError{OriginatorID: c.id, Version: e.OriginatorVersion}
	}
	c.head, c.version, c.started, c.hashed = e.Hash, e.OriginatorVersion, true, true
	return nil
}

// Head returns the hash of the last event verified (nil if it had none,
// or none was) and its version, and whether any event was verified or the
// chain started from a head.
func (c *Chain) Head() (hash []byte, version int64, ok bool) { return c.head, c.version, c.started }

// Verify verifies events, the events of one aggregate from its first
// recorded one, in ascending version order; errors are those of
// Chain.Next.
func (h *Hasher) Verify(events []persistence.StoredEvent) error {
	if len(events) == 0 {
		return nil
	}
	c := h.NewChain(events[0].OriginatorID)
	for _, e := range events {
		if err := c.Next(e); err != nil {
			return err
		}
	}
	return nil
}

// VerifySnapshot verifies the seal of the snapshot s: its hash is the
// Scheme1 hash of its contents with its head hash as previous hash. An
// unsealed snapshot is a *SnapshotHashError too: an application that
// hash-chains its events seals every snapshot it takes (and refuses
// others; see package app).
func (h *Hasher) VerifySnapshot(s persistence.StoredEvent) error {
	if s.Hash == nil {
		return &SnapshotHashError{OriginatorID: s.OriginatorID, Version: s.OriginatorVersion, Reason: "is not sealed"}
	}
	ok, err := h.check(s, s.HeadHash, true)
	if err != nil {
		return err
	}
	if !ok {
		return &SnapshotHashError{OriginatorID: s.OriginatorID, Version: s.OriginatorVersion,
			Reason: "does not match its seal: the snapshot was changed"}
	}
	return nil
}

// EventHashError reports an event whose recorded hash is not the hash of
// its contents chained to the hash of the event before it: the event was
// changed or moved to another version, or the event before it was
// changed or removed (then the error is at the first event after it). It
// matches errors.Is(err, domain.ErrDataIntegrity).
type EventHashError struct {
	OriginatorID uuid.UUID
	Version      int64
}

func (e *EventHashError) Error() string {
	return fmt.Sprintf("integrity: event %d of %s: the hash does not match the event chained to the one before it (the event, or the one before it, was changed, moved or removed)",
		e.Version, e.OriginatorID)
}

// Is matches domain.ErrDataIntegrity.
func (e *EventHashError) Is(target error) bool { return target == domain.ErrDataIntegrity }

// HeadHashError reports a broken chain at the event Version of an
// aggregate: the version does not follow the head's (events are
// missing), an event has no hash after a hashed one (or at all, in strict
// mode; see Hasher.Strict), or a snapshot's head
// hash is not the hash of the event at its version. Reason says which. It
// matches errors.Is(err, domain.ErrDataIntegrity).
type HeadHashError struct {
	OriginatorID uuid.UUID
	Version      int64
	Reason       string
}

func (e *HeadHashError) Error() string {
	return fmt.Sprintf("integrity: event %d of %s %s", e.Version, e.OriginatorID, e.Reason)
}

// Is matches domain.ErrDataIntegrity.
func (e *HeadHashError) Is(target error) bool { return target == domain.ErrDataIntegrity }

// SnapshotHashError reports a snapshot (at Version of an aggregate)
// whose seal does not verify, or that has none. It matches
// errors.Is(err, domain.ErrDataIntegrity).
type SnapshotHashError struct {
	OriginatorID uuid.UUID
	Version      int64
	Reason       string
}

func (e *SnapshotHashError) Error() string {
	return fmt.Sprintf("integrity: snapshot %d of %s %s", e.Version, e.OriginatorID, e.Reason)
}

// Is matches domain.ErrDataIntegrity.
func (e *SnapshotHashError) Is(target error) bool { return target == domain.ErrDataIntegrity }

// what names an event or a snapshot.
func what(snapshot bool) string {
	if snapshot {
		return "snapshot"
	}
	return "event"
}
