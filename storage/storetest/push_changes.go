package storetest

import (
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// The checks of first_change: set by every write that changes a pushed
// view, and only by those; cleared by a push that saw the change.

func init() {
	pushTests = append(pushTests,
		clockTest{"FirstChangeUsers", testFirstChangeUsers},
		clockTest{"FirstChangeSync", testFirstChangeSync},
		clockTest{"FirstChangeGroupsOnlyScope", testFirstChangeGroupsOnlyScope},
		clockTest{"FirstChangeGroups", testFirstChangeGroups},
		clockTest{"FirstChangeDuringRun", testFirstChangeDuringRun},
		clockTest{"FirstChangeAppUpdates", testFirstChangeAppUpdates},
	)
}

func firstChange(t *testing.T, s storage.Store, appID string) time.Time {
	t.Helper()
	st, err := s.GetPushState(ctx(t), appID)
	if err != nil {
		t.Fatalf("GetPushState: %v", err)
	}
	return st.FirstChange
}

// pushRun runs a push of app from now to a minute later, finishing with
// status (dry when dry is set); the clock moves on a minute.
func pushRun(t *testing.T, s storage.Store, clock *testClock, appID string, status storage.RunStatus, dry bool) storage.Run {
	t.Helper()
	r, err := s.PushRuns().CreateRun(ctx(t), storage.Run{SourceID: appID, Status: storage.RunRunning, Started: clock.Now(), DryRun: dry})
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	clock.advance(time.Minute)
	r.Status, r.Finished = status, clock.Now()
	out, err := s.PushRuns().FinishRun(ctx(t), r, status == storage.RunSucceeded, nil)
	if err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	return out
}

// clearFirstChange pushes every app in apps successfully, so that none
// has a change waiting.
func clearFirstChange(t *testing.T, s storage.Store, clock *testClock, apps ...storage.App) {
	t.Helper()
	clock.advance(time.Second)
	for _, a := range apps {
		pushRun(t, s, clock, a.ID, storage.RunSucceeded, false)
		if got := firstChange(t, s, a.ID); !got.IsZero() {
			t.Fatalf("%s: first change %v after a successful push, want none", a.Name, got)
		}
	}
	clock.advance(time.Minute)
}

// firstChangeStep is one write and which apps it must mark.
type firstChangeStep struct {
	name  string
	write func(t *testing.T)
	marks []string // names of the apps whose first change it sets
}

// runFirstChangeSteps runs steps in order; before each every app's first
// change is cleared, after it exactly the apps in marks have one, at the
// time of the write.
func runFirstChangeSteps(t *testing.T, s storage.Store, clock *testClock, apps []storage.App, steps []firstChangeStep) {
	t.Helper()
	for _, st := range steps {
		clearFirstChange(t, s, clock, apps...)
		at := clock.Now()
		st.write(t)
		clock.advance(time.Minute) // a later write must not move it
		for _, a := range apps {
			want := time.Time{}
			for _, name := range st.marks {
				if name == a.Name {
					want = at
				}
			}
			if got := firstChange(t, s, a.ID); !got.Equal(want) {
				t.Errorf("%s: %s's first change = %v, want %v", st.name, a.Name, got, want)
			}
		}
	}
}

func testFirstChangeUsers(t *testing.T, s storage.Store, clock *testClock) {
	in, out := mustCreateUser(t, s, user("in")), mustCreateUser(t, s, user("out"))
	sales := mustCreateGroup(t, s, storage.Group{DisplayName: "Sales", Members: []storage.Member{userMember(in.ID)}})
	scoped := mustCreateApp(t, s, storage.App{Name: "scoped", Push: fullPush(), Groups: storage.GroupsNone,
		Scope: storage.AppScope{Groups: []string{"Sales"}}})
	if got := firstChange(t, s, scoped.ID); !got.Equal(viewEpoch) {
		t.Errorf("first change of a new pushing app = %v, want its creation %v", got, viewEpoch)
	}
	filtered := mustCreateApp(t, s, storage.App{Name: "filtered", Push: fullPush(), Groups: storage.GroupsNone,
		Scope: storage.AppScope{Filter: `title eq "x"`, FilterExpr: eq(storage.AttrTitle, "x")}})
	pulled := mustCreateApp(t, s, storage.App{Name: "pulled"}) // no push: never marked
	apps := []storage.App{scoped, filtered}
	var joiner storage.User
	runFirstChangeSteps(t, s, clock, apps, []firstChangeStep{
		{"user created outside every view", func(t *testing.T) { joiner = mustCreateUser(t, s, user("joiner")) }, nil},
		{"user outside every pushed view changed", func(t *testing.T) {
			mustUpdateUser(t, s, out.ID, func(u *storage.User) { u.DisplayName = "Out" })
		}, nil},
		{"user joins a scope group", func(t *testing.T) {
			mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Add: []storage.Member{userMember(joiner.ID)}})
		}, []string{"scoped"}},
		{"user in view changed", func(t *testing.T) {
			mustUpdateUser(t, s, in.ID, func(u *storage.User) { u.DisplayName = "In" })
		}, []string{"scoped"}},
		{"user joins by filter", func(t *testing.T) {
			mustUpdateUser(t, s, out.ID, func(u *storage.User) { u.Title = "x" })
		}, []string{"filtered"}},
		{"user created in a filter's view", func(t *testing.T) {
			u := user("new")
			u.Title = "x"
			mustCreateUser(t, s, u)
		}, []string{"filtered"}},
		{"user leaves by filter and joins by group", func(t *testing.T) {
			mustUpdateUser(t, s, out.ID, func(u *storage.User) { u.Title = "y" })
			mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Add: []storage.Member{userMember(out.ID)}})
		}, []string{"scoped", "filtered"}},
		{"user leaves a scope group", func(t *testing.T) {
			mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Remove: []string{in.ID}})
		}, []string{"scoped"}},
		{"user who left changed", func(t *testing.T) {
			mustUpdateUser(t, s, in.ID, func(u *storage.User) { u.DisplayName = "Gone" })
		}, nil},
		{"user in view deleted", func(t *testing.T) {
			if err := s.DeleteUser(ctx(t), joiner.ID, nil); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
		}, []string{"scoped"}},
		{"user outside every view deleted", func(t *testing.T) {
			if err := s.DeleteUser(ctx(t), mustCreateUser(t, s, user("temp")).ID, nil); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
		}, nil},
	})
	if st, _ := s.ListPushStates(ctx(t)); len(st) != 2 {
		t.Errorf("push states: %+v, want the two pushing apps' only", st)
	}
	if _, err := s.GetPushState(ctx(t), pulled.ID); err != nil {
		t.Errorf("GetPushState(app without push): %v", err)
	}
}

func testFirstChangeSync(t *testing.T, s storage.Store, clock *testClock) {
	users := createSynced(t, s, ownerA, "u1", "u2")
	team := groupWrite("Team")
	team.Group.Members = []storage.Member{userMember(users["u1"].ID)}
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Create: []storage.GroupWrite{team}})
	teamID := mustSyncedGroup(t, s, ownerA, team.Key).ID
	app := mustCreateApp(t, s, storage.App{Name: "team", Push: fullPush(), Groups: storage.GroupsNone,
		Scope: storage.AppScope{Groups: []string{"Team"}}})
	runFirstChangeSteps(t, s, clock, []storage.App{app}, []firstChangeStep{
		{"synced user outside the view updated", func(t *testing.T) {
			w := userWrite("u2")
			w.User.ID, w.User.Title, w.Hash = users["u2"].ID, "changed", "hash-2"
			mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})
		}, nil},
		{"synced user in view updated", func(t *testing.T) {
			w := userWrite("u1")
			w.User.ID, w.User.Title, w.Hash = users["u1"].ID, "changed", "hash-2"
			mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})
		}, []string{"team"}},
		{"synced membership joins a user", func(t *testing.T) {
			mustApplyGroups(t, s, ownerA, storage.GroupBatch{Update: []storage.GroupWrite{{Group: storage.Group{ID: teamID}, MembersOnly: true,
				Members: &storage.MemberChange{Add: []storage.Member{userMember(users["u2"].ID)}}}}})
		}, []string{"team"}},
		{"synced user deactivated", func(t *testing.T) {
			mustApplyUsers(t, s, ownerA, storage.UserBatch{Deactivate: []string{users["u2"].ID}})
		}, []string{"team"}},
		{"synced user deleted", func(t *testing.T) {
			mustApplyUsers(t, s, ownerA, storage.UserBatch{Delete: []string{users["u1"].ID}})
		}, []string{"team"}},
		{"synced user created outside the view", func(t *testing.T) {
			mustApplyUsers(t, s, ownerA, storage.UserBatch{Create: []storage.UserWrite{userWrite("u3")}})
		}, nil},
	})
}

func testFirstChangeGroups(t *testing.T, s storage.Store, clock *testClock) {
	u := mustCreateUser(t, s, user("u"))
	sales := mustCreateGroup(t, s, storage.Group{DisplayName: "Sales", Members: []storage.Member{userMember(u.ID)}})
	emea := mustCreateGroup(t, s, storage.Group{DisplayName: "EMEA"})
	other := mustCreateGroup(t, s, storage.Group{DisplayName: "Other"})
	emptyGroup := mustCreateGroup(t, s, storage.Group{DisplayName: "Empty"})
	mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Add: []storage.Member{groupMember(emea.ID)}})
	scoped := mustCreateApp(t, s, storage.App{Name: "scoped", Push: fullPush(), Scope: storage.AppScope{Groups: []string{"Sales"}}})
	everyone := mustCreateApp(t, s, storage.App{Name: "everyone", Push: fullPush()})
	none := mustCreateApp(t, s, storage.App{Name: "none", Push: fullPush(), Groups: storage.GroupsNone})
	apps := []storage.App{scoped, everyone, none}
	rename := func(id, name string) func(t *testing.T) {
		return func(t *testing.T) {
			if _, err := s.UpdateGroup(ctx(t), id, false, func(g *storage.Group) (storage.MemberChange, error) {
				g.DisplayName = name
				return storage.MemberChange{}, nil
			}); err != nil {
				t.Fatalf("UpdateGroup: %v", err)
			}
		}
	}
	runFirstChangeSteps(t, s, clock, apps, []firstChangeStep{
		{"group nested in scope renamed", rename(emea.ID, "EMEA-2"), []string{"scoped", "everyone"}},
		{"group outside the scope renamed", rename(other.ID, "Other-2"), []string{"everyone"}},
		{"group outside the scope gains a member", func(t *testing.T) {
			mustUpdateMembers(t, s, other.ID, storage.MemberChange{Add: []storage.Member{userMember(u.ID)}})
		}, []string{"everyone"}},
		{"group created", func(t *testing.T) { mustCreateGroup(t, s, storage.Group{DisplayName: "New"}) }, []string{"everyone"}},
		{"group in scope deleted", func(t *testing.T) {
			if err := s.DeleteGroup(ctx(t), emea.ID, nil); err != nil {
				t.Fatalf("DeleteGroup: %v", err)
			}
		}, []string{"scoped", "everyone"}},
		{"unchanged group write", rename(other.ID, "Other-2"), nil},
		{"group outside the scope renamed to another name outside", rename(other.ID, "Sales-Old"), []string{"everyone"}},
		{"scope group renamed away", rename(sales.ID, "Sales-Gone"), []string{"scoped", "everyone"}},
		{"empty group renamed into the scope's name", rename(emptyGroup.ID, "Sales"), []string{"scoped", "everyone"}},
	})
}

func testFirstChangeDuringRun(t *testing.T, s storage.Store, clock *testClock) {
	app := mustCreateApp(t, s, storage.App{Name: "app", Push: fullPush()})
	created := clock.Now()
	clock.advance(time.Minute)
	pushRun(t, s, clock, app.ID, storage.RunFailed, false)
	if got := firstChange(t, s, app.ID); !got.Equal(created) {
		t.Errorf("after a failed push: first change %v, want %v", got, created)
	}
	pushRun(t, s, clock, app.ID, storage.RunSucceeded, true)
	if got := firstChange(t, s, app.ID); !got.Equal(created) {
		t.Errorf("after a dry run: first change %v, want %v", got, created)
	}
	// A change while a push runs stays waiting after it.
	started := clock.Now()
	r, err := s.PushRuns().CreateRun(ctx(t), storage.Run{SourceID: app.ID, Status: storage.RunRunning, Started: started})
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	during := clock.advance(time.Second)
	mustCreateUser(t, s, user("during"))
	clock.advance(time.Minute)
	r.Status, r.Finished = storage.RunSucceeded, clock.Now()
	if _, err := s.PushRuns().FinishRun(ctx(t), r, true, nil); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	if got := firstChange(t, s, app.ID); !got.Equal(during) {
		t.Errorf("after a push that ran during a change: first change %v, want %v", got, during)
	}
	pushRun(t, s, clock, app.ID, storage.RunSucceeded, false)
	if got := firstChange(t, s, app.ID); !got.IsZero() {
		t.Errorf("after the next push: first change %v, want none", got)
	}
}

func testFirstChangeAppUpdates(t *testing.T, s storage.Store, clock *testClock) {
	mustCreateUser(t, s, user("u"))
	app := mustCreateApp(t, s, storage.App{Name: "app"})
	update := func(fn func(*storage.App)) func(t *testing.T) {
		return func(t *testing.T) {
			if _, err := s.UpdateApp(ctx(t), app.ID, func(a *storage.App) error { fn(a); return nil }); err != nil {
				t.Fatalf("UpdateApp: %v", err)
			}
		}
	}
	update(func(a *storage.App) { a.Push = fullPush() })(t)
	if got := firstChange(t, s, app.ID); !got.Equal(clock.Now()) {
		t.Errorf("push added: first change %v, want %v", got, clock.Now())
	}
	app.Name = "app"
	runFirstChangeSteps(t, s, clock, []storage.App{app}, []firstChangeStep{
		{"push URL changed", update(func(a *storage.App) { a.Push.URL = "https://other.example.com/scim" }), nil},
		{"push mapping changed", update(func(a *storage.App) { a.Push.Mapping.User = map[string]string{"title": "{title}"} }), []string{"app"}},
		{"scope changed", update(func(a *storage.App) { a.Scope.IncludeInactive = true }), []string{"app"}},
		{"attributes changed", update(func(a *storage.App) { a.Attributes = []string{"userName"} }), []string{"app"}},
		{"description changed", update(func(a *storage.App) { a.Description = "d" }), nil},
	})
}

// testFirstChangeGroupsOnlyScope: an app whose scope reads no user
// attribute (scope groups, inactive users included) still sees a change
// of a user in view.
func testFirstChangeGroupsOnlyScope(t *testing.T, s storage.Store, clock *testClock) {
	in, out := mustCreateUser(t, s, user("in")), mustCreateUser(t, s, user("out"))
	mustCreateGroup(t, s, storage.Group{DisplayName: "Sales", Members: []storage.Member{userMember(in.ID)}})
	app := mustCreateApp(t, s, storage.App{Name: "app", Push: fullPush(), Groups: storage.GroupsNone,
		Scope: storage.AppScope{Groups: []string{"Sales"}, IncludeInactive: true}})
	runFirstChangeSteps(t, s, clock, []storage.App{app}, []firstChangeStep{
		{"user outside changed", func(t *testing.T) {
			mustUpdateUser(t, s, out.ID, func(u *storage.User) { u.Title = "t" })
		}, nil},
		{"user in view changed", func(t *testing.T) {
			mustUpdateUser(t, s, in.ID, func(u *storage.User) { u.Title = "t" })
		}, []string{"app"}},
		{"user in view deactivated", func(t *testing.T) {
			mustUpdateUser(t, s, in.ID, func(u *storage.User) { u.Active = false })
		}, []string{"app"}},
	})
}
