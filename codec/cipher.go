package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrInvalidKey is wrapped by the errors of NewAESCipher and CreateAESKey
// for a key of the wrong size, and of a zero AESCipher, which has no key.
var ErrInvalidKey = errors.New("invalid cipher key")

// ErrCipherText is returned by Decrypt when stored state cannot be
// decrypted: it was encrypted with another key, or its bytes are damaged
// (truncated or tampered with). Decrypt never returns garbage instead. Test
// for it with errors.Is.
var ErrCipherText = errors.New("damaged cipher text")

// Cipher encrypts and decrypts the state of stored events. Implementations
// must be safe for concurrent use and must return an error wrapping
// ErrCipherText from Decrypt when the cipher text cannot be authenticated.
type Cipher interface {
	// Encrypt returns the cipher text of plaintext.
	Encrypt(plaintext []byte) ([]byte, error)
	// Decrypt returns the plaintext of ciphertext.
	Decrypt(ciphertext []byte) ([]byte, error)
}

// AES-GCM layout of a cipher text, as written by the Python library's AESCipher:
// nonce || tag || encrypted bytes.
const (
	aesNonceSize = 12
	aesTagSize   = 16
)

// aesKeySizes is the message part listing the valid key sizes, as the
// Python library words it.
const aesKeySizes = "(16, 24, 32)"

// AESCipher is a Cipher that uses AES in Galois/Counter Mode, compatible
// with the Python library's AESCipher: a cipher text is a random 12-byte nonce, the
// 16-byte authentication tag and the encrypted bytes, in that order, so
// it is 28 bytes longer than its plaintext. Construct it with
// NewAESCipher; the zero value has no key and returns an error wrapping
// ErrInvalidKey from Encrypt and Decrypt. It is safe for concurrent use.
type AESCipher struct {
	aead cipher.AEAD
}

var _ Cipher = (*AESCipher)(nil)

// NewAESCipher returns an AESCipher that uses key, which must be 16, 24 or
// 32 bytes long (AES-128, AES-192 or AES-256); otherwise it returns an
// error wrapping ErrInvalidKey ("invalid key size: n not in (16, 24, 32)").
// The cipher does not keep key, so the caller may clear it afterwards. It
// is safe for concurrent use.
func NewAESCipher(key []byte) (*AESCipher, error) {
	if err := checkAESKeySize(len(key)); err != nil {
		return nil, fmt.Errorf("new aes cipher: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new aes cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new aes cipher: %w", err)
	}
	return &AESCipher{aead: aead}, nil
}

// CreateAESKey returns a new random AES key of numBytes bytes, encoded as
// standard, padded base64 as CIPHER_KEY expects. numBytes must be 16, 24
// or 32; otherwise it returns an error wrapping ErrInvalidKey ("invalid key
// size: n not in (16, 24, 32)"). It also returns an error if the system's
// random source fails. It is safe for concurrent use.
func CreateAESKey(numBytes int) (string, error) {
	if err := checkAESKeySize(numBytes); err != nil {
		return "", fmt.Errorf("create aes key: %w", err)
	}
	key := make([]byte, numBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("create aes key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

// KeySizeError is returned for an AES key that is not 16, 24 or 32 bytes
// long. It matches errors.Is(err, ErrInvalidKey).
type KeySizeError struct{ Size int }

func (e *KeySizeError) Error() string {
	return fmt.Sprintf("invalid key size: %d not in %s", e.Size, aesKeySizes)
}

// Unwrap returns ErrInvalidKey.
func (e *KeySizeError) Unwrap() error { return ErrInvalidKey }

// checkAESKeySize returns a *KeySizeError unless n is a valid AES key
// size.
func checkAESKeySize(n int) error {
	if n == 16 || n == 24 || n == 32 {
		return nil
	}
	return &KeySizeError{Size: n}
}

// errNoAESKey is returned by the methods of a zero AESCipher.
var errNoAESKey = fmt.Errorf("%w: aes cipher has no key: use NewAESCipher", ErrInvalidKey)

// Encrypt returns nonce || tag || encrypted bytes for plaintext, with a
// new random 12-byte nonce each time, so encrypting the same plaintext
// twice gives different cipher texts. It returns an error only if the
// system's random source fails, or one wrapping ErrInvalidKey for a zero
// AESCipher. It is safe for concurrent use.
func (c *AESCipher) Encrypt(plaintext []byte) ([]byte, error) {
	if c == nil || c.aead == nil {
		return nil, fmt.Errorf("encrypt: %w", errNoAESKey)
	}
	out := make([]byte, aesNonceSize+aesTagSize, aesNonceSize+aesTagSize+len(plaintext)+aesTagSize)
	nonce := out[:aesNonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	// Seal appends encrypted || tag after the reserved nonce and tag
	// space; move the tag in front of the encrypted bytes.
	sealed := c.aead.Seal(out[aesNonceSize+aesTagSize:], nonce, plaintext, nil)
	n := len(sealed) - aesTagSize
	copy(out[aesNonceSize:aesNonceSize+aesTagSize], sealed[n:])
	end := aesNonceSize + aesTagSize + n
	out = out[:end:end]
	copy(out[aesNonceSize+aesTagSize:], sealed[:n]) // no-op unless Seal reallocated
	return out, nil
}

// Decrypt returns the plaintext of ciphertext, which must be laid out as
// Encrypt lays it out (nonce || tag || encrypted bytes). Every failure to
// decrypt wraps ErrCipherText: a cipher text shorter than 12 bytes
// ("damaged cipher text: invalid nonce length") or than 28 bytes ("damaged
// cipher text: invalid tag length"), and one that fails authentication
// because it was encrypted with another key or was damaged ("cipher text
// is damaged: ..."). A zero AESCipher returns an error wrapping ErrInvalidKey
// instead. Decrypt does not modify ciphertext. It is safe for concurrent
// use.
func (c *AESCipher) Decrypt(ciphertext []byte) ([]byte, error) {
	if c == nil || c.aead == nil {
		return nil, fmt.Errorf("decrypt: %w", errNoAESKey)
	}
	if len(ciphertext) < aesNonceSize {
		return nil, &cipherTextError{msg: "damaged cipher text: invalid nonce length"}
	}
	if len(ciphertext) < aesNonceSize+aesTagSize {
		return nil, &cipherTextError{msg: "damaged cipher text: invalid tag length"}
	}
	nonce := ciphertext[:aesNonceSize]
	tag := ciphertext[aesNonceSize : aesNonceSize+aesTagSize]
	encrypted := ciphertext[aesNonceSize+aesTagSize:]
	// Open wants encrypted || tag; decrypt in place in that buffer.
	buf := make([]byte, 0, len(encrypted)+aesTagSize)
	buf = append(append(buf, encrypted...), tag...)
	plaintext, err := c.aead.Open(buf[:0], nonce, buf, nil)
	if err != nil {
		return nil, &cipherTextError{msg: "cipher text is damaged: " + err.Error(), err: err}
	}
	return plaintext, nil
}

// cipherTextError is a decrypt failure, worded as the Python library words it. It
// matches ErrCipherText and its cause.
type cipherTextError struct {
	msg string
	err error
}

func (e *cipherTextError) Error() string { return "decrypt: " + e.msg }

func (e *cipherTextError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrCipherText}
	}
	return []error{ErrCipherText, e.err}
}
