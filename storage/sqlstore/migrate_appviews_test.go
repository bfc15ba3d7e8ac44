package sqlstore

import (
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// TestMigrationWholeViews makes a database as schema version 13 left it,
// with an app holding every active user (a row per user) beside one with
// a filter, and opens it with the current schema: the whole app keeps
// only its departure, the filtered one every row, and both views answer
// with the same users, none of them with an earlier lastModified or a
// lower version than before; the maintenance goes on from there.
func TestMigrationWholeViews(t *testing.T) {
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			clock := sourcetest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
			old, err := Open(ctx, dsn, Options{schemaVersion: linksVersion, Now: clock.Now})
			if err != nil {
				t.Fatalf("Open at version %d: %v", linksVersion, err)
			}
			ids := map[string]string{}
			for _, name := range []string{"ann", "bob", "cid"} {
				made, err := old.CreateUser(ctx, storage.User{UserName: name, Title: "in", Active: true})
				if err != nil {
					t.Fatalf("CreateUser %s: %v", name, err)
				}
				ids[name] = made.ID
			}
			clock.Advance(time.Hour)
			whole, err := old.CreateApp(ctx, storage.App{Name: "active", LeaveGraceDays: 7})
			if err != nil {
				t.Fatalf("CreateApp: %v", err)
			}
			filtered, err := old.CreateApp(ctx, storage.App{Name: "in", Scope: storage.AppScope{
				FilterExpr: storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: "in"}, IncludeInactive: true}})
			if err != nil {
				t.Fatalf("CreateApp: %v", err)
			}
			clock.Advance(time.Hour)
			if _, err := old.UpdateUser(ctx, ids["bob"], func(u *storage.User) error { u.Active = false; return nil }); err != nil {
				t.Fatalf("UpdateUser bob: %v", err)
			}
			if n := storedRows(t, old, whole.ID); n != 3 {
				t.Fatalf("rows of the whole app at version %d: %d, want 3", linksVersion, n)
			}
			before := viewUsers(t, old, whole.ID)
			old.Close()

			s, err := Open(ctx, dsn, Options{Now: clock.Now})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			if n := storedRows(t, s, whole.ID); n != 1 {
				t.Errorf("rows of the whole app after migrating: %d, want 1 (bob's departure)", n)
			}
			if n := storedRows(t, s, filtered.ID); n != 3 {
				t.Errorf("rows of the filtered app after migrating: %d, want 3", n)
			}
			after := viewUsers(t, s, whole.ID)
			if len(after) != len(before) {
				t.Fatalf("view after migrating %+v, want the users of %+v", after, before)
			}
			for id, b := range before {
				a, ok := after[id]
				if !ok || a.Active != b.Active || a.Meta.LastModified.Before(b.Meta.LastModified) || a.Meta.Version < b.Meta.Version {
					t.Errorf("user %s after migrating %+v (%v), before %+v", id, a.Meta, ok, b.Meta)
				}
			}

			// The view goes on without rows: cid leaves, bob comes back.
			clock.Advance(time.Hour)
			if _, err := s.UpdateUser(ctx, ids["cid"], func(u *storage.User) error { u.Active = false; return nil }); err != nil {
				t.Fatalf("UpdateUser cid: %v", err)
			}
			if _, err := s.UpdateUser(ctx, ids["bob"], func(u *storage.User) error { u.Active = true; return nil }); err != nil {
				t.Fatalf("UpdateUser bob: %v", err)
			}
			got := viewUsers(t, s, whole.ID)
			if !got[ids["ann"]].Active || !got[ids["bob"]].Active || got[ids["cid"]].Active || len(got) != 3 {
				t.Errorf("view after cid left and bob came back: %+v", got)
			}
			if !got[ids["cid"]].Meta.LastModified.Equal(clock.Now()) {
				t.Errorf("cid's departure at %v, want %v", got[ids["cid"]].Meta.LastModified, clock.Now())
			}
		})
	}
}

// viewUsers reads every user of app's view, by id.
func viewUsers(t *testing.T, s *Store, appID string) map[string]storage.User {
	t.Helper()
	page, err := s.ListUsers(t.Context(), storage.Query{View: appID, Limit: 100})
	if err != nil {
		t.Fatalf("ListUsers(view %s): %v", appID, err)
	}
	out := map[string]storage.User{}
	for _, d := range page.Users {
		u, err := d.Decode()
		if err != nil {
			t.Fatal(err)
		}
		out[u.ID] = u
	}
	return out
}
