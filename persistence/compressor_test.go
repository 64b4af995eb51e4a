package persistence_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestZlibRoundTripAndShrinks(t *testing.T) {
	t.Parallel()
	var z persistence.ZlibCompressor
	for _, plain := range [][]byte{
		nil,
		[]byte(`{"a":1}`),
		bytes.Repeat([]byte{0, 1, 2, 255}, 1000),
	} {
		compressed, err := z.Compress(plain)
		require.NoError(t, err)
		got, err := z.Decompress(compressed)
		require.NoError(t, err)
		require.True(t, bytes.Equal(plain, got), "round trip of %d bytes", len(plain))
	}

	plain := []byte(`{"items":[` + strings.Repeat(`{"name":"widget","quantity":10},`, 30) + `{}]}`)
	compressed, err := z.Compress(plain)
	require.NoError(t, err)
	require.Less(t, len(compressed), len(plain))
	require.Equal(t, []byte{0x78, 0x9c}, compressed[:2], "zlib header, default level")
	got, err := z.Decompress(compressed)
	require.NoError(t, err)
	require.Equal(t, plain, got)
}

// TestZlibPythonCompatible decompresses the output of Python's
// zlib.compress(b'{"a":1}').
func TestZlibPythonCompatible(t *testing.T) {
	t.Parallel()
	fixture, err := hex.DecodeString("789cab564a54b232ac0500082a0209")
	require.NoError(t, err)
	var z persistence.ZlibCompressor
	got, err := z.Decompress(fixture)
	require.NoError(t, err)
	require.Equal(t, `{"a":1}`, string(got))

	// Go's deflate output need not match Python's byte for byte, but it has
	// the same zlib header (deflate, 32K window, default level).
	compressed, err := z.Compress([]byte(`{"a":1}`))
	require.NoError(t, err)
	require.Equal(t, fixture[:2], compressed[:2])
}

func TestZlibCorruptIsTypedError(t *testing.T) {
	t.Parallel()
	var z persistence.ZlibCompressor
	valid, err := z.Compress([]byte(`{"full_name":"Alice","balance":"100.00"}`))
	require.NoError(t, err)
	flipped := bytes.Clone(valid)
	flipped[len(flipped)-1] ^= 0xff // checksum
	body := bytes.Clone(valid)
	body[4] ^= 0xff
	for name, data := range map[string][]byte{
		"empty":     {},
		"short":     {0x78},
		"header":    []byte(`{"a":1}`),
		"truncated": valid[:len(valid)-3],
		"checksum":  flipped,
		"body":      body,
	} {
		got, err := z.Decompress(data)
		require.ErrorIs(t, err, persistence.ErrCompressedData, name)
		require.Nil(t, got, name)
		require.True(t, strings.HasPrefix(err.Error(), "decompress: corrupt compressed data: "), err.Error())
	}
}

func TestCompressorFromEnv(t *testing.T) {
	t.Parallel()
	for _, values := range []map[string]string{nil, {persistence.EnvCompressorTopic: ""}} {
		c, err := persistence.CompressorFromEnv(fakeEnv(values))
		require.NoError(t, err)
		require.Nil(t, c)
	}
	for _, topic := range []string{"zlib", "ZLIB", "ZlibCompressor", "eventsourcing.compressor:ZlibCompressor"} {
		c, err := persistence.CompressorFromEnv(fakeEnv(map[string]string{persistence.EnvCompressorTopic: topic}))
		require.NoError(t, err, topic)
		require.IsType(t, persistence.ZlibCompressor{}, c, topic)
	}
	for _, topic := range []string{"gzip", "eventsourcing.compressor:Bz2Compressor", "zlibcompressor"} {
		c, err := persistence.CompressorFromEnv(fakeEnv(map[string]string{persistence.EnvCompressorTopic: topic}))
		require.Error(t, err, topic)
		require.Nil(t, c)
		require.ErrorIs(t, err, persistence.ErrConfig)
		var cfgErr *persistence.ConfigError
		require.ErrorAs(t, err, &cfgErr)
		require.Equal(t, persistence.EnvCompressorTopic, cfgErr.Var)
		require.Equal(t, topic, cfgErr.Value)
	}
}
