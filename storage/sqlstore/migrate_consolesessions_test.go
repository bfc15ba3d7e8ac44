package sqlstore

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// TestMigrationAddsConsoleSessions opens a database as the release before
// console sessions left it, revokes a token there (no sessions table yet),
// then opens it with the current schema: the tokens survive, sessions can
// be stored, and revoking a token ends its sessions.
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
			for _, name := range []string{"admin", "gone"} {
				sum := sha256.Sum256([]byte(name))
				tok := storage.Token{ID: name + "-id", Name: name, Role: storage.RoleAdmin, Hash: sum[:], CreatedAt: created}
				if _, err := old.CreateToken(ctx, tok); err != nil {
					t.Fatalf("CreateToken(%s): %v", name, err)
				}
			}
			if err := old.DeleteToken(ctx, "gone"); err != nil {
				t.Fatalf("DeleteToken at version %d: %v", pushVersion, err)
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
			hash := sha256.Sum256([]byte("cookie"))
			cs := storage.ConsoleSession{Hash: hash[:], TokenID: "admin-id", Actor: "admin", CSRF: "c",
				Created: created, LastSeen: created, Expires: created.Add(time.Hour)}
			if err := s.CreateConsoleSession(ctx, cs); err != nil {
				t.Fatalf("CreateConsoleSession after migrating: %v", err)
			}
			if err := s.DeleteToken(ctx, "admin"); err != nil {
				t.Fatalf("DeleteToken: %v", err)
			}
			if _, err := s.GetConsoleSession(ctx, cs.Hash); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("GetConsoleSession after revoking its token: %v, want ErrNotFound", err)
			}
		})
	}
}
