// Package codec converts domain events and snapshots to and from the stored
// form that recorders keep (persistence.StoredEvent): a Registry names
// each type by a topic (with aliases and upcasters for old versions), a
// Transcoder serializes state as JSON, and an optional Compressor and
// Cipher compress and encrypt it. Mapper puts these together.
//
// Decoding never returns garbage: a stored event that cannot be decoded
// gives a *MappingError naming the aggregate, version and topic, wrapping
// one of ErrUnknownTopic, ErrDecode, ErrUpcast, ErrCipherText or
// ErrCompressedData.
//
// With the default transcoder, the Mapper reads a state in the form it
// writes by hand, and decodes the data of an event type that is a struct
// of plain fields (strings, bools, numbers, nested structs of the same
// kind, and fields that decode themselves, such as time.Time and
// uuid.UUID) in one pass without encoding/json; any other type, and any
// data it does not take as written (another key case, an unknown key, an
// escape, null), goes to encoding/json. The results are encoding/json's
// either way, only faster: the fast paths are fuzzed against it.
package codec
