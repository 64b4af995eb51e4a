package codec

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Upcaster converts the decoded JSON state of one version of a type to the
// next version, in place: the state of an event's Data, or of a snapshot's
// aggregate.
type Upcaster func(state map[string]any) error

// Registry maps topics, the stable names under which types are stored, to
// the Go types of event data and aggregates, in both directions. A type has
// one current topic and any number of old topics (aliases) that still
// resolve to it after a rename, and a version with upcasters from older
// versions. Register everything before use; lookups are then safe for
// concurrent use.
type Registry struct {
	mu      sync.RWMutex
	byTopic map[string]*registration
	byType  map[reflect.Type]*registration
}

type registration struct {
	topic     string
	typ       reflect.Type
	aliases   []string
	version   int
	upcasters map[int]Upcaster // from version n to n+1

	envOnce sync.Once
	env     reflect.Type // see envelope

	plainOnce sync.Once
	plain     *plainDecoder // see plainDecoder; nil when the type is not plain
	scratch   sync.Pool     // of pointers to zero values of typ; see decodePlain
}

// RegisterOption configures a registration.
type RegisterOption func(*registration) error

// Aliases keeps old topics of a renamed type resolving to it.
func Aliases(oldTopics ...string) RegisterOption {
	return func(r *registration) error {
		r.aliases = append(r.aliases, oldTopics...)
		return nil
	}
}

// Version sets the type's current version (1 when not given). Stored
// states of older versions are upcast with the upcasters given by Upcast.
func Version(n int) RegisterOption {
	return func(r *registration) error {
		if n < 1 {
			return fmt.Errorf("version %d: versions start at 1", n)
		}
		r.version = n
		return nil
	}
}

// Upcast registers fn to convert the state of version from to version
// from+1.
func Upcast(from int, fn Upcaster) RegisterOption {
	return func(r *registration) error {
		if from < 1 || fn == nil {
			return fmt.Errorf("upcaster from version %d: a version of at least 1 and a function are expected", from)
		}
		r.upcasters[from] = fn
		return nil
	}
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{byTopic: map[string]*registration{}, byType: map[reflect.Type]*registration{}}
}

// Register names the type of example (a value or a pointer to a struct;
// both register the struct type) with topic. It panics, as a programming
// error, if topic is empty, if the topic or an alias is already taken by
// another type, if the type is registered twice, or if an option is bad.
func (r *Registry) Register(topic string, example any, opts ...RegisterOption) {
	if topic == "" || example == nil {
		panic("codec: Register needs a topic and an example value")
	}
	typ := reflect.TypeOf(example)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	reg := &registration{topic: topic, typ: typ, version: 1, upcasters: map[int]Upcaster{}}
	for _, opt := range opts {
		if err := opt(reg); err != nil {
			panic(fmt.Sprintf("codec: Register %q: %v", topic, err))
		}
	}
	aliases := reg.aliases
	r.mu.Lock()
	defer r.mu.Unlock()
	if other, ok := r.byType[typ]; ok {
		panic(fmt.Sprintf("codec: type %v is already registered as %q", typ, other.topic))
	}
	for _, t := range append([]string{topic}, aliases...) {
		if other, ok := r.byTopic[t]; ok {
			panic(fmt.Sprintf("codec: topic %q is already registered for %v", t, other.typ))
		}
	}
	for _, t := range append([]string{topic}, aliases...) {
		r.byTopic[t] = reg
	}
	r.byType[typ] = reg
}

// ErrUnknownTopic is returned when stored state names a topic that no
// registered type has; see TopicError.
var ErrUnknownTopic = errors.New("unknown topic")

// ErrUnregisteredType is returned when a value to be stored is of a type
// that has no topic; see TopicError.
var ErrUnregisteredType = errors.New("unregistered type")

// TopicError reports a topic, or a type, that the Registry does not know.
// It matches ErrUnknownTopic or ErrUnregisteredType.
type TopicError struct {
	Topic string       // the unknown topic, when decoding
	Type  reflect.Type // the unregistered type, when encoding
}

func (e *TopicError) Error() string {
	if e.Type != nil {
		return fmt.Sprintf("type %v has no topic: register it with Registry.Register", e.Type)
	}
	return fmt.Sprintf("unknown topic %q: register its type (or keep the old topic as an alias)", e.Topic)
}

// Unwrap returns ErrUnregisteredType or ErrUnknownTopic.
func (e *TopicError) Unwrap() error {
	if e.Type != nil {
		return ErrUnregisteredType
	}
	return ErrUnknownTopic
}

// TopicOf returns the current topic of v's type (a pointer counts as the
// type it points to), or a *TopicError.
func (r *Registry) TopicOf(v any) (string, error) {
	reg, err := r.byValue(v)
	if err != nil {
		return "", err
	}
	return reg.topic, nil
}

func (r *Registry) byValue(v any) (*registration, error) {
	typ := reflect.TypeOf(v)
	for typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	reg, err := r.registered(typ)
	if err != nil {
		return nil, &TopicError{Type: reflect.TypeOf(v)}
	}
	return reg, nil
}

// registered returns the registration of typ, which is not a pointer
// type, or a *TopicError.
func (r *Registry) registered(typ reflect.Type) (*registration, error) {
	r.mu.RLock()
	reg, ok := r.byType[typ]
	r.mu.RUnlock()
	if !ok {
		return nil, &TopicError{Type: typ}
	}
	return reg, nil
}

func (r *Registry) byName(topic string) (*registration, error) {
	r.mu.RLock()
	reg, ok := r.byTopic[topic]
	r.mu.RUnlock()
	if !ok {
		return nil, &TopicError{Topic: topic}
	}
	return reg, nil
}

// Topics returns every registered topic, aliases included, sorted.
func (r *Registry) Topics() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	topics := make([]string, 0, len(r.byTopic))
	for t := range r.byTopic {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics
}

// ErrUpcast is returned when a stored state cannot be brought to its
// type's current version; see UpcastError.
var ErrUpcast = errors.New("cannot upcast stored state")

// UpcastError reports a stored version that cannot be upcast: an upcaster
// is missing for a step, the stored version is newer than the code's, or an
// upcaster failed. It matches ErrUpcast.
type UpcastError struct {
	Topic          string
	StoredVersion  int
	CurrentVersion int
	Err            error
}

func (e *UpcastError) Error() string {
	return fmt.Sprintf("upcast %q from version %d to %d: %v", e.Topic, e.StoredVersion, e.CurrentVersion, e.Err)
}

// Unwrap returns ErrUpcast and the cause.
func (e *UpcastError) Unwrap() []error { return []error{ErrUpcast, e.Err} }

// upcast brings state from version stored to reg's current version.
func (reg *registration) upcast(state map[string]any, stored int) error {
	if stored > reg.version {
		return &UpcastError{Topic: reg.topic, StoredVersion: stored, CurrentVersion: reg.version,
			Err: errors.New("stored by a newer version of the code")}
	}
	for v := stored; v < reg.version; v++ {
		fn, ok := reg.upcasters[v]
		if !ok {
			return &UpcastError{Topic: reg.topic, StoredVersion: stored, CurrentVersion: reg.version,
				Err: fmt.Errorf("no upcaster from version %d to %d is registered", v, v+1)}
		}
		if err := fn(state); err != nil {
			return &UpcastError{Topic: reg.topic, StoredVersion: stored, CurrentVersion: reg.version,
				Err: fmt.Errorf("upcaster from version %d: %w", v, err)}
		}
	}
	return nil
}
