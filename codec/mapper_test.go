package codec_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Money is a custom value type: it transcodes itself as "units.cents".
type Money struct{ Cents int64 }

func (m Money) MarshalText() ([]byte, error) {
	return []byte(fmt.Sprintf("%d.%02d", m.Cents/100, m.Cents%100)), nil
}

func (m *Money) UnmarshalText(b []byte) error {
	var units, cents int64
	if _, err := fmt.Sscanf(string(b), "%d.%02d", &units, &cents); err != nil {
		return fmt.Errorf("money %q: %w", b, err)
	}
	m.Cents = units*100 + cents
	return nil
}

type Deposited struct {
	Amount  Money
	Account uuid.UUID
	Note    string
	At      time.Time
}

type Account struct {
	domain.Base
	Balance Money
	Owner   string
}

type Opened struct{ Owner string }

func (a *Account) Apply(event any) error {
	switch e := event.(type) {
	case Opened:
		a.Owner = e.Owner
	case Deposited:
		a.Balance.Cents += e.Amount.Cents
	}
	return nil
}

func newMapper() *codec.Mapper {
	reg := codec.NewRegistry()
	reg.Register("bank:Deposited", Deposited{})
	reg.Register("bank:Opened", Opened{}, codec.Aliases("bank:AccountOpened"))
	reg.Register("bank:Account", &Account{})
	return &codec.Mapper{Registry: reg}
}

func deposit() domain.Event {
	return domain.Event{
		OriginatorID:      uuid.New(),
		OriginatorVersion: 2,
		Timestamp:         time.Date(2026, 11, 23, 12, 30, 0, 123456000, time.UTC),
		Data:              Deposited{Amount: Money{Cents: 1234}, Account: uuid.New(), Note: "salary", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
}

func TestMapperRoundTrip(t *testing.T) {
	t.Parallel()
	m := newMapper()
	e := deposit()
	stored, err := m.ToStoredEvent(e)
	require.NoError(t, err)
	require.Equal(t, "bank:Deposited", stored.Topic)
	require.Equal(t, e.OriginatorID, stored.OriginatorID)
	require.Equal(t, e.OriginatorVersion, stored.OriginatorVersion)
	back, err := m.ToDomainEvent(stored)
	require.NoError(t, err)
	require.Equal(t, e, back)
}

// Events of one type decoded one after another are values of their own:
// a field missing from an event's data is zero whatever the events decoded
// before held, one that the plain decoder hands to encoding/json midway
// decodes from zero, and decoding an event changes none decoded before.
func TestMapperDecodesEachEventAfresh(t *testing.T) {
	t.Parallel()
	m := newMapper()
	full := deposit()
	stored, err := m.ToStoredEvent(full)
	require.NoError(t, err)
	state := func(data string) persistence.StoredEvent {
		return persistence.StoredEvent{OriginatorID: full.OriginatorID, OriginatorVersion: 3, Topic: "bank:Deposited",
			State: []byte(`{"timestamp":"2026-11-23T12:30:00Z","data":` + data + `}`)}
	}
	account := uuid.New()
	partial := state(`{"Note":"tip"}`)
	// The plain decoder decodes Note, then meets a key in another case,
	// which only encoding/json matches.
	mixedCase := state(`{"Note":"mixed","account":"` + account.String() + `"}`)
	first, err := m.ToDomainEvent(stored)
	require.NoError(t, err)
	for range 3 {
		got, err := m.ToDomainEvent(partial)
		require.NoError(t, err)
		require.Equal(t, Deposited{Note: "tip"}, got.Data)
		got, err = m.ToDomainEvent(mixedCase)
		require.NoError(t, err)
		require.Equal(t, Deposited{Note: "mixed", Account: account}, got.Data)
		got, err = m.ToDomainEvent(stored)
		require.NoError(t, err)
		require.Equal(t, full, got)
	}
	require.Equal(t, full, first)
}

// The event's IDs are metadata beside its state, not in it.
func TestMapperCarriesTheEventIDs(t *testing.T) {
	t.Parallel()
	m := newMapper()
	e := deposit()
	e.ID, e.CorrelationID, e.CausationID = uuid.New(), uuid.New(), uuid.New()
	stored, err := m.ToStoredEvent(e)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{e.ID, e.CorrelationID, e.CausationID}, []uuid.UUID{stored.EventID, stored.CorrelationID, stored.CausationID})
	for _, id := range []uuid.UUID{e.ID, e.CorrelationID, e.CausationID} {
		require.NotContains(t, string(stored.State), id.String())
	}
	back, err := m.ToDomainEvent(stored)
	require.NoError(t, err)
	require.Equal(t, e, back)
}

func TestMapperStateOmitsIDAndVersionAndIsReadable(t *testing.T) {
	t.Parallel()
	e := deposit()
	stored, err := newMapper().ToStoredEvent(e)
	require.NoError(t, err)
	state := string(stored.State)
	require.NotContains(t, state, e.OriginatorID.String())
	require.NotContains(t, state, "originator")
	require.Contains(t, state, `"timestamp":"2026-11-23T12:30:00.123456Z"`)
	require.Contains(t, state, `"Amount":"12.34"`, "custom value types transcode themselves")
	require.NotContains(t, state, "class_version", "version 1 is not recorded")
}

func TestMapperCompressionAndEncryption(t *testing.T) {
	t.Parallel()
	key, err := codec.CreateAESKey(32)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(key)
	require.NoError(t, err)
	cipher, err := codec.NewAESCipher(raw)
	require.NoError(t, err)

	e := deposit()
	e.Data = Deposited{Note: strings.Repeat("a long and repetitive note ", 20)}
	plain, err := newMapper().ToStoredEvent(e)
	require.NoError(t, err)

	both := newMapper()
	both.Compressor = codec.ZlibCompressor{}
	both.Cipher = cipher
	sealed, err := both.ToStoredEvent(e)
	require.NoError(t, err)
	require.NotContains(t, string(sealed.State), "2026-11-23", "encrypted state hides the timestamp")
	require.Less(t, len(sealed.State), len(plain.State))
	back, err := both.ToDomainEvent(sealed)
	require.NoError(t, err)
	require.Equal(t, e, back)

	// The order is compress then encrypt: decrypting yields zlib data.
	compressed, err := cipher.Decrypt(sealed.State)
	require.NoError(t, err)
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	require.NoError(t, err)
	decompressed, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Equal(t, plain.State, decompressed)
}

func TestMapperErrorsAreTyped(t *testing.T) {
	t.Parallel()
	m := newMapper()
	good, err := m.ToStoredEvent(deposit())
	require.NoError(t, err)

	otherKey := make([]byte, 16)
	key := bytes.Repeat([]byte{7}, 16)
	c1, err := codec.NewAESCipher(key)
	require.NoError(t, err)
	c2, err := codec.NewAESCipher(otherKey)
	require.NoError(t, err)
	encrypting := newMapper()
	encrypting.Cipher = c1
	encrypted, err := encrypting.ToStoredEvent(deposit())
	require.NoError(t, err)
	wrongKey := newMapper()
	wrongKey.Cipher = c2
	compressing := newMapper()
	compressing.Compressor = codec.ZlibCompressor{}

	cases := []struct {
		name   string
		mapper *codec.Mapper
		stored persistence.StoredEvent
		want   error
	}{
		{"unknown topic", m, withTopic(good, "bank:Renamed"), codec.ErrUnknownTopic},
		{"corrupt state", m, withState(good, []byte("{not json")), codec.ErrDecode},
		{"state of another shape", m, withState(good, []byte(`{"timestamp":"x","data":{}}`)), codec.ErrDecode},
		{"data does not fit the type", m, withState(good, []byte(`{"timestamp":"2026-01-01T00:00:00Z","data":{"Note":42}}`)), codec.ErrDecode},
		{"wrong cipher key", wrongKey, encrypted, codec.ErrCipherText},
		{"tampered cipher text", encrypting, withState(encrypted, flipLast(encrypted.State)), codec.ErrCipherText},
		{"not compressed", compressing, good, codec.ErrCompressedData},
	}
	for _, c := range cases {
		_, err := c.mapper.ToDomainEvent(c.stored)
		require.ErrorIs(t, err, c.want, c.name)
		var mapErr *codec.MappingError
		require.ErrorAs(t, err, &mapErr, c.name)
		require.Equal(t, c.stored.OriginatorID, mapErr.OriginatorID, c.name)
		require.Contains(t, err.Error(), c.stored.OriginatorID.String(), c.name)
	}

	type Unregistered struct{ X int }
	_, err = m.ToStoredEvent(domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Data: Unregistered{}})
	require.ErrorIs(t, err, codec.ErrUnregisteredType)
	require.Contains(t, err.Error(), "Unregistered")
	_, err = m.ToStoredEvent(domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Data: &Deposited{}})
	require.ErrorIs(t, err, codec.ErrEncode, "pointer data is refused")
	type Bad struct{ C chan int }
	m.Registry.Register("bad:Bad", Bad{})
	_, err = m.ToStoredEvent(domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Data: Bad{C: make(chan int)}})
	require.ErrorIs(t, err, codec.ErrEncode)
}

func withTopic(s persistence.StoredEvent, topic string) persistence.StoredEvent {
	s.Topic = topic
	return s
}

func withState(s persistence.StoredEvent, state []byte) persistence.StoredEvent {
	s.State = state
	return s
}

func flipLast(b []byte) []byte {
	out := append([]byte(nil), b...)
	out[len(out)-1] ^= 1
	return out
}

func TestMapperOldTopicAliasStillDecodes(t *testing.T) {
	t.Parallel()
	m := newMapper()
	e := domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Timestamp: time.Now().UTC(), Data: Opened{Owner: "Alice"}}
	stored, err := m.ToStoredEvent(e)
	require.NoError(t, err)
	require.Equal(t, "bank:Opened", stored.Topic, "new events use the current topic")
	back, err := m.ToDomainEvent(withTopic(stored, "bank:AccountOpened"))
	require.NoError(t, err)
	require.Equal(t, Opened{Owner: "Alice"}, back.Data)
}

// The Python library's worked example: version 1 has A; version 2 adds B (default
// 0); version 3 adds C (default 0.0).
type ThingV1 struct{ A string }
type Thing struct {
	A string
	B int
	C float64
}

func TestMapperUpcastsEventV1ToV3(t *testing.T) {
	t.Parallel()
	old := codec.NewRegistry()
	old.Register("things:Thing", ThingV1{})
	v1, err := (&codec.Mapper{Registry: old}).ToStoredEvent(domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Data: ThingV1{A: "a"}})
	require.NoError(t, err)

	upcastV1V2 := func(s map[string]any) error { s["B"] = 7; return nil }
	upcastV2V3 := func(s map[string]any) error { s["C"] = 0.5; return nil }
	current := codec.NewRegistry()
	current.Register("things:Thing", Thing{}, codec.Version(3),
		codec.Upcast(1, upcastV1V2), codec.Upcast(2, upcastV2V3))
	m := &codec.Mapper{Registry: current}
	e, err := m.ToDomainEvent(v1)
	require.NoError(t, err)
	require.Equal(t, Thing{A: "a", B: 7, C: 0.5}, e.Data)

	// New events record their version and are not upcast again.
	v3, err := m.ToStoredEvent(domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Data: Thing{A: "x", B: 1, C: 2}})
	require.NoError(t, err)
	require.Contains(t, string(v3.State), `"class_version":3`)
	e, err = m.ToDomainEvent(v3)
	require.NoError(t, err)
	require.Equal(t, Thing{A: "x", B: 1, C: 2}, e.Data)

	// A gap with no upcaster, and a version from the future, are errors.
	gap := codec.NewRegistry()
	gap.Register("things:Thing", Thing{}, codec.Version(3), codec.Upcast(1, upcastV1V2))
	_, err = (&codec.Mapper{Registry: gap}).ToDomainEvent(v1)
	require.ErrorIs(t, err, codec.ErrUpcast)
	var upErr *codec.UpcastError
	require.ErrorAs(t, err, &upErr)
	require.Equal(t, 1, upErr.StoredVersion)
	require.Equal(t, 3, upErr.CurrentVersion)
	require.Contains(t, err.Error(), "no upcaster from version 2 to 3")
	_, err = (&codec.Mapper{Registry: old}).ToDomainEvent(v3)
	require.ErrorIs(t, err, codec.ErrUpcast)
	require.Contains(t, err.Error(), "newer version")

	failing := codec.NewRegistry()
	failing.Register("things:Thing", Thing{}, codec.Version(2), codec.Upcast(1, func(map[string]any) error { return errors.New("boom") }))
	_, err = (&codec.Mapper{Registry: failing}).ToDomainEvent(v1)
	require.ErrorIs(t, err, codec.ErrUpcast)
}

func TestMapperSnapshotRoundTripAndUpcast(t *testing.T) {
	t.Parallel()
	m := newMapper()
	acc, err := domain.Create[Account](uuid.New(), Opened{Owner: "Alice"})
	require.NoError(t, err)
	require.NoError(t, domain.Trigger(acc, Deposited{Amount: Money{Cents: 500}}))
	snap := domain.TakeSnapshot(acc)
	stored, err := m.ToStoredSnapshot(snap)
	require.NoError(t, err)
	require.Equal(t, "bank:Account", stored.Topic)
	require.Equal(t, int64(2), stored.OriginatorVersion)

	back, err := m.ToSnapshot(stored)
	require.NoError(t, err)
	restored, err := domain.FromSnapshot[Account](back)
	require.NoError(t, err)
	require.Equal(t, acc.ID(), restored.ID())
	require.Equal(t, acc.Version(), restored.Version())
	require.Equal(t, acc.CreatedOn(), restored.CreatedOn())
	require.Equal(t, acc.ModifiedOn(), restored.ModifiedOn())
	require.Equal(t, acc.Balance, restored.Balance)
	require.Equal(t, "Alice", restored.Owner)
	require.Empty(t, restored.PendingEvents())

	// The aggregate type gains a field in version 2; old snapshots upcast.
	reg := codec.NewRegistry()
	reg.Register("bank:Account", &FrozenAccount{}, codec.Version(2),
		codec.Upcast(1, func(s map[string]any) error { s["Frozen"] = "no"; return nil }))
	up, err := (&codec.Mapper{Registry: reg}).ToSnapshot(stored)
	require.NoError(t, err)
	fa := up.Aggregate.(*FrozenAccount)
	require.Equal(t, "no", fa.Frozen)
	require.Equal(t, "Alice", fa.Owner)
	require.Equal(t, acc.ID(), fa.ID())

	// A topic naming a type that is not an aggregate is an error.
	notAgg := codec.NewRegistry()
	notAgg.Register("bank:Account", Opened{})
	_, err = (&codec.Mapper{Registry: notAgg}).ToSnapshot(stored)
	require.ErrorIs(t, err, codec.ErrDecode)
}

type FrozenAccount struct {
	domain.Base
	Balance Money
	Owner   string
	Frozen  string
}

func (a *FrozenAccount) Apply(any) error { return nil }

// Code is a value type that transcodes itself as text, like Money.
type Code string

func (c Code) MarshalText() ([]byte, error) { return []byte(c), nil }

// Labelled has every kind of place where encoding/json writes a string.
type Labelled struct {
	Name   string
	Labels map[string]string
	Tags   []string
	Codes  map[Code]int
	Code   Code
	Quoted string `json:",string"`
	Raw    json.RawMessage
	Inner  *struct{ Deep []any }
}

// TestMapperRefusesInvalidUTF8 guards against encoding/json's silent
// replacement of invalid UTF-8 by U+FFFD: such events and snapshots are
// refused at save, naming what was refused, and valid U+FFFD characters,
// or the text \ufffd, are stored as they are.
func TestMapperRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	m := newMapper()
	m.Registry.Register("test:Labelled", Labelled{})
	compressing := newMapper()
	compressing.Compressor = codec.ZlibCompressor{}

	e := deposit()
	e.Data = Deposited{Note: "caf\xe9"} // Latin-1, not UTF-8
	for _, mapper := range []*codec.Mapper{m, compressing} {
		_, err := mapper.ToStoredEvent(e)
		require.ErrorIs(t, err, codec.ErrInvalidUTF8)
		require.ErrorIs(t, err, codec.ErrEncode)
		var mapErr *codec.MappingError
		require.ErrorAs(t, err, &mapErr)
		require.Equal(t, e.OriginatorID, mapErr.OriginatorID)
		require.Equal(t, e.OriginatorVersion, mapErr.Version)
		require.Equal(t, "bank:Deposited", mapErr.Topic)
		require.Contains(t, err.Error(), e.OriginatorID.String())
		require.Contains(t, err.Error(), "Note")
	}

	acc, err := domain.Create[Account](uuid.New(), Opened{Owner: "\xffAlice"})
	require.NoError(t, err)
	_, err = m.ToStoredSnapshot(domain.TakeSnapshot(acc))
	require.ErrorIs(t, err, codec.ErrInvalidUTF8)
	var mapErr *codec.MappingError
	require.ErrorAs(t, err, &mapErr)
	require.Equal(t, acc.ID(), mapErr.OriginatorID)
	require.Equal(t, "bank:Account", mapErr.Topic)
	require.Contains(t, err.Error(), "Owner")

	bad := "x\xc3" // a truncated two-byte sequence
	for name, data := range map[string]Labelled{
		"map value":     {Labels: map[string]string{"k": bad}},
		"map key":       {Labels: map[string]string{bad: "v"}},
		"slice element": {Tags: []string{"ok", bad}},
		"text key":      {Codes: map[Code]int{Code(bad): 1}},
		"text value":    {Code: Code(bad)},
		"string option": {Quoted: bad},
		"raw JSON":      {Raw: json.RawMessage(`"` + bad + `"`)},
		"deep":          {Inner: &struct{ Deep []any }{Deep: []any{map[string]any{"k": []string{bad}}}}},
	} {
		_, err := m.ToStoredEvent(domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Data: data})
		require.ErrorIs(t, err, codec.ErrInvalidUTF8, name)
	}

	for name, data := range map[string]Labelled{
		"replacement character": {Name: "\uFFFD", Labels: map[string]string{"\uFFFD": "\uFFFD"}},
		"escape as text":        {Name: `\ufffd`, Quoted: `\ufffd`},
		"escape in raw JSON":    {Raw: json.RawMessage(`"\ufffd"`)},
	} {
		if data.Raw == nil {
			data.Raw = json.RawMessage(`null`) // what a nil RawMessage decodes as
		}
		e := domain.Event{OriginatorID: uuid.New(), OriginatorVersion: 1, Timestamp: time.Now().UTC(), Data: data}
		stored, err := m.ToStoredEvent(e)
		require.NoError(t, err, name)
		back, err := m.ToDomainEvent(stored)
		require.NoError(t, err, name)
		require.Equal(t, e, back, name)
	}
}

// Closed is an event type with no fields: its data is stored as {}.
type Closed struct{}

// TestMapperRefusesStateWithoutTimestampOrData guards against decoding a
// stored state that lacks its timestamp or its data (or is null or {})
// into a zero event or snapshot: each is an ErrDecode naming what is
// missing. A zero timestamp, or the data {} of a type with no fields, is
// not missing.
func TestMapperRefusesStateWithoutTimestampOrData(t *testing.T) {
	t.Parallel()
	m := newMapper()
	m.Registry.Register("bank:Closed", Closed{})
	compressing := newMapper()
	compressing.Registry = m.Registry
	compressing.Compressor = codec.ZlibCompressor{}
	const ts = `"timestamp":"2026-01-01T00:00:00Z"`
	id := uuid.New()

	for _, c := range []struct{ topic, state, missing string }{
		{"bank:Deposited", `null`, "timestamp"},
		{"bank:Deposited", `{}`, "timestamp"},
		{"bank:Deposited", `{"data":{"Note":"x"}}`, "timestamp"},
		{"bank:Deposited", `{"timestamp":null,"data":{"Note":"x"}}`, "timestamp"},
		{"bank:Deposited", `{` + ts + `}`, "data"},
		{"bank:Deposited", `{` + ts + `,"data":null}`, "data"},
		{"bank:Deposited", `{` + ts + `,"data":{"Note":"x"},"class_version":1}`, ""},
		{"bank:Closed", `{` + ts + `}`, "data"},
		{"bank:Closed", `{` + ts + `,"data":null}`, "data"},
		{"bank:Closed", `{` + ts + `,"data":{}}`, ""},
		{"bank:Closed", `{"timestamp":"0001-01-01T00:00:00Z","data":{}}`, ""},
	} {
		for _, mapper := range []*codec.Mapper{m, compressing} {
			state := []byte(c.state)
			if mapper.Compressor != nil {
				var err error
				state, err = mapper.Compressor.Compress(state)
				require.NoError(t, err)
			}
			e, err := mapper.ToDomainEvent(persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 3, Topic: c.topic, State: state})
			if c.missing == "" {
				require.NoError(t, err, c.state)
				continue
			}
			require.ErrorIs(t, err, codec.ErrDecode, c.state)
			require.Zero(t, e, c.state)
			var mapErr *codec.MappingError
			require.ErrorAs(t, err, &mapErr, c.state)
			require.Equal(t, id, mapErr.OriginatorID)
			require.Equal(t, int64(3), mapErr.Version)
			require.Equal(t, c.topic, mapErr.Topic)
			require.Contains(t, err.Error(), `no "`+c.missing+`"`, c.state)
		}
	}

	// Stored at an older version, the data is upcast: it must be there.
	upcasting := codec.NewRegistry()
	upcasting.Register("things:Thing", Thing{}, codec.Version(2),
		codec.Upcast(1, func(s map[string]any) error { s["B"] = 7; return nil }))
	for _, state := range []string{`{` + ts + `}`, `{` + ts + `,"data":null}`, `{"data":{"A":"a"}}`} {
		_, err := (&codec.Mapper{Registry: upcasting}).ToDomainEvent(persistence.StoredEvent{OriginatorID: id, OriginatorVersion: 1, Topic: "things:Thing", State: []byte(state)})
		require.ErrorIs(t, err, codec.ErrDecode, state)
	}

	// Snapshots need their timestamps and their state.
	acc, err := domain.Create[Account](id, Opened{Owner: "Alice"})
	require.NoError(t, err)
	good, err := m.ToStoredSnapshot(domain.TakeSnapshot(acc))
	require.NoError(t, err)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(good.State, &fields))
	for _, key := range []string{"timestamp", "created_on", "modified_on", "state"} {
		for _, value := range []json.RawMessage{nil, json.RawMessage(`null`)} {
			damaged := maps.Clone(fields)
			if value == nil {
				delete(damaged, key)
			} else {
				damaged[key] = value
			}
			state, err := json.Marshal(damaged)
			require.NoError(t, err)
			snap, err := m.ToSnapshot(withState(good, state))
			require.ErrorIs(t, err, codec.ErrDecode, string(state))
			require.Zero(t, snap)
			require.Contains(t, err.Error(), `no "`+key+`"`, string(state))
			require.Contains(t, err.Error(), id.String())
		}
	}
	for _, state := range []string{`null`, `{}`} {
		_, err := m.ToSnapshot(withState(good, []byte(state)))
		require.ErrorIs(t, err, codec.ErrDecode, state)
	}
	fields["state"] = json.RawMessage(`{}`) // an aggregate of zero values
	state, err := json.Marshal(fields)
	require.NoError(t, err)
	snap, err := m.ToSnapshot(withState(good, state))
	require.NoError(t, err)
	require.Equal(t, id, snap.Aggregate.(*Account).ID())
}
