package engine_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, engine.KeySize) }

func mustSealer(t *testing.T, key []byte) *engine.Sealer {
	t.Helper()
	s, err := engine.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sealV1 writes a value as releases before the source binding did: GCM
// with the setting name alone as additional data, nonce in front.
func sealV1(t *testing.T, key []byte, name, value string) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	return aead.Seal(nonce, nonce, []byte(value), []byte(name))
}

func TestSealedSecretsOpenOnlyForTheirSourceAndSetting(t *testing.T) {
	key := testKey(7)
	s := mustSealer(t, key)
	sealed := s.Seal("src-a", "apiToken", "s3cret")
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("the sealed value holds the plaintext")
	}
	tests := []struct {
		name     string
		sealer   *engine.Sealer
		sourceID string
		setting  string
		value    []byte
		want     string
		wantErr  error
	}{
		{"its source and setting", s, "src-a", "apiToken", sealed, "s3cret", nil},
		{"copied to another source", s, "src-b", "apiToken", sealed, "", engine.ErrSealedWithOtherKey},
		{"moved to another setting", s, "src-a", "bindPassword", sealed, "", engine.ErrSealedWithOtherKey},
		{"another key", mustSealer(t, testKey(8)), "src-a", "apiToken", sealed, "", engine.ErrSealedWithOtherKey},
		{"truncated", s, "src-a", "apiToken", sealed[:10], "", engine.ErrSealedWithOtherKey},
		{"an old unbound value", s, "src-a", "apiToken", sealV1(t, key, "apiToken", "s3cret"), "", engine.ErrLegacySeal},
		{"an old value of another key", s, "src-a", "apiToken", sealV1(t, testKey(9), "apiToken", "s3cret"), "", engine.ErrSealedWithOtherKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.sourceID, tt.setting, tt.value)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Open = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), tt.setting) || strings.Contains(err.Error(), "s3cret")) {
				t.Errorf("error %q should name the setting and never the secret", err)
			}
		})
	}
}

// TestResealBindsOldSecretsToTheirSource is the migration of secrets
// stored before the binding: serve reseals them once at start-up.
func TestResealBindsOldSecretsToTheirSource(t *testing.T) {
	ctx := context.Background()
	key := testKey(3)
	sealer := mustSealer(t, key)
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "reseal.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	create := func(name string, secrets map[string][]byte) storage.Source {
		src, err := store.CreateSource(ctx, storage.Source{Name: name, Kind: "fake", Settings: []byte(`{"region":"eu"}`),
			Secrets: secrets, Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate}})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	old := create("old", map[string][]byte{"apiToken": sealV1(t, key, "apiToken", "tok-old")})
	current := create("current", nil)
	current, err = store.UpdateSource(ctx, current.ID, func(s *storage.Source) error {
		s.Secrets = map[string][]byte{"apiToken": sealer.Seal(s.ID, "apiToken", "tok-current")}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	otherKey := create("other-key", map[string][]byte{"apiToken": sealV1(t, testKey(4), "apiToken", "tok-x")})

	var logs bytes.Buffer
	n, err := engine.Reseal(ctx, store, sealer, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || n != 1 {
		t.Fatalf("Reseal = %d, %v; want 1 source rewritten", n, err)
	}
	got, _ := store.GetSource(ctx, old.ID)
	if plain, err := sealer.Open(old.ID, "apiToken", got.Secrets["apiToken"]); err != nil || plain != "tok-old" {
		t.Fatalf("the resealed secret opens as %q, %v", plain, err)
	}
	if _, err := sealer.Open(current.ID, "apiToken", got.Secrets["apiToken"]); !errors.Is(err, engine.ErrSealedWithOtherKey) {
		t.Errorf("the resealed secret opened for another source: %v", err)
	}
	if got, _ := store.GetSource(ctx, current.ID); !bytes.Equal(got.Secrets["apiToken"], current.Secrets["apiToken"]) || got.Version != current.Version {
		t.Error("a secret already bound to its source was rewritten")
	}
	if got, _ := store.GetSource(ctx, otherKey.ID); !bytes.Equal(got.Secrets["apiToken"], otherKey.Secrets["apiToken"]) {
		t.Error("a secret this key cannot open was changed")
	}
	if !strings.Contains(logs.String(), "other-key") || strings.Contains(logs.String(), "tok-") {
		t.Errorf("the log should name the source whose secret does not open, and no secret: %s", logs.String())
	}
	if n, err := engine.Reseal(ctx, store, sealer, slog.New(slog.DiscardHandler)); err != nil || n != 0 {
		t.Errorf("a second Reseal = %d, %v; want nothing to do", n, err)
	}
}
