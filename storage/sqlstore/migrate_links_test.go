package sqlstore

import (
	"errors"
	"maps"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestMigrationAddsLinks makes a database as a release on schema 12 left
// it, with a source and a user, and opens it with the current schema: the
// source reads back with no link settings and can be given some, the user
// stays, and the source's records can then be contributions.
func TestMigrationAddsLinks(t *testing.T) {
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: historyVersion})
			if err != nil {
				t.Fatalf("Open at version %d: %v", historyVersion, err)
			}
			src, err := old.CreateSource(ctx, storage.Source{Name: "hr", Kind: "csv", Precedence: 30})
			if err != nil {
				t.Fatalf("CreateSource at version %d: %v", historyVersion, err)
			}
			_, err = old.CreateSource(ctx, storage.Source{Name: "ad", Kind: "ldap", Link: map[string]string{"k": "{id}"}})
			if !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("CreateSource with link keys at version %d: %v, want ErrInvalid", historyVersion, err)
			}
			if n, err := old.CountContributions(ctx, src.ID); err != nil || n != 0 {
				t.Errorf("CountContributions at version %d: %d, %v; want 0", historyVersion, n, err)
			}
			u, err := old.CreateUser(ctx, storage.User{UserName: "ann", Active: true})
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			if got, want := count(t, s.db, "SELECT MAX(version) FROM schema_migrations"), migrations[len(migrations)-1].version; got != want {
				t.Fatalf("schema version %d after Open, want the latest, %d", got, want)
			}
			got, err := s.GetSource(ctx, src.ID)
			if err != nil || got.Link != nil || got.Authoritative != nil || got.Precedence != 30 {
				t.Fatalf("source after migrating: %+v, %v; want it, without link settings", got, err)
			}
			link := map[string]string{"employeeId": "{employeeNumber}"}
			got, err = s.UpdateSource(ctx, src.ID, func(src *storage.Source) error {
				src.Link, src.Authoritative = link, []string{"title"}
				return nil
			})
			if err != nil || !maps.Equal(got.Link, link) || len(got.Authoritative) != 1 {
				t.Fatalf("UpdateSource adding link settings: %+v, %v", got, err)
			}
			if _, err := s.GetUser(ctx, u.ID); err != nil {
				t.Errorf("the user after migrating: %v", err)
			}
			person := storage.NewID()
			_, err = s.ApplyContributions(ctx, src.ID, storage.ContributionBatch{Upsert: []storage.ContributionWrite{{
				UserWrite: storage.UserWrite{User: storage.User{ID: person, UserName: "bob", Active: true}, Key: "1"},
				LinkKeys:  []storage.LinkKey{{Name: "employeeId", Value: "1"}},
			}}})
			if err != nil {
				t.Fatalf("ApplyContributions after migrating: %v", err)
			}
			if n, err := s.CountContributions(ctx, src.ID); err != nil || n != 1 {
				t.Errorf("CountContributions after migrating: %d, %v; want 1", n, err)
			}
		})
	}
}
