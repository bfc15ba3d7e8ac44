package engine

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sealer encrypts source secrets at rest with AES-256-GCM. Each value gets
// a fresh random nonce. A sealed value is bound to its source and setting:
// the additional data is the source id and the setting name, so a
// ciphertext copied to another source, or to another setting, does not
// open.
//
// Format (version 2): sealMagic, then the nonce, then the ciphertext.
// Version 1 values (nonce and ciphertext, bound to the setting name only)
// are what releases before the source binding wrote; OpenLegacy reads them
// so that Reseal can rewrite them once, and Open refuses them.
type Sealer struct{ aead cipher.AEAD }

// KeySize is the length of a sealing key in bytes.
const KeySize = 32

// sealMagic starts every version 2 sealed value.
var sealMagic = []byte("sg2\x00")

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sources: secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sources: secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sources: secret key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// boundTo is the additional data of a version 2 value: NUL cannot occur
// in a source id, so no two (id, name) pairs share it.
func boundTo(sourceID, name string) []byte {
	return []byte(sourceID + "\x00" + name)
}

// Seal encrypts the secret setting name of source sourceID.
func (s *Sealer) Seal(sourceID, name, value string) []byte {
	n := s.aead.NonceSize()
	out := make([]byte, len(sealMagic)+n, len(sealMagic)+n+len(value)+s.aead.Overhead())
	copy(out, sealMagic)
	nonce := out[len(sealMagic):]
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("sources: crypto/rand failed: %v", err))
	}
	return s.aead.Seal(out, nonce, []byte(value), boundTo(sourceID, name))
}

// ErrSealedWithOtherKey means a secret cannot be opened with this key for
// this source: the key changed, or the value was sealed for another source.
var ErrSealedWithOtherKey = errors.New("the secret does not open with this key for this source: " +
	"it was sealed with another key (was SCIMGATE_SECRET_KEY or the key file changed?) or for another source " +
	"(set the secret again through the API)")

// ErrLegacySeal means a secret is in the version 1 format, which is not
// bound to its source; Reseal rewrites such values at start-up.
var ErrLegacySeal = errors.New("the secret is sealed in the old format, not bound to its source (start scimgate serve once to reseal it)")

// Open decrypts the secret setting name of source sourceID.
func (s *Sealer) Open(sourceID, name string, sealed []byte) (string, error) {
	if !IsLegacySeal(sealed) {
		n := len(sealMagic) + s.aead.NonceSize()
		plain, err := s.aead.Open(nil, sealed[len(sealMagic):n], sealed[n:], boundTo(sourceID, name))
		if err == nil {
			return string(plain), nil
		}
		// A version 1 value whose random nonce began with the magic
		// (one in 2^32) is still only a version 1 value.
		if _, lerr := s.OpenLegacy(name, sealed); lerr == nil {
			return "", fmt.Errorf("sources: secret %s: %w", name, ErrLegacySeal)
		}
		return "", fmt.Errorf("sources: secret %s: %w", name, ErrSealedWithOtherKey)
	}
	if _, err := s.OpenLegacy(name, sealed); err == nil {
		return "", fmt.Errorf("sources: secret %s: %w", name, ErrLegacySeal)
	}
	return "", fmt.Errorf("sources: secret %s: %w", name, ErrSealedWithOtherKey)
}

// minSealed is the shortest version 2 value: the magic, GCM's standard
// 12-byte nonce and its 16-byte tag.
var minSealed = len(sealMagic) + 12 + 16

// IsLegacySeal reports whether sealed is not in the version 2 format.
func IsLegacySeal(sealed []byte) bool {
	return len(sealed) < minSealed || string(sealed[:len(sealMagic)]) != string(sealMagic)
}

// OpenLegacy decrypts a version 1 value, bound to the setting name only.
// Only Reseal uses it.
func (s *Sealer) OpenLegacy(name string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", fmt.Errorf("sources: secret %s: %w", name, ErrSealedWithOtherKey)
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(name))
	if err != nil {
		return "", fmt.Errorf("sources: secret %s: %w", name, ErrSealedWithOtherKey)
	}
	return string(plain), nil
}

// LoadKey returns the sealing key: from envValue (base64 of 32 bytes) when
// set, otherwise from keyFile, which is created with a random key (mode
// 0600) when it does not exist yet.
func LoadKey(envValue, keyFile string) ([]byte, error) {
	if envValue != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(envValue))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("SCIMGATE_SECRET_KEY must be the base64 encoding of %d random bytes (e.g. openssl rand -base64 32)", KeySize)
		}
		return key, nil
	}
	b, err := os.ReadFile(keyFile)
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) != KeySize {
			return nil, fmt.Errorf("secret key file %s does not hold a base64 %d-byte key", keyFile, KeySize)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	if dir := filepath.Dir(keyFile); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create secret key directory: %w", err)
		}
	}
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	return key, nil
}
