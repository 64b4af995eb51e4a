package persistence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// ErrDecode is returned when stored state cannot be deserialized: it is
// corrupt or does not fit the type its topic names.
var ErrDecode = errors.New("cannot decode state")

// JSONTranscoder is the default Transcoder: encoding/json, compact. Custom
// value types take part by implementing json.Marshaler and
// json.Unmarshaler (or encoding.TextMarshaler and TextUnmarshaler), the Go
// form of the seeds' registered transcodings. Numbers decoded into an
// interface value keep their precision (json.Number). It is safe for
// concurrent use.
type JSONTranscoder struct{}

// Encode returns the JSON encoding of v.
func (JSONTranscoder) Encode(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %w", ErrEncode, v, err)
	}
	return data, nil
}

// Decode parses the JSON data into v.
func (JSONTranscoder) Decode(data []byte, v any) error {
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
