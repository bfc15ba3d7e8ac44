package sqlstore

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// TestMigrationAddsConsoleSessions opens a database as the release before
// console sessions left it, with a token, and opens it with the current
// schema: the token survives and sessions can be stored and read.
func TestMigrationAddsConsoleSessions(t *testing.T) {
	created := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: pushVersion})
			if err != nil {
				t.Fatalf("Open at version %d: %v", pushVersion, err)
			}
			sum := sha256.Sum256([]byte("admin"))
			tok := storage.Token{ID: "admin-id", Name: "admin", Role: storage.RoleAdmin, Hash: sum[:], CreatedAt: created}
			if _, err := old.CreateToken(ctx, tok); err != nil {
				t.Fatalf("CreateToken: %v", err)
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			if got := count(t, s.db, "SELECT MAX(version) FROM schema_migrations"); got < consoleSessionsVersion {
				t.Fatalf("schema version %d after Open, want at least %d", got, consoleSessionsVersion)
			}
			if _, err := s.GetToken(ctx, tok.ID); err != nil {
				t.Fatalf("GetToken after migrating: %v", err)
			}
			hash := sha256.Sum256([]byte("cookie"))
			cs := storage.ConsoleSession{Hash: hash[:], TokenID: tok.ID, Actor: tok.Name, CSRF: "c",
				Created: created, LastSeen: created, Expires: created.Add(time.Hour)}
			if err := s.CreateConsoleSession(ctx, cs); err != nil {
				t.Fatalf("CreateConsoleSession after migrating: %v", err)
			}
			got, err := s.GetConsoleSession(ctx, cs.Hash)
			if err != nil || got.TokenID != tok.ID || !got.Expires.Equal(cs.Expires) {
				t.Errorf("GetConsoleSession after migrating = %+v, %v; want the session stored", got, err)
			}
		})
	}
}
