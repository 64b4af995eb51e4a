package integrity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// The hashing schemes: the first byte of every hash names the scheme that
// computed it, so that hashes of every known scheme verify.
const (
	// Scheme1 hashes the event's originator ID, version, topic, stored
	// state and its previous event's hash. Snapshots are sealed with it.
	Scheme1 = 1
	// Scheme2 is Scheme1 followed by the event's ID, correlation ID and
	// causation ID. New events use it unless the application asks for
	// Scheme1 (for example while older binaries that know only Scheme1
	// still verify).
	Scheme2 = 2
	// DefaultScheme is the scheme of new events.
	DefaultScheme = Scheme2
)

// Size is the length of a hash: one scheme byte and an HMAC-SHA256.
const Size = 1 + sha256.Size

// ErrUnknownScheme is matched by a *SchemeError: a hash, or a requested
// scheme, whose scheme number this version does not know.
var ErrUnknownScheme = errors.New("unknown hash scheme")

// Hasher computes and checks the hashes of events and snapshots with one
// salt (the HMAC key; empty is allowed, and is HMAC with an empty key).
// New hashes use its scheme; every known scheme is checked. It is safe for
// concurrent use.
type Hasher struct {
	salt   []byte
	scheme int
	strict bool      // see Strict
	pool   sync.Pool // of *mac keyed by salt
}

// NewHasher returns a hasher keyed by salt that writes hashes of scheme
// (Scheme1 or Scheme2; 0 means DefaultScheme). Another scheme is a
// *SchemeError.
func NewHasher(salt []byte, scheme int) (*Hasher, error) {
	if scheme == 0 {
		scheme = DefaultScheme
	}
	if scheme != Scheme1 && scheme != Scheme2 {
		return nil, fmt.Errorf("integrity: scheme %d: %w (%d and %d are known)", scheme, ErrUnknownScheme, Scheme1, Scheme2)
	}
	h := &Hasher{salt: append([]byte(nil), salt...), scheme: scheme}
	h.pool.New = func() any { return &mac{h: hmac.New(sha256.New, h.salt)} }
	return h, nil
}

// Scheme returns the scheme of the hashes h writes.
func (h *Hasher) Scheme() int { return h.scheme }

// Strict returns a hasher with h's salt and scheme whose chains refuse an
// event without a hash (a *HeadHashError), even before the first hashed
// one, and whose VerifyLog counts an unsealed snapshot as a problem: for
// an application that hash-chained every event it recorded, so that
// removing every hash of an aggregate does not pass for events recorded
// before hash-chaining (see docs/integrity.md).
func (h *Hasher) Strict() *Hasher {
	s, _ := NewHasher(h.salt, h.scheme) // h's scheme is known
	s.strict = true
	return s
}

// IsStrict reports whether h is strict (see Strict).
func (h *Hasher) IsStrict() bool { return h.strict }

// EventHash returns the hash, in h's scheme, of e chained to previous (the
// stored hash of the event before e in its aggregate's sequence; empty for
// the first hashed event). e.Hash and e.HeadHash are not hashed.
func (h *Hasher) EventHash(e persistence.StoredEvent, previous []byte) []byte {
	return h.sum(h.scheme, e, previous)
}

// SnapshotHash returns the seal of the snapshot s: its Scheme1 hash with
// s.HeadHash as the previous hash.
func (h *Hasher) SnapshotHash(s persistence.StoredEvent) []byte {
	return h.sum(Scheme1, s, s.HeadHash)
}

// check reports whether e.Hash is e's hash chained to previous, in the
// scheme it names (Scheme1 only for a snapshot); an unknown scheme is a
// *SchemeError.
func (h *Hasher) check(e persistence.StoredEvent, previous []byte, snapshot bool) (bool, error) {
	stored := e.Hash
	if len(stored) != Size || (stored[0] != Scheme1 && (snapshot || stored[0] != Scheme2)) {
		return false, &SchemeError{OriginatorID: e.OriginatorID, Version: e.OriginatorVersion, Snapshot: snapshot, Hash: stored}
	}
	return hmac.Equal(stored, h.sum(int(stored[0]), e, previous)), nil
}

// sum computes the hash of scheme over e and previous.
func (h *Hasher) sum(scheme int, e persistence.StoredEvent, previous []byte) []byte {
	m := h.pool.Get().(*mac)
	defer h.pool.Put(m)
	b := append(m.buf[:0], e.OriginatorID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.OriginatorVersion))
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Topic)))
	b = append(b, e.Topic...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.State)))
	b = append(b, e.State...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(previous)))
	b = append(b, previous...)
	if scheme >= Scheme2 {
		b = append(b, e.EventID[:]...)
		b = append(b, e.CorrelationID[:]...)
		b = append(b, e.CausationID[:]...)
	}
	if cap(b) <= maxPooledMessage {
		m.buf = b
	}
	m.h.Reset()
	m.h.Write(b)
	out := make([]byte, 1, Size)
	out[0] = byte(scheme)
	return m.h.Sum(out)
}

// mac is an HMAC keyed by a Hasher's salt and a buffer for the messages.
type mac struct {
	h   hash.Hash
	buf []byte
}

// maxPooledMessage bounds the message buffers kept for reuse.
const maxPooledMessage = 64 << 10

// SchemeError reports a recorded hash whose scheme is unknown, or whose
// length is not Size: written by a newer version, or damaged. It matches
// errors.Is(err, ErrUnknownScheme) and errors.Is(err,
// domain.ErrDataIntegrity).
type SchemeError struct {
	OriginatorID uuid.UUID
	Version      int64
	Snapshot     bool   // the hash is a snapshot's seal
	Hash         []byte // the recorded hash
}

func (e *SchemeError) Error() string {
	scheme := "no scheme"
	if len(e.Hash) > 0 {
		scheme = fmt.Sprintf("scheme %d", e.Hash[0])
	}
	return fmt.Sprintf("integrity: %s %d of %s: the hash (%s, %d bytes) is of no known scheme (%d or %d, %d bytes)",
		what(e.Snapshot), e.Version, e.OriginatorID, scheme, len(e.Hash), Scheme1, Scheme2, Size)
}

// Is matches ErrUnknownScheme and domain.ErrDataIntegrity.
func (e *SchemeError) Is(target error) bool {
	return target == ErrUnknownScheme || target == domain.ErrDataIntegrity
}
