package sqlstore

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestViewPlansUseIndexes checks with EXPLAIN QUERY PLAN that SQLite
// flattens a view's derived users table: an indexed filter on a view runs
// on the users index and probes app_users by its primary key, with no
// full scan of either table and no sort; counting the whole view reads
// only app_users' index by app.
func TestViewPlansUseIndexes(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	users := make([]storage.User, 500)
	for i := range users {
		users[i] = storage.User{UserName: fmt.Sprintf("user%03d", i), Active: true, Title: []string{"in", "out", "out", "out", "out"}[i%5],
			Enterprise: &storage.EnterpriseExt{Department: fmt.Sprintf("dept%d", i%10)}}
	}
	if _, err := s.CreateUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	filtered, err := s.CreateApp(ctx, storage.App{Name: "plan", Scope: storage.AppScope{
		FilterExpr: storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: "in"}, IncludeInactive: true}})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := s.CreateApp(ctx, storage.App{Name: "whole"})
	if err != nil {
		t.Fatal(err)
	}
	// A whole view (appwhole.go) reads users LEFT JOIN app_users, named
	// users inside; its whole count reads every user, as it holds them.
	const key = "SEARCH av USING PRIMARY KEY (user_id=? AND app_id=?)"
	for _, c := range []struct {
		what  string
		app   string
		q     storage.Query
		index string // the users index the page must use
		count string // and the count
		// sorts says a sort may be planned (none may).
		sorts bool
	}{
		{"department page", filtered.ID, storage.Query{Filter: storage.Compare{Attr: storage.AttrDepartment, Op: storage.OpEq, Value: "dept3"}},
			"SEARCH u USING INDEX users_department", "SEARCH u USING INDEX users_department", false},
		{"userName lookup", filtered.ID, storage.Query{Filter: storage.Compare{Attr: storage.AttrUserName, Op: storage.OpEq, Value: "user005"}},
			"SEARCH u USING INDEX users_user_name", "SEARCH u USING INDEX users_user_name", false},
		{"id lookup", filtered.ID, storage.Query{Filter: storage.Compare{Attr: storage.AttrID, Op: storage.OpEq, Value: "x"}},
			"SEARCH u USING INDEX sqlite_autoindex_users_1", "SEARCH u USING COVERING INDEX sqlite_autoindex_users_1", false},
		{"sorted by userName", filtered.ID, storage.Query{SortBy: storage.AttrUserName}, "SCAN u USING INDEX users_user_name", "SEARCH av USING COVERING INDEX app_users_app (app_id=?)", false},
		{"creation order", filtered.ID, storage.Query{}, "SCAN u\n", "SEARCH av USING COVERING INDEX app_users_app (app_id=?)", false},
		{"whole: department page", whole.ID, storage.Query{Filter: storage.Compare{Attr: storage.AttrDepartment, Op: storage.OpEq, Value: "dept3"}},
			"SEARCH users USING INDEX users_department", "SEARCH users USING INDEX users_department", false},
		{"whole: userName lookup", whole.ID, storage.Query{Filter: storage.Compare{Attr: storage.AttrUserName, Op: storage.OpEq, Value: "user005"}},
			"SEARCH users USING INDEX users_user_name", "SEARCH users USING INDEX users_user_name", false},
		{"whole: sorted by userName", whole.ID, storage.Query{SortBy: storage.AttrUserName}, "SCAN users USING INDEX users_user_name", "SCAN users", false},
		{"whole: creation order", whole.ID, storage.Query{}, "SCAN users\n", "SCAN users", false},
	} {
		view, err := s.newUserView(ctx, c.app)
		if err != nil {
			t.Fatal(err)
		}
		c.q.Limit = 100
		p, err := s.pageOf(usersTable, c.q)
		if err != nil {
			t.Fatal(err)
		}
		view.apply(&p)
		runs, _, err := p.order.keysetRuns(p.q)
		if err != nil {
			t.Fatal(err)
		}
		page := "SELECT " + p.order.seq + ", " + p.order.keyExpr() + ", " + p.columns + " FROM " + p.table +
			" WHERE " + p.where + p.orderBy(runs[0].order) + " LIMIT 101"
		table := p.table
		if p.where == "1=1" {
			table = p.grace.whole
		}
		count := "SELECT COUNT(*), MIN(users.left_at) FROM " + table + " WHERE " + p.where
		for _, st := range []struct{ stmt, want string }{{page, c.index}, {count, c.count}} {
			plan := explain(t, s, st.stmt, p.allArgs())
			bad := !strings.Contains(plan, st.want) || (!c.sorts && strings.Contains(plan, "TEMP B-TREE"))
			if strings.Contains(st.stmt, "FROM users u CROSS JOIN") || strings.Contains(st.stmt, "LEFT JOIN app_users av") {
				// app_users is clustered on its key (WITHOUT ROWID),
				// (user_id, app_id) since migration 11.
				bad = bad || !strings.Contains(plan, key)
			}
			if bad {
				t.Errorf("%s: plan lacks %q (or sorts, or does not probe app_users by key):\n%s\n%s", c.what, st.want, st.stmt, plan)
			}
		}
	}
}

// explain returns SQLite's query plan, one step a line.
func explain(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	rows, err := s.sqlDB.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}
