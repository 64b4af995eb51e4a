package persistence

import (
	"bytes"

	"github.com/google/uuid"
)

// StoredEvent is the universal type in which every domain event, and every
// snapshot, is recorded. State holds the serialized (and
// possibly compressed and encrypted) event; Topic names the event's type.
// The other fields are the event's metadata, recorded beside it: each is
// the zero value where there is none (and for events recorded before the
// store had the field).
type StoredEvent struct {
	OriginatorID      uuid.UUID
	OriginatorVersion int64
	Topic             string
	State             []byte

	// EventID identifies the event itself (not recorded for snapshots).
	EventID uuid.UUID
	// CorrelationID is shared by the events that one command started,
	// across every application that processed them; CausationID is the
	// EventID of the upstream event whose processing recorded this one.
	CorrelationID uuid.UUID
	CausationID   uuid.UUID
	// TraceContext is the trace context of the save that recorded the
	// event, for tracing to link to (see package app).
	TraceContext []byte
	// Hash is the event's hash, for applications that hash-chain their
	// events, or a snapshot's (see package integrity).
	Hash []byte
	// HeadHash is, for a snapshot, the hash of its aggregate's event at
	// the snapshot's version; nil for events.
	HeadHash []byte
}

// Equal reports whether s and o have the same fields.
func (s StoredEvent) Equal(o StoredEvent) bool {
	return s.OriginatorID == o.OriginatorID &&
		s.OriginatorVersion == o.OriginatorVersion &&
		s.Topic == o.Topic &&
		bytes.Equal(s.State, o.State) &&
		s.EventID == o.EventID &&
		s.CorrelationID == o.CorrelationID &&
		s.CausationID == o.CausationID &&
		bytes.Equal(s.TraceContext, o.TraceContext) &&
		bytes.Equal(s.Hash, o.Hash) &&
		bytes.Equal(s.HeadHash, o.HeadHash)
}

// Clone returns a copy of s that shares no bytes with it.
func (s StoredEvent) Clone() StoredEvent {
	s.State = bytes.Clone(s.State)
	s.TraceContext = bytes.Clone(s.TraceContext)
	s.Hash = bytes.Clone(s.Hash)
	s.HeadHash = bytes.Clone(s.HeadHash)
	return s
}

// Notification is a stored event together with its position ID in the
// application sequence.
type Notification struct {
	ID int64
	StoredEvent
}

// Tracking records that the notification NotificationID of the upstream
// application ApplicationName has been processed.
type Tracking struct {
	ApplicationName string
	NotificationID  int64
	// Partition is the partition of the upstream log that the
	// notification is in, when instances divide the log (see
	// PartitionRecorder); 0 otherwise.
	Partition int
}
