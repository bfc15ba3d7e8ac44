package sqlstore

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// TestMigrationDefersChildForeignKeys makes a database as a release on
// schema version 3 left it, with users, their value rows, a group and its
// members, and opens it with the current schema. The rows must survive
// the rebuild of their tables, the constraints must be deferred, an orphan
// row must still fail its transaction, and deleting a parent must still
// remove its children.
func TestMigrationDefersChildForeignKeys(t *testing.T) {
	databases := []struct {
		name     string
		dsn      func(testing.TB) string
		deferred string // one row per foreign key of the table named by ?: is it deferred?
	}{
		{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "old.db") },
			`SELECT instr(sql, 'DEFERRABLE INITIALLY DEFERRED') > 0 FROM sqlite_master WHERE type = 'table' AND name = ?`},
		{"postgres", pgtest.FreshSchema,
			`SELECT condeferred FROM pg_constraint WHERE conrelid = CAST(? AS regclass) AND contype = 'f'`},
	}
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: 3})
			if err != nil {
				t.Fatalf("Open at version 3: %v", err)
			}
			users, err := old.CreateUsers(ctx, []storage.User{
				{UserName: "ann", Active: true, Emails: []storage.MultiValue{{Value: "ann@example.com", Type: "work", Primary: true}}},
				{UserName: "bob", Active: true, Emails: []storage.MultiValue{{Value: "bob@example.com", Type: "work"}, {Value: "bob@home.example.org", Type: "home"}}},
			})
			if err != nil {
				t.Fatalf("CreateUsers: %v", err)
			}
			group, err := old.CreateGroup(ctx, storage.Group{DisplayName: "Engineering", Members: []storage.Member{
				{Value: users[0].ID, Type: storage.MemberUser}, {Value: users[1].ID, Type: storage.MemberUser}}})
			if err != nil {
				t.Fatalf("CreateGroup: %v", err)
			}
			if got := count(t, old.db, "SELECT COUNT(*) FROM user_values"); got != 3 {
				t.Fatalf("before migrating: %d value rows, want 3", got)
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			if got := count(t, s.db, "SELECT MAX(version) FROM schema_migrations"); got != migrations[len(migrations)-1].version {
				t.Fatalf("schema version %d after Open", got)
			}
			for _, table := range []string{"user_values", "group_members"} {
				var deferred []bool
				if err := s.db.Raw(db.deferred, table).Scan(&deferred).Error; err != nil {
					t.Fatalf("read %s's constraints: %v", table, err)
				}
				if len(deferred) != 1 || !deferred[0] {
					t.Errorf("%s: foreign keys deferred = %v, want [true]", table, deferred)
				}
			}

			page, err := s.ListUsers(ctx, storage.Query{Limit: 10, Filter: storage.ValuePath{Attr: storage.AttrEmails,
				Filter: storage.Compare{Attr: storage.SubValue, Op: storage.OpEq, Value: "bob@home.example.org"}}})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if len(page.Users) != 1 || page.Users[0].ID != users[1].ID {
				t.Fatalf("filter on a migrated email found %+v, want bob", page.Users)
			}
			got, err := s.GetGroup(ctx, group.ID, true)
			if err != nil {
				t.Fatalf("GetGroup: %v", err)
			}
			if len(got.Members) != 2 {
				t.Fatalf("migrated group has %d members, want 2", len(got.Members))
			}

			// A deferred check still fails the whole transaction, and the
			// writer goes on working afterwards.
			err = s.write(ctx, func(tx *txn) error {
				if err := tx.orm.Exec(`INSERT INTO user_values (user_seq, attr, value, is_primary) VALUES (?, 'emails', 'ghost@example.com', ?)`, 999999, false).Error; err != nil {
					return err
				}
				return tx.orm.Exec(`INSERT INTO group_members (group_id, member_id, member_type) VALUES ('no-such-group', ?, 'User')`, users[0].ID).Error
			})
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
				t.Fatalf("orphan rows: err = %v, want a foreign key violation", err)
			}
			if n := count(t, s.db, "SELECT COUNT(*) FROM user_values WHERE value = 'ghost@example.com'"); n != 0 {
				t.Fatalf("the orphan value row was kept")
			}
			if _, err := s.CreateUser(ctx, storage.User{UserName: "cid", Active: true}); err != nil {
				t.Fatalf("CreateUser after a failed commit: %v", err)
			}

			if err := s.DeleteUser(ctx, users[1].ID, nil); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if n := count(t, s.db, "SELECT COUNT(*) FROM user_values"); n != 1 {
				t.Errorf("%d value rows after deleting bob, want ann's 1", n)
			}
			if err := s.DeleteGroup(ctx, group.ID, nil); err != nil {
				t.Fatalf("DeleteGroup: %v", err)
			}
			if n := count(t, s.db, "SELECT COUNT(*) FROM group_members"); n != 0 {
				t.Errorf("%d membership rows after deleting the group, want 0", n)
			}
		})
	}
}

func count(t *testing.T, db *gorm.DB, q string) int {
	t.Helper()
	var n int
	if err := db.Raw(q).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// BenchmarkMigrateDeferredFK measures the upgrade to migration 4 of a
// SQLite database holding 100,000 users (three value rows each) and 1,000
// groups of 100 members: the time Open takes to rebuild the two child
// tables.
//
//	go test ./storage/sqlstore -run '^$' -bench MigrateDeferredFK -benchtime 1x
func BenchmarkMigrateDeferredFK(b *testing.B) {
	const users, groups, members = 100_000, 1_000, 100
	for range b.N {
		b.StopTimer()
		dsn := filepath.Join(b.TempDir(), "old.db")
		old, err := Open(b.Context(), dsn, Options{schemaVersion: 3})
		if err != nil {
			b.Fatal(err)
		}
		var ids []string
		for start := 0; start < users; start += 5_000 {
			batch := make([]storage.User, 0, 5_000)
			for i := start; i < start+5_000; i++ {
				name := fmt.Sprintf("user%06d", i)
				batch = append(batch, storage.User{UserName: name, Active: true,
					Emails:       []storage.MultiValue{{Value: name + "@example.com", Type: "work", Primary: true}, {Value: name + "@home.example.org", Type: "home"}},
					PhoneNumbers: []storage.MultiValue{{Value: fmt.Sprintf("+1 555 %07d", i), Type: "work"}}})
			}
			made, err := old.CreateUsers(b.Context(), batch)
			if err != nil {
				b.Fatal(err)
			}
			for _, u := range made {
				ids = append(ids, u.ID)
			}
		}
		for g := range groups {
			var ms []storage.Member
			for _, id := range ids[g*members : (g+1)*members] {
				ms = append(ms, storage.Member{Value: id, Type: storage.MemberUser})
			}
			if _, err := old.CreateGroup(b.Context(), storage.Group{DisplayName: fmt.Sprintf("group %d", g), Members: ms}); err != nil {
				b.Fatal(err)
			}
		}
		old.Close()
		b.StartTimer()
		s, err := Open(b.Context(), dsn, Options{})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		b.StartTimer()
	}
}
