package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/eventsourcing-go/eventsourcing/codec"
	"github.com/eventsourcing-go/eventsourcing/config"
)

// Environment variables that select the cipher and the compressor, as in
// the Python library's infrastructure factory.
const (
	// EnvCipherTopic names the cipher: "aes" (any case), "AESCipher" or
	// "eventsourcing.cipher:AESCipher". It may be left unset when
	// EnvCipherKey is set, which selects AES.
	EnvCipherTopic = "CIPHER_TOPIC"
	// EnvCipherKey is the cipher key: 16, 24 or 32 bytes encoded as
	// standard, padded base64 (see codec.CreateAESKey).
	EnvCipherKey = "CIPHER_KEY"
	// EnvCompressorTopic names the compressor: "zlib" (any case),
	// "ZlibCompressor" or "eventsourcing.compressor:ZlibCompressor".
	EnvCompressorTopic = "COMPRESSOR_TOPIC"
	// EnvCompressorMaxDecompressedSize sets
	// codec.ZlibCompressor.MaxDecompressedSize in bytes (an integer of at
	// least 1) when EnvCompressorTopic selects zlib. Unset or empty means
	// codec.DefaultMaxDecompressedSize.
	EnvCompressorMaxDecompressedSize = "COMPRESSOR_MAX_DECOMPRESSED_SIZE"
)

// cipherFromEnv returns the cipher that env configures, or nil and no
// error when neither CIPHER_TOPIC nor CIPHER_KEY is set (empty counts as
// unset). CIPHER_KEY alone selects AES, as does a CIPHER_TOPIC of "aes"
// (any case), "AESCipher" or "eventsourcing.cipher:AESCipher". It returns
// a *config.Error (wrapping ErrInvalidKey) naming the variable read for an
// unknown topic, for a topic without a key, and for a key that is not
// standard base64 or does not decode to 16, 24 or 32 bytes; the key itself
// never appears in the error. It is safe for concurrent use.
func cipherFromEnv(env config.Environment) (codec.Cipher, error) {
	topicVar, topic, _ := env.Find(EnvCipherTopic)
	keyVar, key, _ := env.Find(EnvCipherKey)
	topic = strings.TrimSpace(topic)
	key = strings.TrimSpace(key)
	if topic == "" && key == "" {
		return nil, nil
	}
	if topic != "" && !isAESTopic(topic) {
		return nil, &config.Error{Var: topicVar, Value: topic,
			Reason: `unknown cipher: expected "aes", "AESCipher" or "eventsourcing.cipher:AESCipher"`}
	}
	if key == "" {
		return nil, &config.Error{Var: keyVar, Value: "", Reason: "not set, although " + topicVar + " was set"}
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		// The decoding error gives only an offset, never key material.
		return nil, &config.Error{Var: keyVar, Value: redacted(len(key), "characters"),
			Reason: "expected standard base64: " + err.Error()}
	}
	defer clear(raw)
	c, err := codec.NewAESCipher(raw)
	var size *codec.KeySizeError
	if errors.As(err, &size) {
		return nil, &config.Error{Var: keyVar, Value: redacted(len(raw), "bytes"), Reason: size.Error()}
	}
	if err != nil {
		return nil, fmt.Errorf("cipher from env: %w", err)
	}
	return c, nil
}

// isAESTopic reports whether topic names the AES cipher.
func isAESTopic(topic string) bool {
	return strings.EqualFold(topic, "aes") || topic == "AESCipher" || topic == "eventsourcing.cipher:AESCipher"
}

// redacted stands in for a secret value in errors.
func redacted(n int, unit string) string {
	return fmt.Sprintf("<redacted %d %s>", n, unit)
}

// compressorFromEnv returns the compressor that env configures with
// COMPRESSOR_TOPIC, or nil and no error when it is unset or empty. The
// topics "zlib" (any case), "ZlibCompressor" and
// "eventsourcing.compressor:ZlibCompressor" select ZlibCompressor, whose
// limit COMPRESSOR_MAX_DECOMPRESSED_SIZE sets. Any other topic, or a limit
// that is not an integer of at least 1, gives a *config.Error (wrapping
// config.ErrInvalid) naming the variable read. It is safe for concurrent use.
func compressorFromEnv(env config.Environment) (codec.Compressor, error) {
	name, topic, _ := env.Find(EnvCompressorTopic)
	topic = strings.TrimSpace(topic)
	switch {
	case topic == "":
		return nil, nil
	case strings.EqualFold(topic, "zlib"), topic == "ZlibCompressor", topic == "eventsourcing.compressor:ZlibCompressor":
		limit, err := env.Int(EnvCompressorMaxDecompressedSize, 0, 1)
		if err != nil {
			return nil, err
		}
		return codec.ZlibCompressor{MaxDecompressedSize: int64(limit)}, nil
	}
	return nil, &config.Error{Var: name, Value: topic,
		Reason: `unknown compressor: expected "zlib", "ZlibCompressor" or "eventsourcing.compressor:ZlibCompressor"`}
}
