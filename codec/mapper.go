package codec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// Mapper converts domain events and snapshots to stored events and back.
// The state it stores is the transcoded event data (without the originator
// ID and version, which the stored event holds already) with the event's
// timestamp and, when above 1, the version of its type; it is compressed
// and then encrypted when a Compressor and a Cipher are set, and the other
// way round when read. Topics come from Registry. A Mapper is safe for
// concurrent use once configured.
type Mapper struct {
	Registry   *Registry
	Transcoder Transcoder // nil means JSONTranscoder
	Compressor Compressor // optional
	Cipher     Cipher     // optional
}

// eventState is the stored form of an event's state. Data holds the
// event data to encode, or a pointer to decode it into, so that the whole
// state is transcoded in one pass.
type eventState struct {
	Timestamp       time.Time `json:"timestamp"`
	ClassVersion    int       `json:"class_version,omitempty"`
	OriginatorTopic string    `json:"originator_topic,omitempty"` // of a created event
	Data            any       `json:"data"`
}

// envelope returns the type eventState decodes into for events of reg's
// type: eventState with a Data field of that type rather than an
// interface, so that the state decodes in one pass into a value whose
// decoding needs no interface (unless the event's type holds one: see
// JSONTranscoder.Decode). Built once per registration.
func (r *registration) envelope() reflect.Type {
	r.envOnce.Do(func() {
		fields := make([]reflect.StructField, 0, 4)
		st := reflect.TypeFor[eventState]()
		for i := range st.NumField() {
			f := st.Field(i)
			if f.Name == "Data" {
				f.Type = r.typ
			}
			fields = append(fields, f)
		}
		r.env = reflect.StructOf(fields)
	})
	return r.env
}

// plainDecoder returns the plain decoder of reg's type, nil when the type
// is not of the kind it decodes. Built once per registration.
func (r *registration) plainDecoder() *plainDecoder {
	r.plainOnce.Do(func() { r.plain = newPlainDecoder(r.typ) })
	return r.plain
}

// decodePlain decodes data with dec, the plain decoder of reg's type,
// into a value of that type, and returns it boxed, or false when dec does
// not take data. It decodes into a scratch value and boxes a copy, so
// that a decoded event costs one allocation (its box) rather than two
// (a new value, and the box that copies it).
func (r *registration) decodePlain(dec *plainDecoder, data []byte) (any, bool) {
	var ptr reflect.Value
	if p := r.scratch.Get(); p != nil {
		ptr = reflect.ValueOf(p)
	} else {
		ptr = reflect.New(r.typ)
	}
	v := ptr.Elem()
	var out any
	ok := dec.decode(data, v)
	if ok {
		out = v.Interface()
	}
	v.SetZero() // the copy keeps what the scratch value pointed to; the scratch does not
	r.scratch.Put(ptr.Interface())
	return out, ok
}

// decodedState points into a value of an envelope type, whose fields are
// eventState's, in its order.
type decodedState struct {
	timestamp       *time.Time
	originatorTopic *string
	version, data   reflect.Value
}

// eventStateIn returns pointers to the fields of the envelope value that
// ptr points to.
func eventStateIn(ptr reflect.Value) decodedState {
	v := ptr.Elem()
	return decodedState{
		timestamp:       v.Field(0).Addr().Interface().(*time.Time),
		version:         v.Field(1),
		originatorTopic: v.Field(2).Addr().Interface().(*string),
		data:            v.Field(3),
	}
}

func (st decodedState) classVersion() int { return int(st.version.Int()) }

// rawEventState is eventState with the data left encoded, for upcasting.
type rawEventState struct {
	Timestamp       time.Time       `json:"timestamp"`
	ClassVersion    int             `json:"class_version,omitempty"`
	OriginatorTopic string          `json:"originator_topic,omitempty"`
	Data            json.RawMessage `json:"data"`
}

// storedKeys is a stored state with its values left encoded, to tell a
// missing or null key from one that holds a zero value.
type storedKeys struct {
	Timestamp  json.RawMessage `json:"timestamp"`
	Data       json.RawMessage `json:"data"`
	CreatedOn  json.RawMessage `json:"created_on"`
	ModifiedOn json.RawMessage `json:"modified_on"`
}

// absent reports whether a key decoded into raw was missing or null.
func absent(raw json.RawMessage) bool { return raw == nil || string(raw) == "null" }

// errMissing is the error for a stored state without key.
func errMissing(key string) error {
	return fmt.Errorf("%w: the stored state has no %q", ErrDecode, key)
}

// checkEventKeys returns an error wrapping ErrDecode when plain, the
// stored state of an event of reg's type, has no timestamp or no data, or
// null in their place. The data of a struct type, which always encodes as
// an object, may not be null; that of another type (a map or a slice),
// whose zero value encodes as null, may.
func (m *Mapper) checkEventKeys(plain []byte, reg *registration) error {
	var keys storedKeys
	if err := m.transcoder().Decode(plain, &keys); err != nil {
		return err
	}
	if absent(keys.Timestamp) {
		return errMissing("timestamp")
	}
	if keys.Data == nil || (absent(keys.Data) && reg.typ.Kind() == reflect.Struct) {
		return errMissing("data")
	}
	return nil
}

// snapshotState is the stored form of a snapshot's state.
type snapshotState struct {
	Timestamp    time.Time       `json:"timestamp"`
	CreatedOn    time.Time       `json:"created_on"`
	ModifiedOn   time.Time       `json:"modified_on"`
	Discarded    bool            `json:"discarded,omitempty"`
	ClassVersion int             `json:"class_version,omitempty"`
	State        json.RawMessage `json:"state"`
}

// MappingError reports a failure to map one event or snapshot, naming it.
// It wraps the cause, which is one of ErrUnknownTopic, ErrUnregisteredType,
// ErrEncode, ErrDecode, ErrUpcast, ErrCipherText or ErrCompressedData.
type MappingError struct {
	Op           string // "encode" or "decode"
	OriginatorID uuid.UUID
	Version      int64
	Topic        string
	Err          error
}

func (e *MappingError) Error() string {
	topic := ""
	if e.Topic != "" {
		topic = fmt.Sprintf(" (topic %q)", e.Topic)
	}
	return fmt.Sprintf("%s version %d of %s%s: %v", e.Op, e.Version, e.OriginatorID, topic, e.Err)
}

// Unwrap returns the cause.
func (e *MappingError) Unwrap() error { return e.Err }

// splitState is the package's splitState when the mapper uses the default
// transcoder, whose form it reads.
func (m *Mapper) splitState(plain []byte) (ts time.Time, version int, topic string, data []byte, ok bool) {
	if m.Transcoder != nil {
		return
	}
	return splitState(plain)
}

func (m *Mapper) transcoder() Transcoder {
	if m.Transcoder == nil {
		return JSONTranscoder{}
	}
	return m.Transcoder
}

// ToStoredEvent converts e to a stored event. e.Data must be a value (not
// a pointer) of a registered type. Errors are *MappingError.
func (m *Mapper) ToStoredEvent(e domain.Event) (persistence.StoredEvent, error) {
	fail := func(topic string, err error) (persistence.StoredEvent, error) {
		return persistence.StoredEvent{}, &MappingError{Op: "encode", OriginatorID: e.OriginatorID, Version: e.OriginatorVersion, Topic: topic, Err: err}
	}
	if t := reflect.TypeOf(e.Data); t != nil && t.Kind() == reflect.Pointer {
		return fail("", fmt.Errorf("%w: event data %T is a pointer; trigger events with values", ErrEncode, e.Data))
	}
	reg, err := m.Registry.byValue(e.Data)
	if err != nil {
		return fail("", err)
	}
	st := eventState{Timestamp: e.Timestamp, ClassVersion: classVersion(reg), Data: e.Data}
	if e.OriginatorType != nil {
		// The aggregate's topic, as the Python library records it on a created event.
		aggReg, err := m.Registry.registered(e.OriginatorType)
		if err != nil {
			return fail(reg.topic, fmt.Errorf("aggregate type: %w", err))
		}
		st.OriginatorTopic = aggReg.topic
	}
	state, err := m.seal(st)
	if err != nil {
		return fail(reg.topic, err)
	}
	return persistence.StoredEvent{OriginatorID: e.OriginatorID, OriginatorVersion: e.OriginatorVersion, Topic: reg.topic, State: state,
		EventID: e.ID, CorrelationID: e.CorrelationID, CausationID: e.CausationID}, nil
}

// ToStoredEvents converts events with ToStoredEvent, stopping at the first
// error (a *MappingError).
func (m *Mapper) ToStoredEvents(events []domain.Event) ([]persistence.StoredEvent, error) {
	stored := make([]persistence.StoredEvent, len(events))
	for i, e := range events {
		var err error
		if stored[i], err = m.ToStoredEvent(e); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

// ToDomainEvent converts a stored event back to a domain event, upcasting
// its data to the current version of its type. Errors are *MappingError;
// a state without its timestamp or its data (missing, or null where the
// data is a struct) is one wrapping ErrDecode.
func (m *Mapper) ToDomainEvent(s persistence.StoredEvent) (domain.Event, error) {
	fail := func(err error) (domain.Event, error) {
		return domain.Event{}, &MappingError{Op: "decode", OriginatorID: s.OriginatorID, Version: s.OriginatorVersion, Topic: s.Topic, Err: err}
	}
	reg, err := m.Registry.byName(s.Topic)
	if err != nil {
		return fail(err)
	}
	plain, err := m.unseal(s.State)
	if err != nil {
		return fail(err)
	}
	// Decode the state and its data in one pass, when the data is of the
	// type's current version; else decode it apart and upcast it. A zero
	// timestamp or zero data may be missing from the state: then look.
	if ts, version, topic, data, ok := m.splitState(plain); ok && max(version, 1) == reg.version && string(data) != "null" {
		// The fast path for a state as JSONTranscoder writes it: the
		// envelope read by hand, the data decoded alone, by the plain
		// decoder when it can.
		if dec := reg.plainDecoder(); dec != nil {
			if v, ok := reg.decodePlain(dec, data); ok {
				return m.domainEvent(s, ts, topic, v)
			}
		}
		ptr := reflect.New(reg.typ)
		if err := (JSONTranscoder{}).Decode(data, ptr.Interface()); err == nil {
			return m.domainEvent(s, ts, topic, ptr.Elem().Interface())
		}
	}
	env := reflect.New(reg.envelope())
	st := eventStateIn(env)
	if err := m.transcoder().Decode(plain, env.Interface()); err != nil || max(st.classVersion(), 1) != reg.version {
		var raw rawEventState
		if err := m.transcoder().Decode(plain, &raw); err != nil {
			return fail(err)
		}
		if raw.Timestamp.IsZero() || absent(raw.Data) {
			if err := m.checkEventKeys(plain, reg); err != nil {
				return fail(err)
			}
		}
		ptr, err := m.decodeValue(reg, raw.Data, raw.ClassVersion)
		if err != nil {
			return fail(err)
		}
		st.data.Set(ptr.Elem())
		*st.timestamp, *st.originatorTopic = raw.Timestamp, raw.OriginatorTopic
	} else if st.timestamp.IsZero() || st.data.IsZero() {
		if err := m.checkEventKeys(plain, reg); err != nil {
			return fail(err)
		}
	}
	return m.domainEvent(s, *st.timestamp, *st.originatorTopic, st.data.Interface())
}

// domainEvent returns the domain event of s with its decoded parts: the
// timestamp, the originator's topic (of a created event, else empty) and
// the data.
func (m *Mapper) domainEvent(s persistence.StoredEvent, ts time.Time, originatorTopic string, data any) (domain.Event, error) {
	e := domain.Event{OriginatorID: s.OriginatorID, OriginatorVersion: s.OriginatorVersion, Timestamp: ts, Data: data,
		ID: s.EventID, CorrelationID: s.CorrelationID, CausationID: s.CausationID}
	if originatorTopic != "" {
		aggReg, err := m.Registry.byName(originatorTopic)
		if err != nil {
			return domain.Event{}, &MappingError{Op: "decode", OriginatorID: s.OriginatorID, Version: s.OriginatorVersion, Topic: s.Topic, Err: fmt.Errorf("aggregate type: %w", err)}
		}
		e.OriginatorType = aggReg.typ
	}
	return e, nil
}

// Timestamp returns the time at which the event stored as s was created,
// decrypting and decompressing its state but not decoding its data, so
// that its topic need not be registered. A state that cannot be read, or
// holds no timestamp, gives a *MappingError.
func (m *Mapper) Timestamp(s persistence.StoredEvent) (time.Time, error) {
	fail := func(err error) (time.Time, error) {
		return time.Time{}, &MappingError{Op: "read the timestamp of", OriginatorID: s.OriginatorID, Version: s.OriginatorVersion, Topic: s.Topic, Err: err}
	}
	plain, err := m.unseal(s.State)
	if err != nil {
		return fail(err)
	}
	var st struct {
		Timestamp time.Time `json:"timestamp"`
	}
	if err := m.transcoder().Decode(plain, &st); err != nil {
		return fail(err)
	}
	if st.Timestamp.IsZero() {
		return fail(errMissing("timestamp"))
	}
	return st.Timestamp, nil
}

// ToStoredSnapshot converts a snapshot to a stored event whose topic is
// that of the aggregate's type. Errors are *MappingError.
func (m *Mapper) ToStoredSnapshot(s domain.Snapshot) (persistence.StoredEvent, error) {
	fail := func(topic string, err error) (persistence.StoredEvent, error) {
		return persistence.StoredEvent{}, &MappingError{Op: "encode snapshot", OriginatorID: s.OriginatorID, Version: s.OriginatorVersion, Topic: topic, Err: err}
	}
	reg, err := m.Registry.byValue(s.Aggregate)
	if err != nil {
		return fail("", err)
	}
	data, err := m.transcoder().Encode(s.Aggregate)
	if err != nil {
		return fail(reg.topic, err)
	}
	state, err := m.seal(snapshotState{
		Timestamp: s.Timestamp, CreatedOn: s.CreatedOn, ModifiedOn: s.ModifiedOn, Discarded: s.Discarded,
		ClassVersion: classVersion(reg), State: data,
	})
	if err != nil {
		return fail(reg.topic, err)
	}
	return persistence.StoredEvent{OriginatorID: s.OriginatorID, OriginatorVersion: s.OriginatorVersion, Topic: reg.topic, State: state}, nil
}

// ToSnapshot converts a stored snapshot back to a snapshot holding a new
// aggregate of the registered type, its state upcast to the type's current
// version and its ID, version and timestamps restored. Errors are
// *MappingError; a state without its timestamp, created_on, modified_on
// or state (missing or null) is one wrapping ErrDecode.
func (m *Mapper) ToSnapshot(s persistence.StoredEvent) (domain.Snapshot, error) {
	fail := func(err error) (domain.Snapshot, error) {
		return domain.Snapshot{}, &MappingError{Op: "decode snapshot", OriginatorID: s.OriginatorID, Version: s.OriginatorVersion, Topic: s.Topic, Err: err}
	}
	reg, err := m.Registry.byName(s.Topic)
	if err != nil {
		return fail(err)
	}
	plain, err := m.unseal(s.State)
	if err != nil {
		return fail(err)
	}
	var st snapshotState
	if err := m.transcoder().Decode(plain, &st); err != nil {
		return fail(err)
	}
	if absent(st.State) {
		return fail(errMissing("state"))
	}
	if st.Timestamp.IsZero() || st.CreatedOn.IsZero() || st.ModifiedOn.IsZero() {
		var keys storedKeys
		if err := m.transcoder().Decode(plain, &keys); err != nil {
			return fail(err)
		}
		for i, raw := range []json.RawMessage{keys.Timestamp, keys.CreatedOn, keys.ModifiedOn} {
			if absent(raw) {
				return fail(errMissing([]string{"timestamp", "created_on", "modified_on"}[i]))
			}
		}
	}
	value, err := m.decodeValue(reg, st.State, st.ClassVersion)
	if err != nil {
		return fail(err)
	}
	agg, ok := value.Interface().(domain.Aggregate)
	if !ok {
		return fail(fmt.Errorf("%w: %v is not an aggregate type", ErrDecode, value.Type()))
	}
	snap := domain.Snapshot{
		OriginatorID: s.OriginatorID, OriginatorVersion: s.OriginatorVersion, Timestamp: st.Timestamp,
		CreatedOn: st.CreatedOn, ModifiedOn: st.ModifiedOn, Discarded: st.Discarded, Aggregate: agg,
	}
	domain.RestoreBase(agg, snap)
	return snap, nil
}

// decodeValue decodes data, stored at version stored (0 meaning 1), into a
// new value of reg's type, upcasting it first if needed. It returns a
// pointer to the value.
func (m *Mapper) decodeValue(reg *registration, data json.RawMessage, stored int) (reflect.Value, error) {
	if stored == 0 {
		stored = 1
	}
	if stored != reg.version {
		var state map[string]any
		if err := m.transcoder().Decode(data, &state); err != nil {
			return reflect.Value{}, err
		}
		if state == nil {
			return reflect.Value{}, fmt.Errorf("%w: null state of version %d: upcasters need an object", ErrDecode, stored)
		}
		if err := reg.upcast(state, stored); err != nil {
			return reflect.Value{}, err
		}
		var err error
		if data, err = m.transcoder().Encode(state); err != nil {
			return reflect.Value{}, err
		}
	}
	ptr := reflect.New(reg.typ)
	if err := m.transcoder().Decode(data, ptr.Interface()); err != nil {
		return reflect.Value{}, err
	}
	return ptr, nil
}

// seal transcodes v, then compresses and encrypts the result as
// configured.
func (m *Mapper) seal(v any) ([]byte, error) {
	state, err := m.transcoder().Encode(v)
	if err != nil {
		return nil, err
	}
	if m.Compressor != nil {
		if state, err = m.Compressor.Compress(state); err != nil {
			return nil, err
		}
	}
	if m.Cipher != nil {
		if state, err = m.Cipher.Encrypt(state); err != nil {
			return nil, err
		}
	}
	return state, nil
}

// unseal decrypts and decompresses state as configured.
func (m *Mapper) unseal(state []byte) ([]byte, error) {
	var err error
	if m.Cipher != nil {
		if state, err = m.Cipher.Decrypt(state); err != nil {
			return nil, err
		}
	}
	if m.Compressor != nil {
		if state, err = m.Compressor.Decompress(state); err != nil {
			return nil, err
		}
	}
	return state, nil
}

func classVersion(reg *registration) int {
	if reg.version > 1 {
		return reg.version
	}
	return 0
}
