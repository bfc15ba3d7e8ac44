package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// TestServeResealsSecretsAnOlderReleaseSealed: a database written by a
// release that bound secrets to their setting name only is upgraded at
// start-up, so from then on its secrets open only for their own source.
func TestServeResealsSecretsAnOlderReleaseSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "scimgate.db")
	key := bytes.Repeat([]byte{5}, engine.KeySize)
	if err := os.WriteFile(filepath.Join(dir, "scimgate.key"), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The old format: GCM with the setting name as additional data.
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	legacy := aead.Seal(nonce, nonce, []byte("okta-token-1"), []byte("apiToken"))

	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := st.CreateSource(ctx, storage.Source{Name: "okta", Kind: "okta",
		Settings: []byte(`{"orgURL":"https://example.okta.com"}`), Secrets: map[string][]byte{"apiToken": legacy},
		Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	_, logs := startServe(t, nil, "--db", db)
	if !strings.Contains(logs.String(), "resealed") {
		t.Errorf("serve did not say it resealed secrets:\n%s", logs.String())
	}
	st, err = sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.GetSource(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := engine.NewSealer(key)
	if plain, err := sealer.Open(src.ID, "apiToken", got.Secrets["apiToken"]); err != nil || plain != "okta-token-1" {
		t.Fatalf("after start-up the secret opens for its source as %q, %v", plain, err)
	}
	if engine.IsLegacySeal(got.Secrets["apiToken"]) {
		t.Error("the secret is still in the old format")
	}
}
