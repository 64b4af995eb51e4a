package codec_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/codec"
)

// newTestAESCipher returns an AESCipher with a new random key of n bytes.
func newTestAESCipher(t *testing.T, n int) *codec.AESCipher {
	t.Helper()
	key, err := codec.CreateAESKey(n)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(key)
	require.NoError(t, err)
	c, err := codec.NewAESCipher(raw)
	require.NoError(t, err)
	return c
}

func TestAESCreateKeySizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			key, err := codec.CreateAESKey(n)
			require.NoError(t, err)
			raw, err := base64.StdEncoding.DecodeString(key)
			require.NoError(t, err, "standard, padded base64")
			require.Len(t, raw, n)
			other, err := codec.CreateAESKey(n)
			require.NoError(t, err)
			require.NotEqual(t, key, other, "keys are random")
		})
	}
	for _, n := range []int{-1, 0, 15, 17, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			key, err := codec.CreateAESKey(n)
			require.Error(t, err)
			require.Empty(t, key)
			require.ErrorIs(t, err, codec.ErrInvalidKey)
			require.Contains(t, err.Error(), fmt.Sprintf("invalid key size: %d not in (16, 24, 32)", n))
		})
	}
}

func TestNewAESCipherKeySizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{16, 24, 32} {
		c, err := codec.NewAESCipher(make([]byte, n))
		require.NoError(t, err, n)
		require.NotNil(t, c)
	}
	for _, n := range []int{0, 15, 64} {
		c, err := codec.NewAESCipher(make([]byte, n))
		require.Error(t, err, n)
		require.Nil(t, c)
		require.ErrorIs(t, err, codec.ErrInvalidKey)
		require.Contains(t, err.Error(), fmt.Sprintf("invalid key size: %d not in (16, 24, 32)", n))
	}
}

func TestAESRoundTrip(t *testing.T) {
	t.Parallel()
	plaintexts := [][]byte{
		nil,
		[]byte("x"),
		[]byte(`{"timestamp":"2021-03-14T09:26:53.589793+00:00","full_name":"Alice"}`),
		bytes.Repeat([]byte{0, 1, 2, 255}, 1000),
	}
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			c := newTestAESCipher(t, n)
			for _, plain := range plaintexts {
				original := bytes.Clone(plain)
				ct, err := c.Encrypt(plain)
				require.NoError(t, err)
				require.Equal(t, original, plain, "Encrypt does not modify its input")
				require.Len(t, ct, len(plain)+28, "nonce (12) + tag (16) longer")
				if len(plain) >= 8 {
					require.NotContains(t, string(ct), string(plain))
				}
				ctCopy := bytes.Clone(ct)
				got, err := c.Decrypt(ct)
				require.NoError(t, err)
				require.Equal(t, ctCopy, ct, "Decrypt does not modify its input")
				require.True(t, bytes.Equal(plain, got), "round trip of %d bytes", len(plain))
			}
		})
	}
}

func TestAESEncryptIsRandomized(t *testing.T) {
	t.Parallel()
	c := newTestAESCipher(t, 32)
	plain := []byte(`{"a":1}`)
	ct1, err := c.Encrypt(plain)
	require.NoError(t, err)
	ct2, err := c.Encrypt(plain)
	require.NoError(t, err)
	require.NotEqual(t, ct1, ct2)
	require.NotEqual(t, ct1[:12], ct2[:12], "a new nonce each time")
}

func TestAESWrongKeyIsTypedError(t *testing.T) {
	t.Parallel()
	c1 := newTestAESCipher(t, 32)
	plain := []byte(`{"full_name":"Alice"}`)
	ct, err := c1.Encrypt(plain)
	require.NoError(t, err)
	for _, n := range []int{16, 24, 32} {
		c2 := newTestAESCipher(t, n)
		got, err := c2.Decrypt(ct)
		require.Error(t, err)
		require.Nil(t, got, "never garbage")
		require.ErrorIs(t, err, codec.ErrCipherText)
		require.Contains(t, err.Error(), "cipher text is damaged: ")
	}
}

func TestAESTamperedIsTypedError(t *testing.T) {
	t.Parallel()
	c := newTestAESCipher(t, 16)
	plain := []byte(`{"balance":"100.00"}`)
	ct, err := c.Encrypt(plain)
	require.NoError(t, err)
	regions := func(i int) string {
		switch {
		case i < 12:
			return "nonce"
		case i < 28:
			return "tag"
		}
		return "ciphertext"
	}
	for i := range ct {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			damaged := bytes.Clone(ct)
			damaged[i] ^= mask
			got, err := c.Decrypt(damaged)
			require.ErrorIs(t, err, codec.ErrCipherText, "byte %d (%s) ^ %#x", i, regions(i), mask)
			require.Nil(t, got)
			require.Contains(t, err.Error(), "cipher text is damaged: ")
		}
	}
	// Truncated and extended cipher texts fail too.
	for _, damaged := range [][]byte{ct[:len(ct)-1], append(bytes.Clone(ct), 0)} {
		_, err := c.Decrypt(damaged)
		require.ErrorIs(t, err, codec.ErrCipherText)
	}
	// The original still decrypts.
	got, err := c.Decrypt(ct)
	require.NoError(t, err)
	require.Equal(t, plain, got)
}

func TestAESShortInputErrors(t *testing.T) {
	t.Parallel()
	c := newTestAESCipher(t, 32)
	tests := []struct {
		n    int
		want string
	}{
		{0, "damaged cipher text: invalid nonce length"},
		{5, "damaged cipher text: invalid nonce length"},
		{11, "damaged cipher text: invalid nonce length"},
		{12, "damaged cipher text: invalid tag length"},
		{27, "damaged cipher text: invalid tag length"},
	}
	for _, tt := range tests {
		got, err := c.Decrypt(make([]byte, tt.n))
		require.ErrorIs(t, err, codec.ErrCipherText, tt.n)
		require.Nil(t, got)
		require.Contains(t, err.Error(), tt.want, tt.n)
	}
	// 28 bytes is a well-formed empty cipher text that fails authentication.
	_, err := c.Decrypt(make([]byte, 28))
	require.ErrorIs(t, err, codec.ErrCipherText)
	require.Contains(t, err.Error(), "cipher text is damaged: ")
}

func TestAESZeroValueIsConfigError(t *testing.T) {
	t.Parallel()
	var c codec.AESCipher
	_, err := c.Encrypt([]byte("x"))
	require.ErrorIs(t, err, codec.ErrInvalidKey)
	_, err = c.Decrypt(make([]byte, 40))
	require.ErrorIs(t, err, codec.ErrInvalidKey)
}

// TestAESLayout proves the layout nonce || tag || encrypted bytes by
// assembling a cipher text from Go's AEAD directly, and by opening
// Encrypt's output with it.
func TestAESLayout(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	nonce := []byte("fixed nonce!")
	plain := []byte(`{"full_name":"Alice","balance":"100.00"}`)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	sealed := aead.Seal(nil, nonce, plain, nil) // encrypted || tag
	encrypted, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]

	c, err := codec.NewAESCipher(key)
	require.NoError(t, err)
	assembled := append(append(bytes.Clone(nonce), tag...), encrypted...)
	got, err := c.Decrypt(assembled)
	require.NoError(t, err)
	require.Equal(t, plain, got)

	// Go's own order (nonce || encrypted || tag) is not accepted.
	_, err = c.Decrypt(append(bytes.Clone(nonce), sealed...))
	require.ErrorIs(t, err, codec.ErrCipherText)

	// Encrypt's output opens with Go's AEAD when split the same way.
	ct, err := c.Encrypt(plain)
	require.NoError(t, err)
	opened, err := aead.Open(nil, ct[:12], append(bytes.Clone(ct[28:]), ct[12:28]...), nil)
	require.NoError(t, err)
	require.Equal(t, plain, opened)
}

// TestAESDecryptsPythonCiphertext decrypts fixtures made in Python with
// cryptography's AESGCM, laid out as the Python library's AESCipher lays them out:
//
//	key, nonce = os.urandom(n), os.urandom(12)
//	ct_tag = AESGCM(key).encrypt(nonce, plaintext, None)
//	fixture = nonce + ct_tag[-16:] + ct_tag[:-16]
func TestAESDecryptsPythonCiphertext(t *testing.T) {
	t.Parallel()
	const plaintext = `{"timestamp":"2021-03-14T09:26:53.589793+00:00","full_name":"Alice","balance":"100.00"}`
	fixtures := []struct {
		key, hex string
	}{
		{
			key: "ZFrw0moZB2v1azkE2XeuTg==",
			hex: "0a0afe6e05acc8921e9a8a685c954da8ff2b25c2bd0ffc69e0472b5b0c709a79ff3bb7c74a45dad3eeee01a64db02f" +
				"28c029fca635bd6552f16ce5643079f69c1098ec82138114fbe230df1b50b01b2d45e755950b82cfb54c691b52951d" +
				"5ee93cc4d86eb86818a0c99389de1a9a54935bc1f6",
		},
		{
			key: "wxYjM391pCxHEN0wWMt5YywPNn2EIiPzQDE7f3JWmIE=",
			hex: "be0f2f10dab3b768adc6083fd5b950ac7f54e3fd08ddf9c949b706b0593c173eed0119197f1333a652f882843d1855" +
				"b54c596342facd321c5b3b266406bb98f1bdf51759b432851136d7539b312461b5e9e0370a2e33771baf4b109b455a" +
				"7654928d9c3f1b59d8f6e24b58d848fac40bf81cf2",
		},
	}
	for _, f := range fixtures {
		key, err := base64.StdEncoding.DecodeString(f.key)
		require.NoError(t, err)
		c, err := codec.NewAESCipher(key)
		require.NoError(t, err)
		ct, err := hex.DecodeString(f.hex)
		require.NoError(t, err)
		got, err := c.Decrypt(ct)
		require.NoError(t, err)
		require.Equal(t, plaintext, string(got))
	}
}

func TestCompressedEncryptedSizeRelations(t *testing.T) {
	t.Parallel()
	// A JSON state with repetition, as domain event states usually have.
	var b strings.Builder
	b.WriteString(`{"timestamp":"2021-03-14T09:26:53.589793+00:00","items":[`)
	for i := range 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"item %d","description":"a thing in the inventory","quantity":%d}`, i, i*10)
	}
	b.WriteString(`]}`)
	plain := []byte(b.String())

	c := newTestAESCipher(t, 32)
	var z codec.ZlibCompressor
	compressed, err := z.Compress(plain)
	require.NoError(t, err)
	encrypted, err := c.Encrypt(plain)
	require.NoError(t, err)
	both, err := c.Encrypt(compressed) // compress, then encrypt
	require.NoError(t, err)

	require.Less(t, len(compressed), len(plain))
	require.Greater(t, len(encrypted), len(plain))
	require.Less(t, len(both), len(plain))
	require.Greater(t, len(both), len(compressed))
	require.LessOrEqual(t, len(both), len(encrypted))

	// Decrypting yields the zlib bytes, which decompress to the state.
	decrypted, err := c.Decrypt(both)
	require.NoError(t, err)
	require.Equal(t, compressed, decrypted)
	got, err := z.Decompress(decrypted)
	require.NoError(t, err)
	require.Equal(t, plain, got)
}

func TestAESConcurrentUse(t *testing.T) {
	t.Parallel()
	c := newTestAESCipher(t, 24)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				plain := fmt.Appendf(nil, `{"goroutine":%d,"i":%d}`, g, i)
				ct, err := c.Encrypt(plain)
				if err != nil {
					errs <- err
					return
				}
				got, err := c.Decrypt(ct)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(plain, got) {
					errs <- fmt.Errorf("round trip: got %q, want %q", got, plain)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
