package codec_test

import (
	"testing"

	"github.com/eventsourcing-go/eventsourcing/codec"
)

// mapperVariants are the mapper configurations the benchmarks measure:
// plain JSON (the default), zlib, and zlib then AES-GCM.
func mapperVariants(b *testing.B) []struct {
	name   string
	mapper *codec.Mapper
} {
	b.Helper()
	cipher, err := codec.NewAESCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	plain := newMapper()
	zlib := newMapper()
	zlib.Compressor = codec.ZlibCompressor{}
	sealed := newMapper()
	sealed.Compressor, sealed.Cipher = codec.ZlibCompressor{}, cipher
	return []struct {
		name   string
		mapper *codec.Mapper
	}{{"plain", plain}, {"zlib", zlib}, {"zlib+aes", sealed}}
}

// BenchmarkMapperToStoredEvent measures encoding one event (a Deposited
// with a custom value type, a UUID, a string and a time): one operation is
// one event, so allocs/op is the allocation count per event.
func BenchmarkMapperToStoredEvent(b *testing.B) {
	for _, v := range mapperVariants(b) {
		b.Run(v.name, func(b *testing.B) {
			e := deposit()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.mapper.ToStoredEvent(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMapperToDomainEvent measures decoding one stored event back to
// a domain event: one operation is one event.
func BenchmarkMapperToDomainEvent(b *testing.B) {
	for _, v := range mapperVariants(b) {
		b.Run(v.name, func(b *testing.B) {
			stored, err := v.mapper.ToStoredEvent(deposit())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.mapper.ToDomainEvent(stored); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
