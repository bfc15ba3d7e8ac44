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
