package persistence

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"
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
// compression level, compatible with the seeds' ZlibCompressor and
// Python's zlib.compress and zlib.decompress. The zero value is ready to
// use. It is safe for concurrent use.
type ZlibCompressor struct{}

var _ Compressor = ZlibCompressor{}

// Compress returns data compressed as a zlib stream. It returns an error
// only if the compressor fails, which writing to memory does not. It is
// safe for concurrent use.
func (ZlibCompressor) Compress(data []byte) ([]byte, error) {
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
// or a checksum mismatch. Bytes after the end of the stream are ignored,
// as Python's zlib.decompress ignores them. It is safe for concurrent use.
func (ZlibCompressor) Decompress(data []byte) ([]byte, error) {
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
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, decompressError(err)
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

// CompressorFromEnv returns the compressor that env configures with
// COMPRESSOR_TOPIC, or nil and no error when it is unset or empty. The
// topics "zlib" (any case), "ZlibCompressor" and
// "eventsourcing.compressor:ZlibCompressor" select ZlibCompressor; any
// other value gives a *ConfigError (wrapping ErrConfig) naming the
// variable read. It is safe for concurrent use.
func CompressorFromEnv(env Environment) (Compressor, error) {
	name, topic, _ := env.lookup(EnvCompressorTopic)
	topic = strings.TrimSpace(topic)
	switch {
	case topic == "":
		return nil, nil
	case strings.EqualFold(topic, "zlib"), topic == "ZlibCompressor", topic == "eventsourcing.compressor:ZlibCompressor":
		return ZlibCompressor{}, nil
	}
	return nil, &ConfigError{Var: name, Value: topic,
		Reason: `unknown compressor: expected "zlib", "ZlibCompressor" or "eventsourcing.compressor:ZlibCompressor"`}
}
