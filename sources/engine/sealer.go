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
// a fresh random nonce, stored in front of the ciphertext; the secret's
// setting name is the additional data, so a sealed value cannot be moved
// to another setting.
type Sealer struct{ aead cipher.AEAD }

// KeySize is the length of a sealing key in bytes.
const KeySize = 32

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

// Seal encrypts a secret setting.
func (s *Sealer) Seal(name, value string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(value)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("sources: crypto/rand failed: %v", err))
	}
	return s.aead.Seal(nonce, nonce, []byte(value), []byte(name))
}

// ErrSealedWithOtherKey means a secret cannot be opened with this key.
var ErrSealedWithOtherKey = errors.New("the secret was sealed with another key (was SCIMGATE_SECRET_KEY or the key file changed?)")

// Open decrypts a sealed secret setting.
func (s *Sealer) Open(name string, sealed []byte) (string, error) {
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
