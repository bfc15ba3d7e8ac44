package sqlstore

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestMigrationFoldsKeysToNFC makes a database as a release on schema
// version 4 left it, whose keys were lower-cased without NFC (a decomposed
// "é" stored as it came), and opens it with the current schema: the keys
// become NFC, so the composed spelling finds and blocks the user, and two
// rows that become one key leave start-up working, the first untouched.
func TestMigrationFoldsKeysToNFC(t *testing.T) {
	const (
		decomposed = "jose\u0301@example.com"
		composed   = "jos\u00e9@example.com"
	)
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: 4})
			if err != nil {
				t.Fatalf("Open at version 4: %v", err)
			}
			users, err := old.CreateUsers(ctx, []storage.User{
				{UserName: "placeholder-1", Active: true, Emails: []storage.MultiValue{{Value: "placeholder@example.com"}}},
				{UserName: "placeholder-2", Active: true},
				{UserName: "placeholder-3", Active: true},
			})
			if err != nil {
				t.Fatalf("CreateUsers: %v", err)
			}
			if _, err := old.CreateGroup(ctx, storage.Group{DisplayName: "placeholder"}); err != nil {
				t.Fatalf("CreateGroup: %v", err)
			}
			// What the old folding stored: lower case, not NFC. The second
			// and third users collide once normalised.
			for _, stmt := range []struct {
				q    string
				args []any
			}{
				{"UPDATE users SET user_name = ? WHERE id = ?", []any{decomposed, users[0].ID}},
				{"UPDATE users SET user_name = ? WHERE id = ?", []any{"ange\u0301le@example.com", users[1].ID}},
				{"UPDATE users SET user_name = ? WHERE id = ?", []any{"ang\u00e9le@example.com", users[2].ID}},
				{"UPDATE user_values SET value = ?", []any{decomposed}},
				{"UPDATE groups SET display_name = ?", []any{"cafe\u0301"}},
			} {
				if err := old.db.Exec(stmt.q, stmt.args...).Error; err != nil {
					t.Fatalf("%s: %v", stmt.q, err)
				}
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			eq := func(a storage.Attr, v string) storage.Expr {
				return storage.Compare{Attr: a, Op: storage.OpEq, Value: v}
			}
			for _, f := range []storage.Expr{
				eq(storage.AttrUserName, composed),
				eq(storage.AttrUserName, "ANG\u00c9LE@example.com"),
				storage.ValuePath{Attr: storage.AttrEmails, Filter: eq(storage.SubValue, composed)},
			} {
				page, err := s.ListUsers(ctx, storage.Query{Filter: f})
				if err != nil || page.Total != 1 {
					t.Errorf("%+v: total %d (%v), want 1", f, page.Total, err)
				}
			}
			if _, err := s.CreateUser(ctx, storage.User{UserName: composed, Active: true}); !errors.Is(err, storage.ErrConflict) {
				t.Errorf("CreateUser(%q) after the migration: %v, want a conflict", composed, err)
			}
			groups, err := s.ListGroups(ctx, storage.Query{Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpEq, Value: "caf\u00e9"}}, false)
			if err != nil || groups.Total != 1 {
				t.Errorf("group displayName eq café: total %d (%v), want 1", groups.Total, err)
			}
		})
	}
}

// TestMigrationFoldsEveryCaseInsensitiveColumn: a database from before
// migration 7 holds a title, a department, a displayName and an email type
// lower-cased but not in NFC; after the migration a filter in the composed
// form finds the user, for every column the attribute table folds.
func TestMigrationFoldsEveryCaseInsensitiveColumn(t *testing.T) {
	const (
		decomposed = "re\u0301seau" // réseau, e + combining acute
		composed   = "R\u00c9SEAU"  // as a client writes it
	)
	columns := foldedValueColumns()
	for _, want := range []foldedColumn{{"users", "title"}, {"users", "department"}, {"users", "display_name"}, {"user_values", "type"}} {
		if !slices.Contains(columns, want) {
			t.Fatalf("the attribute table does not fold %s.%s: %v", want.table, want.column, columns)
		}
	}
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: 6})
			if err != nil {
				t.Fatalf("Open at version 6: %v", err)
			}
			created, err := old.CreateUsers(ctx, []storage.User{{UserName: "ann@example.com", Active: true, Title: "x", DisplayName: "x",
				Emails: []storage.MultiValue{{Value: "ann@example.com", Type: "x"}}, Enterprise: &storage.EnterpriseExt{Department: "x"}}})
			if err != nil {
				t.Fatalf("CreateUsers: %v", err)
			}
			for _, c := range columns {
				if c.table == "groups" || c.table == "group_members" {
					continue
				}
				q := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s IS NOT NULL", c.table, c.column, c.column)
				if err := old.db.Exec(q, decomposed).Error; err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			eq := func(a storage.Attr, v string) storage.Expr {
				return storage.Compare{Attr: a, Op: storage.OpEq, Value: v}
			}
			for _, f := range []storage.Expr{
				eq(storage.AttrTitle, composed),
				eq(storage.AttrDepartment, composed),
				eq(storage.AttrDisplayName, composed),
				storage.ValuePath{Attr: storage.AttrEmails, Filter: eq(storage.SubType, composed)},
			} {
				page, err := s.ListUsers(ctx, storage.Query{Filter: f, Limit: 10})
				if err != nil || len(page.Users) != 1 || page.Users[0].ID != created[0].ID {
					t.Errorf("%+v: total %d (%v), want ann", f, page.Total, err)
				}
			}
		})
	}
}
