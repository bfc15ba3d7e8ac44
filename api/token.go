package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// Token format: "sg_" + id + "_" + secret. The id (public, 12 hex chars)
// finds the row; only SHA-256(secret) is stored and compared in constant
// time, so neither the database nor timing reveals a usable token.
const tokenPrefix = "sg_"

// NewToken makes a token for name and role. It returns the bearer string,
// to show once, and the row to store.
func NewToken(name string, role storage.Role, now time.Time) (string, storage.Token, error) {
	if strings.TrimSpace(name) == "" {
		return "", storage.Token{}, fmt.Errorf("token name must not be empty")
	}
	if !role.Valid() {
		return "", storage.Token{}, fmt.Errorf("unknown role %q: use reader, writer or admin", role)
	}
	idBytes := make([]byte, 6)
	secretBytes := make([]byte, 32)
	if _, err := rand.Read(idBytes); err != nil {
		return "", storage.Token{}, fmt.Errorf("token: random: %w", err)
	}
	if _, err := rand.Read(secretBytes); err != nil {
		return "", storage.Token{}, fmt.Errorf("token: random: %w", err)
	}
	id := hex.EncodeToString(idBytes)
	secret := base64.RawURLEncoding.EncodeToString(secretBytes)
	sum := sha256.Sum256([]byte(secret))
	return tokenPrefix + id + "_" + secret, storage.Token{
		ID: id, Name: name, Role: role, Hash: sum[:], CreatedAt: now.UTC(),
	}, nil
}

// parseToken splits a bearer string into its id and the hash of its secret.
func parseToken(bearer string) (id string, hash [32]byte, ok bool) {
	rest, found := strings.CutPrefix(bearer, tokenPrefix)
	if !found {
		return "", hash, false
	}
	id, secret, found := strings.Cut(rest, "_")
	if !found || len(id) != 12 || secret == "" {
		return "", hash, false
	}
	return id, sha256.Sum256([]byte(secret)), true
}
