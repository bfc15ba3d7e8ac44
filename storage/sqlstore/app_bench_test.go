package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// benchGroups is how many department groups the app benchmarks sync; each
// holds benchUsers/benchGroups users.
const benchGroups = 50

// createBenchApps creates n apps of mixed kinds, as an installation with
// many downstream apps has: scoped by groups (some nested under a parent
// that a later sync fills), by filters, by sources, and combinations, some
// excluding inactive users.
func createBenchApps(b *testing.B, s *sqlstore.Store, n int) {
	b.Helper()
	for i := range n {
		a := storage.App{Name: fmt.Sprintf("app-%02d", i), LeaveGraceDays: 7, Scope: storage.AppScope{IncludeInactive: i%3 != 0}}
		switch i % 4 {
		case 0: // two department groups by name
			a.Scope.Groups = []string{fmt.Sprintf("Dept %d", i%benchGroups), fmt.Sprintf("Dept %d", (i+7)%benchGroups)}
		case 1: // a department by filter
			a.Scope.FilterExpr = storage.Compare{Attr: storage.AttrDepartment, Op: storage.OpEq, Value: fmt.Sprintf("Dept %d", i%benchGroups)}
		case 2: // one source
			a.Scope.Owners = []string{"source:bench"}
			if i%8 == 6 {
				a.Scope.Owners = []string{"source:other"}
			}
		case 3: // a group and a filter
			a.Scope.Groups = []string{fmt.Sprintf("Dept %d", i%benchGroups)}
			a.Scope.FilterExpr = storage.Compare{Attr: storage.AttrTitle, Op: storage.OpSw, Value: "eng"}
		}
		if _, err := s.CreateApp(b.Context(), a); err != nil {
			b.Fatalf("CreateApp: %v", err)
		}
	}
}

// BenchmarkSyncWithApps runs a first sync of 100,000 users in 500-user
// batches and then of 50 department groups holding all of them, with no
// apps and with 20 mixed apps whose views the writes maintain.
//
//	go test -run '^$' -bench SyncWithApps -benchtime 1x ./storage/sqlstore
func BenchmarkSyncWithApps(b *testing.B) {
	for _, apps := range []int{0, 20} {
		b.Run(fmt.Sprintf("apps=%d", apps), func(b *testing.B) { benchmarkSyncWithApps(b, apps) })
	}
}

func benchmarkSyncWithApps(b *testing.B, apps int) {
	var usersTime, groupsTime time.Duration
	for b.Loop() {
		b.StopTimer()
		s := openBenchStore(b)
		createBenchApps(b, s, apps)
		b.StartTimer()
		began := time.Now()
		ids := seedSyncedUsers(b, s, benchUsers)
		usersTime += time.Since(began)
		began = time.Now()
		for start := 0; start < benchGroups; start += 10 {
			var batch storage.GroupBatch
			for g := start; g < start+10; g++ {
				w := storage.GroupWrite{Key: fmt.Sprint("dept-", g), Hash: "h",
					Group: storage.Group{DisplayName: fmt.Sprintf("Dept %d", g)}}
				for i := g; i < len(ids); i += benchGroups {
					w.Group.Members = append(w.Group.Members, storage.Member{Value: ids[i], Type: storage.MemberUser})
				}
				batch.Create = append(batch.Create, w)
			}
			if err := s.ApplyGroups(b.Context(), "source:bench", batch); err != nil {
				b.Fatalf("ApplyGroups: %v", err)
			}
		}
		groupsTime += time.Since(began)
		if apps > 0 { // the views were maintained: app-00 holds two departments
			b.StopTimer()
			a, err := s.GetApp(b.Context(), "app-00")
			if err != nil {
				b.Fatalf("GetApp: %v", err)
			}
			if c, err := s.AppCounts(b.Context(), a.ID); err != nil || c.Users != 2*benchUsers/benchGroups {
				b.Fatalf("AppCounts(app-00) = %+v, %v; want %d users", c, err, 2*benchUsers/benchGroups)
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N*benchUsers)/usersTime.Seconds(), "users/s")
	b.ReportMetric(groupsTime.Seconds()/float64(b.N), "groups-s")
}

// BenchmarkUpdateUserWithApps is one SCIM UpdateUser (a title change) on a
// directory of 20,000 users in 50 groups, with no apps, with 20, and with
// 20 that all push (each write then also records the pushed views it
// changed).
//
//	go test -run '^$' -bench UpdateUserWithApps ./storage/sqlstore
func BenchmarkUpdateUserWithApps(b *testing.B) {
	for _, bc := range []struct {
		apps int
		push bool
	}{{0, false}, {20, false}, {20, true}} {
		apps := bc.apps
		b.Run(fmt.Sprintf("apps=%d/push=%v", apps, bc.push), func(b *testing.B) {
			const users = 20_000
			s := openBenchStore(b)
			ids := seedSyncedUsers(b, s, users)
			for g := range benchGroups {
				var members []storage.Member
				for i := g; i < users; i += benchGroups {
					members = append(members, storage.Member{Value: ids[i], Type: storage.MemberUser})
				}
				if _, err := s.CreateGroup(b.Context(), storage.Group{DisplayName: fmt.Sprintf("Dept %d", g), Members: members}); err != nil {
					b.Fatalf("CreateGroup: %v", err)
				}
			}
			createBenchApps(b, s, apps)
			if bc.push {
				pushAll(b, s)
			}
			round := 0
			for b.Loop() {
				round++
				id := ids[(round*7919)%users]
				if _, err := s.UpdateUser(b.Context(), id, func(u *storage.User) error {
					u.Title = fmt.Sprint("Engineer ", round%3)
					return nil
				}); err != nil {
					b.Fatalf("UpdateUser: %v", err)
				}
			}
		})
	}
}

// pushAll gives every app a push.
func pushAll(b *testing.B, s *sqlstore.Store) {
	b.Helper()
	apps, err := s.ListApps(b.Context())
	if err != nil {
		b.Fatalf("ListApps: %v", err)
	}
	for _, a := range apps {
		if _, err := s.UpdateApp(b.Context(), a.ID, func(a *storage.App) error {
			a.Push = &storage.PushConfig{URL: "https://app.example.com/scim/v2", Auth: storage.PushAuth{Type: storage.PushAuthBearer}}
			return nil
		}); err != nil {
			b.Fatalf("UpdateApp: %v", err)
		}
	}
}
