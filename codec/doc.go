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
package codec
