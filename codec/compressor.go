package codec

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
)

// ErrCompressedData is returned by Decompress when stored state is not
// valid compressed data: it is corrupt, truncated, or was never
// compressed. Test for it with errors.Is.
var ErrCompressedData = errors.New("corrupt compressed data")

// Compressor compresses and decompresses the state of stored events.
// Implementations must be safe for concurrent use and must return an error
// wrapping ErrCompressedData from Decompress for data they cannot
// decompress.
type Compressor interface {
	// Compress returns the compressed form of data.
	Compress(data []byte) ([]byte, error)
	// Decompress returns the data that Compress compressed.
	Decompress(data []byte) ([]byte, error)
}

// ZlibCompressor is a Compressor that uses zlib (RFC 1950) at the default
// compression level, compatible with the Python library's ZlibCompressor and
// Python's zlib.compress and zlib.decompress. The zero value is ready to
// use, with a limit of DefaultMaxDecompressedSize. It is safe for
// concurrent use.
type ZlibCompressor struct {
	// MaxDecompressedSize is the largest size in bytes of data that
	// Compress accepts and Decompress returns; zero or less means
	// DefaultMaxDecompressedSize. It bounds the memory that one stored
	// state can make Decompress use, whatever its compressed size.
	MaxDecompressedSize int64
}

// DefaultMaxDecompressedSize is the limit of ZlibCompressor's zero value:
// 64 MiB. Events and snapshots are typically kilobytes, so this is far
// above any state an application should store (decoding that much JSON
// takes seconds), yet a few concurrent reads of crafted rows cannot
// exhaust a server's memory: zlib inflates up to 1032 times, so a 64 kB
// row reaches the limit, and each read then costs at most about twice the
// limit.
const DefaultMaxDecompressedSize = 64 << 20

var _ Compressor = ZlibCompressor{}

// limit returns the effective MaxDecompressedSize.
func (z ZlibCompressor) limit() int {
	switch {
	case z.MaxDecompressedSize <= 0:
		return DefaultMaxDecompressedSize
	case z.MaxDecompressedSize >= math.MaxInt:
		return math.MaxInt - 1 // so that limit+1 does not overflow
	}
	return int(z.MaxDecompressedSize)
}

// Compress returns data compressed as a zlib stream. It returns an error
// wrapping ErrEncode when data is longer than MaxDecompressedSize, which
// Decompress would refuse; otherwise it fails only if the compressor
// fails, which writing to memory does not. It is safe for concurrent use.
func (z ZlibCompressor) Compress(data []byte) ([]byte, error) {
	if limit := z.limit(); len(data) > limit {
		return nil, fmt.Errorf("compress: %w: %d bytes is more than the limit of %d bytes (ZlibCompressor.MaxDecompressedSize, %s)",
			ErrEncode, len(data), limit, "COMPRESSOR_MAX_DECOMPRESSED_SIZE")
	}
	var buf bytes.Buffer
	buf.Grow(len(data)/2 + 64)
	w := zlibWriters.Get().(*zlib.Writer)
	defer zlibWriters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return buf.Bytes(), nil
}

// zlibWriters and zlibReaders reuse zlib's buffers (about 800 kB for a
// writer, 40 kB for a reader).
var (
	zlibWriters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}
	zlibReaders sync.Pool // of io.ReadCloser that are zlib.Resetter
)

// Decompress returns the data of the zlib stream data. It returns an error
// wrapping ErrCompressedData (and the zlib error) when data is not a
// complete, valid zlib stream: a bad header, corrupt or truncated data,
// or a checksum mismatch. It returns one wrapping ErrCompressedData and
// naming the limit when the stream holds more than MaxDecompressedSize
// bytes, having inflated no more than one byte past the limit. Bytes after
// the end of the stream are ignored, as Python's zlib.decompress ignores
// them. It is safe for concurrent use.
func (z ZlibCompressor) Decompress(data []byte) ([]byte, error) {
	var r io.ReadCloser
	if pooled, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := pooled.(zlib.Resetter).Reset(bytes.NewReader(data), nil); err != nil {
			return nil, decompressError(err)
		}
		r = pooled
	} else {
		var err error
		if r, err = zlib.NewReader(bytes.NewReader(data)); err != nil {
			return nil, decompressError(err)
		}
	}
	defer zlibReaders.Put(r)
	// Read at most limit+1 bytes into a buffer that starts at four times
	// the compressed size (JSON compresses about that well) and doubles,
	// but never grows past limit+1 bytes.
	limit := z.limit()
	out := make([]byte, 0, max(512, min(4*len(data), limit+1)))
	for {
		if len(out) == cap(out) {
			out = slices.Grow(out, min(len(out), limit+1-len(out)))
		}
		n, err := r.Read(out[len(out):min(cap(out), limit+1)])
		out = out[:len(out)+n]
		if len(out) > limit {
			return nil, fmt.Errorf("decompress: %w: the data decompresses to more than the limit of %d bytes (ZlibCompressor.MaxDecompressedSize, %s)",
				ErrCompressedData, limit, "COMPRESSOR_MAX_DECOMPRESSED_SIZE")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, decompressError(err)
		}
	}
	if err := r.Close(); err != nil {
		return nil, decompressError(err)
	}
	return out, nil
}

// decompressError wraps a zlib error so that it matches ErrCompressedData.
func decompressError(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // truncated input: say so, not "EOF"
	}
	return fmt.Errorf("decompress: %w: %w", ErrCompressedData, err)
}
