package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// TestMigrationAddsPush makes a database as a release on schema version 8
// (applications, no push) left it, with an app, its view and a source's
// run, and opens it with the current schema: everything stays, the push
// tables answer, and the app can be given a push.
func TestMigrationAddsPush(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "old.db") }},
		{"postgres", pgtest.FreshSchema},
	} {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: appsVersion})
			if err != nil {
				t.Fatalf("Open at version %d: %v", appsVersion, err)
			}
			u, err := old.CreateUser(ctx, storage.User{UserName: "ann", Active: true})
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			app, err := old.CreateApp(ctx, storage.App{Name: "crm"})
			if err != nil {
				t.Fatalf("CreateApp: %v", err)
			}
			src, err := old.CreateSource(ctx, storage.Source{Name: "ad", Kind: "ldap"})
			if err != nil {
				t.Fatalf("CreateSource: %v", err)
			}
			run, err := old.CreateRun(ctx, storage.Run{SourceID: src.ID})
			if err != nil {
				t.Fatalf("CreateRun: %v", err)
			}
			// A write at the old schema maintains the view and no push.
			if _, err := old.UpdateUser(ctx, u.ID, func(u *storage.User) error { u.Title = "x"; return nil }); err != nil {
				t.Fatalf("UpdateUser at version %d: %v", appsVersion, err)
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			want := migrations[len(migrations)-1].version
			if got := count(t, s.db, "SELECT MAX(version) FROM schema_migrations"); got != want {
				t.Fatalf("schema version %d after Open, want %d", got, want)
			}
			if got, err := s.GetRun(ctx, src.ID, run.ID); err != nil || got.ID != run.ID {
				t.Errorf("source run after migrating: %+v, %v", got, err)
			}
			got, err := s.GetApp(ctx, app.ID)
			if err != nil || got.Push != nil {
				t.Fatalf("app after migrating: %+v, %v; want it, without push", got, err)
			}
			if ms, err := s.AppMembers(ctx, app.ID, got.CreatedAt.Add(-1)); err != nil || len(ms) != 1 || ms[0].UserID != u.ID {
				t.Errorf("view after migrating: %+v, %v; want ann", ms, err)
			}
			st, err := s.GetPushState(ctx, app.ID)
			if err != nil || st.AppID != app.ID || !st.FirstChange.IsZero() {
				t.Errorf("push state after migrating: %+v, %v; want zero values", st, err)
			}
			if _, err := s.UpdateApp(ctx, app.ID, func(a *storage.App) error {
				a.Push = &storage.PushConfig{URL: "https://crm.example.com/scim/v2", Auth: storage.PushAuth{Type: storage.PushAuthBearer}}
				return nil
			}); err != nil {
				t.Fatalf("UpdateApp adding push: %v", err)
			}
			if st, _ := s.GetPushState(ctx, app.ID); st.FirstChange.IsZero() {
				t.Errorf("push added after migrating: no first change")
			}
			if _, err := s.PushRuns().CreateRun(ctx, storage.Run{SourceID: app.ID}); err != nil {
				t.Errorf("push run after migrating: %v", err)
			}
		})
	}
}
