package httplog

import (
	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// item is a notification on the wire; State and the other byte strings
// are base64 in JSON. The metadata is left out where there is none.
type item struct {
	ID                int64     `json:"id"`
	OriginatorID      uuid.UUID `json:"originator_id"`
	OriginatorVersion int64     `json:"originator_version"`
	Topic             string    `json:"topic"`
	State             []byte    `json:"state"`
	EventID           uuid.UUID `json:"event_id,omitzero"`
	CorrelationID     uuid.UUID `json:"correlation_id,omitzero"`
	CausationID       uuid.UUID `json:"causation_id,omitzero"`
	TraceContext      []byte    `json:"trace_context,omitempty"`
	EventHash         []byte    `json:"event_hash,omitempty"`
}

type sectionBody struct {
	SectionID string `json:"section_id"`
	Items     []item `json:"items"`
	NextID    string `json:"next_id"`
}

type notificationsBody struct {
	Items []item `json:"items"`
}

type headBody struct {
	MaxNotificationID int64 `json:"max_notification_id"`
}

type errorBody struct {
	Error string `json:"error"`
}

func toItems(ns []persistence.Notification) []item {
	items := make([]item, len(ns))
	for i, n := range ns {
		items[i] = item{ID: n.ID, OriginatorID: n.OriginatorID, OriginatorVersion: n.OriginatorVersion, Topic: n.Topic, State: n.State,
			EventID: n.EventID, CorrelationID: n.CorrelationID, CausationID: n.CausationID, TraceContext: n.TraceContext, EventHash: n.Hash}
	}
	return items
}

func fromItems(items []item) []persistence.Notification {
	if len(items) == 0 {
		return nil
	}
	ns := make([]persistence.Notification, len(items))
	for i, it := range items {
		state := it.State
		if state == nil {
			state = []byte{}
		}
		ns[i] = persistence.Notification{ID: it.ID, StoredEvent: persistence.StoredEvent{
			OriginatorID: it.OriginatorID, OriginatorVersion: it.OriginatorVersion, Topic: it.Topic, State: state,
			EventID: it.EventID, CorrelationID: it.CorrelationID, CausationID: it.CausationID, TraceContext: it.TraceContext, Hash: it.EventHash,
		}}
	}
	return ns
}

func toSection(b sectionBody) app.Section {
	return app.Section{ID: b.SectionID, Items: fromItems(b.Items), NextID: b.NextID}
}
