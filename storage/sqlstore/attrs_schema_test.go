package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestAttributeTableMatchesSchema walks storage's attribute tables against
// the schema the migrations build in SQLite: every attribute's column
// exists, is NOT NULL exactly when the table says the attribute is
// required, and leads an index exactly when the table says it is indexed;
// the columns of every multi-valued attribute's child table exist too. An
// entry added without its migration fails here.
func TestAttributeTableMatchesSchema(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "schema.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	type columnInfo struct{ notNull, indexed bool }
	columns := func(table string) map[string]columnInfo {
		out := map[string]columnInfo{}
		var cols []struct {
			Name    string
			NotNull bool `gorm:"column:notnull"`
			PK      int  `gorm:"column:pk"`
		}
		if err := s.db.Raw("SELECT name, \"notnull\", pk FROM pragma_table_info(?)", table).Scan(&cols).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			out[c.Name] = columnInfo{notNull: c.NotNull || c.PK > 0}
		}
		// The leading column of each index (an index serves a filter or a
		// sort on its first column).
		var leading []string
		if err := s.db.Raw(`SELECT ii.name FROM pragma_index_list(?) il, pragma_index_info(il.name) ii WHERE ii.seqno = 0`,
			table).Scan(&leading).Error; err != nil {
			t.Fatal(err)
		}
		for _, name := range leading {
			c := out[name]
			c.indexed = true
			out[name] = c
		}
		return out
	}
	type entry struct {
		attr              storage.Attr
		column            string
		required, indexed bool
		child             *storage.ChildTable
	}
	check := func(t *testing.T, table string, entries []entry) {
		cols := columns(table)
		if len(cols) == 0 {
			t.Fatalf("no table %s", table)
		}
		for _, e := range entries {
			if e.child != nil {
				child := columns(e.child.Name)
				for _, sub := range e.child.Subs {
					c, ok := child[sub.Column]
					if !ok {
						t.Errorf("%s.%s: no column %s.%s", e.attr, sub.Attr, e.child.Name, sub.Column)
					} else if c.notNull != sub.Required {
						t.Errorf("%s.%s: column %s.%s NOT NULL is %v, the table says required %v", e.attr, sub.Attr, e.child.Name, sub.Column, c.notNull, sub.Required)
					}
				}
				continue
			}
			c, ok := cols[e.column]
			switch {
			case !ok:
				t.Errorf("%s: no column %s.%s", e.attr, table, e.column)
			case c.notNull != e.required:
				t.Errorf("%s: column %s.%s NOT NULL is %v, the table says required %v", e.attr, table, e.column, c.notNull, e.required)
			case c.indexed != e.indexed:
				t.Errorf("%s: column %s.%s leads an index: %v, the table says indexed %v", e.attr, table, e.column, c.indexed, e.indexed)
			}
		}
	}
	var users, groups []entry
	for _, a := range storage.UserAttrs() {
		users = append(users, entry{a.Attr, a.Column, a.Required, a.Indexed, a.Values})
	}
	for _, a := range storage.GroupAttrs() {
		groups = append(groups, entry{a.Attr, a.Column, a.Required, a.Indexed, a.Values})
	}
	t.Run("users", func(t *testing.T) { check(t, "users", users) })
	t.Run("groups", func(t *testing.T) { check(t, "groups", groups) })
}
