package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// BenchmarkViewList compares, in one run, the list path through an app's
// view (a fifth of the directory, scoped by one group) with the unscoped
// one: a department page of 100 users and a userName lookup. The issue's
// target is a view at 80% of the unscoped rate or better.
//
//	go test -run '^$' -bench ViewList -benchtime 2000x ./storage/sqlstore
func BenchmarkViewList(b *testing.B) {
	const users = 20_000
	s := openBenchStore(b)
	ids := seedSyncedUsers(b, s, users)
	var members []storage.Member
	for i, id := range ids {
		if (i/7)%5 == 0 {
			members = append(members, storage.Member{Value: id, Type: storage.MemberUser})
		}
	}
	if _, err := s.CreateGroup(b.Context(), storage.Group{DisplayName: "in view", Members: members}); err != nil {
		b.Fatal(err)
	}
	app, err := s.CreateApp(b.Context(), storage.App{Name: "bench", Scope: storage.AppScope{Groups: []string{"in view"}, IncludeInactive: true}})
	if err != nil {
		b.Fatal(err)
	}
	dept := storage.Compare{Attr: storage.AttrDepartment, Op: storage.OpEq, Value: "Dept 7"}
	// user000035 is in view: (35/7)%5 == 0.
	lookup := storage.Compare{Attr: storage.AttrUserName, Op: storage.OpEq, Value: fmt.Sprintf("user%06d@example.com", 35)}
	for _, c := range []struct {
		name  string
		q     storage.Query
		wantN int
	}{
		{"department-page/unscoped", storage.Query{Filter: dept, Limit: 100}, 100},
		{"department-page/view", storage.Query{Filter: dept, Limit: 100, View: app.ID}, 50},
		{"userName-lookup/unscoped", storage.Query{Filter: lookup, Limit: 1}, 1},
		{"userName-lookup/view", storage.Query{Filter: lookup, Limit: 1, View: app.ID}, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.ListUsers(b.Context(), c.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Users) < c.wantN {
					b.Fatalf("%d users, want at least %d", len(page.Users), c.wantN)
				}
			}
		})
	}
}

// BenchmarkViewGroups lists the groups of views over 20,000 users in 50
// groups of 400 (a fifth of them in view) in each groups mode, with
// members, against the unscoped list in the same run.
//
//	go test -run '^$' -bench ViewGroups -benchtime 200x ./storage/sqlstore
func BenchmarkViewGroups(b *testing.B) {
	const users, groups = 20_000, 50
	s := openBenchStore(b)
	ids := seedSyncedUsers(b, s, users)
	for g := range groups {
		var members []storage.Member
		for i := g; i < users; i += groups {
			members = append(members, storage.Member{Value: ids[i], Type: storage.MemberUser})
		}
		if _, err := s.CreateGroup(b.Context(), storage.Group{DisplayName: fmt.Sprint("group ", g), Members: members}); err != nil {
			b.Fatal(err)
		}
	}
	inView := storage.AnyOf{}
	for cc := range 4 { // a fifth of the users: cost centres CC0..CC3 of 20
		inView.Xs = append(inView.Xs, storage.Compare{Attr: storage.AttrCostCenter, Op: storage.OpEq, Value: fmt.Sprint("CC", cc)})
	}
	for _, c := range []struct {
		name string
		app  *storage.App
	}{
		{"unscoped", nil},
		{"scope-every-group", &storage.App{Groups: storage.GroupsScope}},
		{"all", &storage.App{Groups: storage.GroupsAll}},
		{"all-flattened", &storage.App{Groups: storage.GroupsAll, FlattenGroups: true}},
	} {
		q := storage.Query{Limit: 100}
		if c.app != nil {
			c.app.Name, c.app.Scope = c.name, storage.AppScope{FilterExpr: inView, IncludeInactive: true}
			app, err := s.CreateApp(b.Context(), *c.app)
			if err != nil {
				b.Fatal(err)
			}
			q.View = app.ID
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.ListGroups(b.Context(), q, true)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Groups) == 0 {
					b.Fatal("no groups")
				}
			}
		})
	}
}
