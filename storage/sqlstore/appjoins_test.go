package sqlstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// TestFreshUsersJoinTheirViews creates a batch of users in one write
// beside apps of every kind a new user can be in (none, a filter, a
// source, active users only) and one it cannot (scope groups): each user
// has a row for exactly the apps whose scope holds them, joined at the
// write's time with one bump, and of the two apps that push only the one
// that gained users waits for a push.
func TestFreshUsersJoinTheirViews(t *testing.T) {
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			clock := sourcetest.NewClock(start)
			s, err := Open(ctx, db.dsn(t), Options{Now: clock.Now})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			sales := storage.Compare{Attr: storage.AttrDepartment, Op: storage.OpEq, Value: "sales"}
			pushTo := &storage.PushConfig{URL: "https://app.example.com/scim/v2", Auth: storage.PushAuth{Type: storage.PushAuthBearer}}
			apps := []struct {
				app  storage.App
				want func(u storage.User) bool
			}{
				{storage.App{Name: "everyone", Scope: storage.AppScope{IncludeInactive: true}}, func(storage.User) bool { return true }},
				{storage.App{Name: "sales", Scope: storage.AppScope{FilterExpr: sales, IncludeInactive: true}},
					func(u storage.User) bool { return u.Enterprise.Department == "sales" }},
				{storage.App{Name: "active", Scope: storage.AppScope{}}, func(u storage.User) bool { return u.Active }},
				{storage.App{Name: "pushed sales", Scope: storage.AppScope{FilterExpr: sales}, Push: pushTo},
					func(u storage.User) bool { return u.Active && u.Enterprise.Department == "sales" }},
				{storage.App{Name: "pushed nobody", Scope: storage.AppScope{FilterExpr: storage.Compare{
					Attr: storage.AttrDepartment, Op: storage.OpEq, Value: "legal"}}, Push: pushTo},
					func(storage.User) bool { return false }},
				{storage.App{Name: "by group", Scope: storage.AppScope{Groups: []string{"Sales"}, IncludeInactive: true}},
					func(storage.User) bool { return false }},
			}
			for i := range apps {
				a, err := s.CreateApp(ctx, apps[i].app)
				if err != nil {
					t.Fatalf("CreateApp %s: %v", apps[i].app.Name, err)
				}
				apps[i].app = a
				if a.Push != nil { // start from nothing waiting
					run, err := s.PushRuns().CreateRun(ctx, storage.Run{SourceID: a.ID})
					if err != nil {
						t.Fatalf("CreateRun: %v", err)
					}
					run.Status, run.Started, run.Finished = storage.RunSucceeded, clock.Now(), clock.Now()
					if _, err := s.PushRuns().FinishRun(ctx, run, false, nil); err != nil {
						t.Fatalf("FinishRun: %v", err)
					}
				}
			}
			clock.Advance(time.Minute)
			var batch []storage.User
			for i := range 7 {
				batch = append(batch, storage.User{UserName: fmt.Sprintf("user%d", i), Active: i%3 != 0,
					Enterprise: &storage.EnterpriseExt{Department: []string{"sales", "ops"}[i%2]}})
			}
			made, err := s.CreateUsers(ctx, batch)
			if err != nil {
				t.Fatalf("CreateUsers: %v", err)
			}
			joined := start.Add(time.Minute).UnixMilli()
			for _, a := range apps {
				members, err := s.AppMembers(ctx, a.app.ID, time.Time{})
				if err != nil {
					t.Fatalf("AppMembers %s: %v", a.app.Name, err)
				}
				in := map[string]storage.AppMember{}
				for _, m := range members {
					in[m.UserID] = m
				}
				for i, u := range made {
					m, ok := in[u.ID]
					if want := a.want(batch[i]); ok != want {
						t.Errorf("%s: user%d in view %v, want %v", a.app.Name, i, ok, want)
						continue
					}
					if ok && (m.Joined.UnixMilli() != joined || m.Changed.UnixMilli() != joined || !m.Left.IsZero()) {
						t.Errorf("%s: user%d row %+v, want joined and changed at %d", a.app.Name, i, m, joined)
					}
					if ok {
						if r := mustMemberRow(t, s, a.app.ID, u.ID); r.Bumps != 1 {
							t.Errorf("%s: user%d bumps %d, want 1", a.app.Name, i, r.Bumps)
						}
					}
				}
				if a.app.Push == nil {
					continue
				}
				st, err := s.GetPushState(ctx, a.app.ID)
				if err != nil {
					t.Fatalf("GetPushState %s: %v", a.app.Name, err)
				}
				if waiting, want := !st.FirstChange.IsZero(), len(members) > 0; waiting != want {
					t.Errorf("%s: waiting for a push %v (first change %v), want %v", a.app.Name, waiting, st.FirstChange, want)
				}
			}
		})
	}
}
