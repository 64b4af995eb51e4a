package persistence

import (
	"bytes"

	"github.com/google/uuid"
)

// StoredEvent is the universal type in which every domain event, and every
// snapshot, is recorded. State holds the serialized (and
// possibly compressed and encrypted) event; Topic names the event's type.
type StoredEvent struct {
	OriginatorID      uuid.UUID
	OriginatorVersion int64
	Topic             string
	State             []byte
}

// Equal reports whether s and o have the same fields.
func (s StoredEvent) Equal(o StoredEvent) bool {
	return s.OriginatorID == o.OriginatorID &&
		s.OriginatorVersion == o.OriginatorVersion &&
		s.Topic == o.Topic &&
		bytes.Equal(s.State, o.State)
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
