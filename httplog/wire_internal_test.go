package httplog

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Every field of a notification crosses the wire; absent metadata is left
// out of the JSON.
func TestWireRoundTrip(t *testing.T) {
	t.Parallel()
	full := persistence.Notification{ID: 7, StoredEvent: persistence.StoredEvent{
		OriginatorID: uuid.New(), OriginatorVersion: 3, Topic: "t:E", State: []byte{1, 2},
		EventID: uuid.New(), CorrelationID: uuid.New(), CausationID: uuid.New(),
		TraceContext: []byte{0, 9}, Hash: []byte{2, 8},
	}}
	plain := persistence.Notification{ID: 8, StoredEvent: persistence.StoredEvent{
		OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "t:E", State: []byte{},
	}}
	data, err := json.Marshal(toItems([]persistence.Notification{full, plain}))
	require.NoError(t, err)
	var items []item
	require.NoError(t, json.Unmarshal(data, &items))
	back := fromItems(items)
	require.True(t, full.StoredEvent.Equal(back[0].StoredEvent), "%+v", back[0])
	require.True(t, plain.StoredEvent.Equal(back[1].StoredEvent), "%+v", back[1])

	var raw []map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	require.Len(t, raw[0], 10)
	require.Len(t, raw[1], 5, "no metadata members: %v", raw[1])
}
