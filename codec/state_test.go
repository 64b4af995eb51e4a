package codec

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// splitState must agree with a full decode of the state by encoding/json
// wherever it takes a state apart and its data is one JSON value (what the
// mapper checks before it takes the split).
func FuzzSplitState(f *testing.F) {
	ts := time.Date(2026, 12, 2, 21, 40, 0, 123456000, time.UTC)
	for _, st := range []eventState{
		{Timestamp: ts, Data: map[string]any{"amount": 1, "note": "changed"}},
		{Timestamp: ts, ClassVersion: 3, OriginatorTopic: "bank:Account", Data: []int{1, 2}},
		{Timestamp: ts.In(time.FixedZone("", 3600)), OriginatorTopic: "é \u2028", Data: "x"},
		{Data: nil},
	} {
		b, err := json.Marshal(st)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"timestamp":"2026-12-02T21:40:00Z","data":{"a":1},"data":{"b":2}}`))
	f.Add([]byte(`{"timestamp":"2026-12-02T21:40:00Z","class_version":01,"data":1}`))
	f.Add([]byte(`{"timestamp":"2026-12-02T24:40:00Z","data":1}`))
	f.Add([]byte(`{"timestamp":"2026-12-02T21:40:00Z","originator_topic":"a\"b","data":1}`))
	f.Fuzz(func(t *testing.T, state []byte) {
		ts, version, topic, data, ok := splitState(state)
		if !ok || !json.Valid(data) {
			return
		}
		var full rawEventState
		if err := json.Unmarshal(state, &full); err != nil {
			t.Fatalf("split %q, but encoding/json refuses it: %v", state, err)
		}
		if !ts.Equal(full.Timestamp) || ts.Location().String() != full.Timestamp.Location().String() {
			t.Errorf("timestamp %v, encoding/json %v", ts, full.Timestamp)
		}
		if version != full.ClassVersion || topic != full.OriginatorTopic {
			t.Errorf("version %d, topic %q; encoding/json %d, %q", version, topic, full.ClassVersion, full.OriginatorTopic)
		}
		var split, whole bytes.Buffer
		if json.Compact(&split, data) != nil || json.Compact(&whole, full.Data) != nil || !bytes.Equal(split.Bytes(), whole.Bytes()) {
			t.Errorf("data %q, encoding/json %q", data, full.Data)
		}
	})
}

func TestSplitStateRefusesOtherForms(t *testing.T) {
	t.Parallel()
	for _, state := range []string{
		`{ "timestamp":"2026-12-02T21:40:00Z","data":1}`,
		`{"data":1,"timestamp":"2026-12-02T21:40:00Z"}`,
		`{"Timestamp":"2026-12-02T21:40:00Z","data":1}`,
		`{"timestamp":"2026-12-02T21:40:00\u005a","data":1}`,
		`{"timestamp":"2026-12-02T21:40:00Z","class_version":-1,"data":1}`,
		`{"timestamp":"2026-12-02T21:40:00Z","class_version":1.5,"data":1}`,
		`{"timestamp":"2026-12-02T21:40:00Z","originator_topic":"a\nb","data":1}`,
		`{"timestamp":"2026-12-02T21:40:00Z","originator_topic":"\xff","data":1}`,
		`{"timestamp":"2026-12-02T21:40:00Z","extra":0,"data":1}`,
		`{"timestamp":"2026-12-02T21:40:00Z","data":1} `,
		`{"timestamp":"2026-12-02T21:40:00Z","data":}`,
		`{"timestamp":"not a time","data":1}`,
	} {
		if _, _, _, _, ok := splitState([]byte(state)); ok {
			t.Errorf("splitState(%s) took it apart", state)
		}
	}
}
