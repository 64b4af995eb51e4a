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

// parseUTC must read the library's timestamps, and agree with time.Time's
// UnmarshalJSON wherever it reads one.
func TestParseUTC(t *testing.T) {
	t.Parallel()
	for _, ts := range []time.Time{
		time.Now().UTC(),
		time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 500_000_000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	} {
		quoted, err := ts.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := parseUTC(quoted); !ok || got != ts {
			t.Errorf("parseUTC(%s) = %v, %v; want %v", quoted, got, ok, ts)
		}
	}
	for _, quoted := range []string{
		`"2026-12-03T09:30:00Z"`, `"2026-12-03T09:30:00.1Z"`, `"2026-12-03T09:30:00.123456789Z"`,
		`"2026-12-03T09:30:00.1234567891Z"`, `"2026-12-03T09:30:00.Z"`, `"2026-02-29T00:00:00Z"`,
		`"2026-04-31T00:00:00Z"`, `"2026-13-01T00:00:00Z"`, `"2026-00-01T00:00:00Z"`, `"2026-12-00T00:00:00Z"`,
		`"2026-12-03T24:00:00Z"`, `"2026-12-03T09:60:00Z"`, `"2026-12-03T09:30:60Z"`, `"2026-12-31T23:59:60Z"`, `"2026-12-03 09:30:00Z"`,
		`"2026-12-03T09:30:00+01:00"`, `"2026-12-03T09:30:00z"`, `"-026-12-03T09:30:00Z"`, `"2026-1a-03T09:30:00Z"`,
		`"0000-01-01T00:00:00Z"`, `"2026-12-03T09:30:00,5Z"`, `"2026-12-03T09:30:00.-5Z"`,
	} {
		got, ok := parseUTC([]byte(quoted))
		if !ok {
			continue
		}
		var want time.Time
		if err := want.UnmarshalJSON([]byte(quoted)); err != nil {
			t.Errorf("parseUTC(%s) = %v, but UnmarshalJSON refuses it: %v", quoted, got, err)
		} else if got != want {
			t.Errorf("parseUTC(%s) = %v, UnmarshalJSON %v", quoted, got, want)
		}
	}
}
