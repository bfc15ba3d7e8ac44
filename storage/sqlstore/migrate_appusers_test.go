package sqlstore

import (
	"slices"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestMigrationKeysAppUsersByUser makes a database as a release on schema
// version 9 left it, with a view holding a user in view and one who left
// within the grace, and opens it with the current schema: the rows stay
// as they were, app_users is keyed (user_id, app_id) with one index by
// app, and the maintenance, the cascades and the reads work on it.
func TestMigrationKeysAppUsersByUser(t *testing.T) {
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: pushVersion})
			if err != nil {
				t.Fatalf("Open at version %d: %v", pushVersion, err)
			}
			app, err := old.CreateApp(ctx, storage.App{Name: "crm", LeaveGraceDays: 7, Scope: storage.AppScope{
				FilterExpr: storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: "in"}, IncludeInactive: true}})
			if err != nil {
				t.Fatalf("CreateApp: %v", err)
			}
			ids := map[string]string{}
			for _, u := range []storage.User{{UserName: "ann", Title: "in"}, {UserName: "bob", Title: "in"}, {UserName: "cid", Title: "out"}} {
				u.Active = true
				made, err := old.CreateUser(ctx, u)
				if err != nil {
					t.Fatalf("CreateUser %s: %v", u.UserName, err)
				}
				ids[u.UserName] = made.ID
			}
			if _, err := old.UpdateUser(ctx, ids["bob"], func(u *storage.User) error { u.Title = "out"; return nil }); err != nil {
				t.Fatalf("UpdateUser bob: %v", err)
			}
			before, err := old.AppMembers(ctx, app.ID, app.CreatedAt.Add(-1))
			if err != nil || len(before) != 2 || before[1].Left.IsZero() {
				t.Fatalf("view before migrating: %+v, %v; want ann in view and bob departed", before, err)
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			if got := count(t, s.db, "SELECT MAX(version) FROM schema_migrations"); got < appUsersByUserVersion {
				t.Fatalf("schema version %d after Open, want at least %d", got, appUsersByUserVersion)
			}
			after, err := s.AppMembers(ctx, app.ID, app.CreatedAt.Add(-1))
			if err != nil || !slices.Equal(after, before) {
				t.Errorf("view after migrating:\n%+v, %v\nwant as before:\n%+v", after, err, before)
			}
			key, indexes := appUsersShape(t, s)
			if !slices.Equal(key, []string{"user_id", "app_id"}) {
				t.Errorf("app_users key %v, want [user_id app_id]", key)
			}
			if !slices.Equal(indexes, []string{"app_users_app"}) {
				t.Errorf("app_users indexes besides the key %v, want [app_users_app]", indexes)
			}

			// The maintenance writes the new table: cid joins, dan is
			// created in view, ann departs (deleted), bob's stay departed.
			if _, err := s.UpdateUser(ctx, ids["cid"], func(u *storage.User) error { u.Title = "in"; return nil }); err != nil {
				t.Fatalf("UpdateUser cid: %v", err)
			}
			dan, err := s.CreateUser(ctx, storage.User{UserName: "dan", Title: "in", Active: true})
			if err != nil {
				t.Fatalf("CreateUser dan: %v", err)
			}
			if err := s.DeleteUser(ctx, ids["ann"], nil); err != nil {
				t.Fatalf("DeleteUser ann: %v", err)
			}
			got, err := s.AppMembers(ctx, app.ID, app.CreatedAt.Add(-1))
			if err != nil {
				t.Fatalf("AppMembers: %v", err)
			}
			state := map[string]bool{} // user id: in view
			for _, m := range got {
				state[m.UserID] = m.Left.IsZero()
			}
			// ann, deleted, departs within the grace (migration 14).
			want := map[string]bool{ids["ann"]: false, ids["bob"]: false, ids["cid"]: true, dan.ID: true}
			if len(state) != len(want) {
				t.Errorf("view after writes: %v, want %v", state, want)
			}
			for id, in := range want {
				if got, ok := state[id]; !ok || got != in {
					t.Errorf("view after writes: user %s in=%v present=%v, want in=%v", id, got, ok, in)
				}
			}
			if c, err := s.AppCounts(ctx, app.ID); err != nil || c.Users != 2 || c.Departed != 2 {
				t.Errorf("AppCounts = %+v, %v; want 2 users and 2 departed", c, err)
			}
			if err := s.DeleteApp(ctx, app.ID); err != nil {
				t.Fatalf("DeleteApp: %v", err)
			}
			if n := count(t, s.db, "SELECT COUNT(*) FROM app_users"); n != 0 {
				t.Errorf("%d membership rows after deleting the app, want 0", n)
			}
		})
	}
}

// appUsersShape returns app_users' primary key columns in key order and
// the names of its other indexes, sorted, from the database's catalog.
func appUsersShape(t *testing.T, s *Store) (key, indexes []string) {
	t.Helper()
	keyQuery := `SELECT name FROM pragma_index_info((SELECT name FROM pragma_index_list('app_users') WHERE origin = 'pk')) ORDER BY seqno`
	indexQuery := `SELECT name FROM pragma_index_list('app_users') WHERE origin = 'c' ORDER BY name`
	if s.dialect.name == postgresDialect.name {
		keyQuery = `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = 'app_users'::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`
		indexQuery = `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = 'app_users'::regclass AND NOT i.indisprimary ORDER BY c.relname`
	}
	for _, q := range []struct {
		sql string
		out *[]string
	}{{keyQuery, &key}, {indexQuery, &indexes}} {
		if err := s.db.Raw(q.sql).Scan(q.out).Error; err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return key, indexes
}
