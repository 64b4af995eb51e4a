package codec_test

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/codec"
)

func TestZlibRoundTripAndShrinks(t *testing.T) {
	t.Parallel()
	var z codec.ZlibCompressor
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
	var z codec.ZlibCompressor
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
	var z codec.ZlibCompressor
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
		require.ErrorIs(t, err, codec.ErrCompressedData, name)
		require.Nil(t, got, name)
		require.True(t, strings.HasPrefix(err.Error(), "decompress: corrupt compressed data: "), err.Error())
	}
}

// TestZlibDecompressRefusesOutputOverLimit guards against decompression
// bombs: a stream that inflates to more than MaxDecompressedSize is
// refused, one of exactly that size is not.
func TestZlibDecompressRefusesOutputOverLimit(t *testing.T) {
	t.Parallel()
	const limit = 1000
	z := codec.ZlibCompressor{MaxDecompressedSize: limit}
	atLimit, err := z.Compress(bytes.Repeat([]byte{'a'}, limit))
	require.NoError(t, err)
	got, err := z.Decompress(atLimit)
	require.NoError(t, err)
	require.Len(t, got, limit)

	for _, n := range []int{limit + 1, 100 * limit} {
		over, err := codec.ZlibCompressor{}.Compress(bytes.Repeat([]byte{'a'}, n))
		require.NoError(t, err)
		got, err := z.Decompress(over)
		require.ErrorIs(t, err, codec.ErrCompressedData, n)
		require.Nil(t, got)
		require.Contains(t, err.Error(), "limit of 1000 bytes", n)

		// What Decompress would refuse, Compress refuses at save.
		_, err = z.Compress(bytes.Repeat([]byte{'a'}, n))
		require.ErrorIs(t, err, codec.ErrEncode, n)
		require.Contains(t, err.Error(), "limit of 1000 bytes", n)
	}
}

// TestZlibDecompressDefaultLimit shows that the zero value is bounded too:
// a 70 kB stream of zeros that inflates to 65 MiB is refused.
func TestZlibDecompressDefaultLimit(t *testing.T) {
	t.Parallel()
	var z codec.ZlibCompressor
	got, err := z.Decompress(zlibZeros(t, codec.DefaultMaxDecompressedSize/(1<<20)+1))
	require.ErrorIs(t, err, codec.ErrCompressedData)
	require.Nil(t, got)
	require.Contains(t, err.Error(), fmt.Sprintf("limit of %d bytes", codec.DefaultMaxDecompressedSize))
}

// zlibZeros returns a zlib stream of mib MiB of zeros, cheaply: deflate
// blocks can be repeated when every byte they copy is zero, so it repeats
// the flushed (not final) compression of one MiB, then ends the stream. The
// trailing checksum is left out: readers refuse the stream before it.
func zlibZeros(t *testing.T, mib int) []byte {
	t.Helper()
	var block bytes.Buffer
	w, err := flate.NewWriter(&block, flate.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	stream := []byte{0x78, 0xda} // zlib header: deflate, 32K window
	stream = append(stream, bytes.Repeat(block.Bytes(), mib)...)
	return append(stream, 0x03, 0x00) // a final, empty fixed-Huffman block
}
