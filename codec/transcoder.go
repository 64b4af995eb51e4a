package codec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Transcoder serializes the state of events and snapshots to bytes and
// back. Implementations must be safe for concurrent use.
type Transcoder interface {
	// Encode returns the serialized form of v, or an error that is
	// errors.Is(err, ErrEncode).
	Encode(v any) ([]byte, error)
	// Decode fills v (a pointer) from data, or returns an error that is
	// errors.Is(err, ErrDecode).
	Decode(data []byte, v any) error
}

// ErrEncode is returned when a value cannot be serialized, for example a
// field of an unsupported type (a channel or a function).
var ErrEncode = errors.New("cannot encode state")

// ErrInvalidUTF8 is returned by JSONTranscoder.Encode, and so by the
// Mapper's save methods, when a string in the value is not valid UTF-8:
// encoding/json would store U+FFFD in its place without a word. It matches
// errors.Is(err, ErrEncode).
var ErrInvalidUTF8 = fmt.Errorf("%w: invalid UTF-8", ErrEncode)

// ErrDecode is returned when stored state cannot be deserialized: it is
// corrupt or does not fit the type its topic names.
var ErrDecode = errors.New("cannot decode state")

// JSONTranscoder is the default Transcoder: encoding/json, compact. Custom
// value types take part by implementing json.Marshaler and
// json.Unmarshaler (or encoding.TextMarshaler and TextUnmarshaler), the Go
// form of the Python library's registered transcodings. Numbers decoded into an
// interface value keep their precision (json.Number). It is safe for
// concurrent use.
type JSONTranscoder struct{}

// Encode returns the JSON encoding of v. It returns an error wrapping
// ErrInvalidUTF8, naming the field, when a string in v (a value, a map
// key, or the text of an encoding.TextMarshaler) or the output of a
// json.Marshaler is not valid UTF-8.
func (JSONTranscoder) Encode(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %w", ErrEncode, v, err)
	}
	// encoding/json writes the bytes of a json.Marshaler as they are, and
	// every invalid byte of a string as the escape \ufffd (a valid U+FFFD
	// as itself). The escape can also come from a json.Marshaler or from
	// the text \ufffd, so its presence, rare, only prompts the search.
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w written by a json.Marshaler", ErrInvalidUTF8)
	}
	if bytes.Contains(data, []byte(`\ufffd`)) {
		if path, found := invalidUTF8(reflect.ValueOf(v), "", 0); found {
			return nil, fmt.Errorf("%w in %s", ErrInvalidUTF8, path)
		}
	}
	return data, nil
}

// Decode parses the JSON data into v. A value that can hold an interface
// (an `any` field, a map[string]any) is decoded with json.Number for
// numbers; any other value with json.Unmarshal, the same result in one
// buffer-free pass.
func (JSONTranscoder) Decode(data []byte, v any) error {
	if !holdsInterface(reflect.TypeOf(v)) {
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%w: into %T: %w", ErrDecode, v, err)
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: into %T: %w", ErrDecode, v, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: into %T: trailing data after the JSON value", ErrDecode, v)
	}
	return nil
}

// interfaceHolders caches holdsInterface by type.
var interfaceHolders sync.Map // reflect.Type → bool

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// holdsInterface reports whether encoding/json may decode a number of
// data into an interface value inside a value of type t: whether t is or
// contains, through fields, elements and pointers, an interface type that
// a json.Unmarshaler or encoding.TextUnmarshaler does not stand in front
// of. Only then does Decoder.UseNumber change the result.
func holdsInterface(t reflect.Type) bool {
	if t == nil {
		return true
	}
	if v, ok := interfaceHolders.Load(t); ok {
		return v.(bool)
	}
	holds := walkForInterface(t, map[reflect.Type]bool{})
	interfaceHolders.Store(t, holds)
	return holds
}

func walkForInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a recursive type: its other paths are walked already
	}
	seen[t] = true
	if t.Kind() != reflect.Interface && t.Kind() != reflect.Pointer {
		pt := reflect.PointerTo(t)
		if pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType) {
			return false
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return walkForInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if (f.IsExported() || f.Anonymous) && walkForInterface(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// maxUTF8Depth bounds invalidUTF8's recursion.
const maxUTF8Depth = 1000

// invalidUTF8 returns the path (such as "Data.Labels[\"k\"]") of the first
// string in v that is not valid UTF-8, following what encoding/json
// encodes: strings; exported and embedded struct fields not tagged "-";
// map keys and values; slice and array elements, but not []byte (base64);
// what pointers and interfaces hold; and the text of an
// encoding.TextMarshaler. It does not look inside a json.Marshaler, whose
// output Encode checks whole.
func invalidUTF8(v reflect.Value, path string, depth int) (string, bool) {
	if !v.IsValid() || depth > maxUTF8Depth {
		return "", false
	}
	if path == "" {
		path = "the value"
	}
	if implements(v, jsonMarshalerType) {
		return "", false
	}
	if implements(v, textMarshalerType) {
		if text, ok := marshalText(v); ok {
			return path, !utf8.Valid(text)
		}
	}
	switch v.Kind() {
	case reflect.String:
		return path, !utf8.ValidString(v.String())
	case reflect.Pointer, reflect.Interface:
		return invalidUTF8(v.Elem(), path, depth+1)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if (!f.IsExported() && !f.Anonymous) || f.Tag.Get("json") == "-" {
				continue
			}
			if p, found := invalidUTF8(v.Field(i), field(path, f.Name), depth+1); found {
				return p, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			k := it.Key()
			key := ""
			if k.Kind() == reflect.String {
				key = k.String()
			} else if text, ok := marshalText(k); ok {
				key = string(text)
			} else {
				key = fmt.Sprint(k) // an integer
			}
			if !utf8.ValidString(key) {
				return path + " key " + strconv.Quote(key), true
			}
			if p, found := invalidUTF8(it.Value(), path+"["+strconv.Quote(key)+"]", depth+1); found {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // []byte is base64, unless its elements are marshalers: rare
		}
		for i := range v.Len() {
			if p, found := invalidUTF8(v.Index(i), path+"["+strconv.Itoa(i)+"]", depth+1); found {
				return p, true
			}
		}
	}
	return "", false
}

// implements reports whether encoding/json would use v's method of iface:
// one of its type, or of its pointer type when v is addressable.
func implements(v reflect.Value, iface reflect.Type) bool {
	return v.Type().Implements(iface) || (v.CanAddr() && reflect.PointerTo(v.Type()).Implements(iface))
}

// marshalText returns the text of v, an encoding.TextMarshaler, or false
// when it has none (v is nil or cannot be called).
func marshalText(v reflect.Value) ([]byte, bool) {
	if !v.CanInterface() || ((v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil()) {
		return nil, false
	}
	m, ok := v.Interface().(encoding.TextMarshaler)
	if !ok && v.CanAddr() {
		m, ok = v.Addr().Interface().(encoding.TextMarshaler)
	}
	if !ok {
		return nil, false
	}
	text, err := m.MarshalText()
	return text, err == nil
}

// field returns the path of field name within path.
func field(path, name string) string {
	if path == "the value" {
		return name
	}
	return path + "." + name
}
