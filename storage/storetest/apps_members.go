package storetest

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// The maintained view membership, observed through AppMembers after each
// kind of write.
var appMemberTests = []subtest{
	{"NestedScopeGroups", testAppNestedScope},
	{"ScopeGroupByNameCreatedLater", testAppScopeByNameLater},
	{"ScopeCycle", testAppScopeCycle},
	{"FilterScope", testAppFilterScope},
	{"OwnersScope", testAppOwnersScope},
	{"ExcludeInactive", testAppExcludeInactive},
	{"UpdateRecomputes", testAppUpdateRecomputes},
	{"SyncWrites", testAppSyncWrites},
	{"DeleteUserAndGroup", testAppDeleteUserAndGroup},
	{"Counts", testAppCounts},
	{"ChangedAfter", testAppChangedAfter},
}

// view is the state of an app's membership: in view, and left (within
// grace), by userName.
type view struct{ in, left []string }

// appView reads an app's membership and names its users.
func appView(t *testing.T, s storage.Store, appID string) view {
	t.Helper()
	ms, err := s.AppMembers(ctx(t), appID, time.Time{})
	if err != nil {
		t.Fatalf("AppMembers: %v", err)
	}
	var v view
	for _, m := range ms {
		// Through the view: a user deleted outright is there, departed.
		page, err := s.ListUsers(ctx(t), storage.Query{View: appID, Limit: 1,
			Filter: storage.Compare{Attr: storage.AttrID, Op: storage.OpEq, Value: m.UserID}})
		if err != nil || len(page.Users) != 1 {
			t.Fatalf("AppMembers names user %s: %+v, %v", m.UserID, page, err)
		}
		u, err := page.Users[0].Decode()
		if err != nil {
			t.Fatal(err)
		}
		if m.Joined.IsZero() || m.Changed.Before(m.Joined) {
			t.Errorf("member %s: joined %v, changed %v", u.UserName, m.Joined, m.Changed)
		}
		if m.Left.IsZero() {
			v.in = append(v.in, u.UserName)
		} else {
			if !m.Changed.Equal(m.Left) {
				t.Errorf("member %s: left %v but changed %v", u.UserName, m.Left, m.Changed)
			}
			v.left = append(v.left, u.UserName)
		}
	}
	sort.Strings(v.in)
	sort.Strings(v.left)
	return v
}

func checkView(t *testing.T, what string, s storage.Store, appID string, in, left []string) {
	t.Helper()
	got := appView(t, s, appID)
	sort.Strings(in)
	sort.Strings(left)
	if !slices.Equal(got.in, in) || !slices.Equal(got.left, left) {
		t.Errorf("%s: in view %v, left %v; want in %v, left %v", what, got.in, got.left, in, left)
	}
}

func userMember(id string) storage.Member { return storage.Member{Value: id, Type: storage.MemberUser} }
func groupMember(id string) storage.Member {
	return storage.Member{Value: id, Type: storage.MemberGroup}
}

func mustUpdateMembers(t *testing.T, s storage.Store, groupID string, c storage.MemberChange) {
	t.Helper()
	if _, err := s.UpdateGroup(ctx(t), groupID, false, func(*storage.Group) (storage.MemberChange, error) { return c, nil }); err != nil {
		t.Fatalf("UpdateGroup(%s): %v", groupID, err)
	}
}

func mustUpdateUser(t *testing.T, s storage.Store, id string, fn func(*storage.User)) {
	t.Helper()
	if _, err := s.UpdateUser(ctx(t), id, func(u *storage.User) error { fn(u); return nil }); err != nil {
		t.Fatalf("UpdateUser(%s): %v", id, err)
	}
}

const week = 7

func testAppNestedScope(t *testing.T, s storage.Store) {
	a, b, c := mustCreateUser(t, s, user("a")), mustCreateUser(t, s, user("b")), mustCreateUser(t, s, user("c"))
	sales := mustCreateGroup(t, s, storage.Group{DisplayName: "GG-Sales", Members: []storage.Member{userMember(a.ID)}})
	emea := mustCreateGroup(t, s, storage.Group{DisplayName: "EMEA", Members: []storage.Member{userMember(b.ID)}})
	deep := mustCreateGroup(t, s, storage.Group{DisplayName: "Deep"})
	app := mustCreateApp(t, s, storage.App{Name: "crm", LeaveGraceDays: week,
		Scope: storage.AppScope{Groups: []string{"gg-sales"}, IncludeInactive: true}})
	checkView(t, "scope by name", s, app.ID, []string{"a"}, nil)

	mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Add: []storage.Member{groupMember(emea.ID)}})
	checkView(t, "nested group added", s, app.ID, []string{"a", "b"}, nil)
	mustUpdateMembers(t, s, emea.ID, storage.MemberChange{Add: []storage.Member{groupMember(deep.ID)}})
	mustUpdateMembers(t, s, deep.ID, storage.MemberChange{Add: []storage.Member{userMember(c.ID)}})
	checkView(t, "user added two levels down", s, app.ID, []string{"a", "b", "c"}, nil)

	mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Remove: []string{emea.ID}})
	checkView(t, "nested group removed", s, app.ID, []string{"a"}, []string{"b", "c"})
	mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Add: []storage.Member{groupMember(deep.ID)}})
	checkView(t, "deep group nested directly", s, app.ID, []string{"a", "c"}, []string{"b"})
	mustUpdateMembers(t, s, sales.ID, storage.MemberChange{RemoveAll: true})
	checkView(t, "every member removed", s, app.ID, nil, []string{"a", "b", "c"})
}

func testAppScopeByNameLater(t *testing.T, s storage.Store) {
	u := mustCreateUser(t, s, user("u"))
	app := mustCreateApp(t, s, storage.App{Name: "later", LeaveGraceDays: week,
		Scope: storage.AppScope{Groups: []string{"Later"}, IncludeInactive: true}})
	checkView(t, "scope group missing", s, app.ID, nil, nil)
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "LATER", Members: []storage.Member{userMember(u.ID)}})
	checkView(t, "scope group created", s, app.ID, []string{"u"}, nil)
	if _, err := s.UpdateGroup(ctx(t), g.ID, false, func(g *storage.Group) (storage.MemberChange, error) {
		g.DisplayName = "Other"
		return storage.MemberChange{}, nil
	}); err != nil {
		t.Fatalf("rename: %v", err)
	}
	checkView(t, "scope group renamed away", s, app.ID, nil, []string{"u"})
	if _, err := s.UpdateGroup(ctx(t), g.ID, false, func(g *storage.Group) (storage.MemberChange, error) {
		g.DisplayName = "Later"
		return storage.MemberChange{}, nil
	}); err != nil {
		t.Fatalf("rename back: %v", err)
	}
	checkView(t, "renamed back", s, app.ID, []string{"u"}, nil)
	if err := s.DeleteGroup(ctx(t), g.ID, nil); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	checkView(t, "scope group deleted", s, app.ID, nil, []string{"u"})
}

func testAppScopeCycle(t *testing.T, s storage.Store) {
	a, b := mustCreateUser(t, s, user("a")), mustCreateUser(t, s, user("b"))
	g1 := mustCreateGroup(t, s, storage.Group{DisplayName: "g1", Members: []storage.Member{userMember(a.ID)}})
	g2 := mustCreateGroup(t, s, storage.Group{DisplayName: "g2", Members: []storage.Member{userMember(b.ID), groupMember(g1.ID)}})
	mustUpdateMembers(t, s, g1.ID, storage.MemberChange{Add: []storage.Member{groupMember(g2.ID)}})
	app := mustCreateApp(t, s, storage.App{Name: "cyc", LeaveGraceDays: week,
		Scope: storage.AppScope{Groups: []string{g1.ID}, IncludeInactive: true}})
	checkView(t, "cycle g1 <-> g2", s, app.ID, []string{"a", "b"}, nil)
	c := mustCreateUser(t, s, user("c"))
	mustUpdateMembers(t, s, g2.ID, storage.MemberChange{Add: []storage.Member{userMember(c.ID)}})
	checkView(t, "added inside the cycle", s, app.ID, []string{"a", "b", "c"}, nil)
	mustUpdateMembers(t, s, g1.ID, storage.MemberChange{Remove: []string{g2.ID}})
	checkView(t, "cycle broken", s, app.ID, []string{"a"}, []string{"b", "c"})
}

func titled(name, title string) storage.User {
	u := user(name)
	u.Title = title
	return u
}

func testAppFilterScope(t *testing.T, s storage.Store) {
	x := mustCreateUser(t, s, titled("x", "Account Executive"))
	y := mustCreateUser(t, s, titled("y", "Engineer"))
	app := mustCreateApp(t, s, storage.App{Name: "f", LeaveGraceDays: week, Scope: storage.AppScope{
		Filter:          `title sw "account"`,
		FilterExpr:      storage.Compare{Attr: storage.AttrTitle, Op: storage.OpSw, Value: "account"},
		IncludeInactive: true}})
	checkView(t, "created", s, app.ID, []string{"x"}, nil)
	mustUpdateUser(t, s, y.ID, func(u *storage.User) { u.Title = "Account Manager" })
	checkView(t, "title changed in", s, app.ID, []string{"x", "y"}, nil)
	mustUpdateUser(t, s, x.ID, func(u *storage.User) { u.Title = "Engineer" })
	checkView(t, "title changed out", s, app.ID, []string{"y"}, []string{"x"})
	mustUpdateUser(t, s, x.ID, func(u *storage.User) { u.Title = "Accountant" })
	checkView(t, "rejoined", s, app.ID, []string{"x", "y"}, nil)
	mustCreateUser(t, s, titled("z", "account lead"))
	checkView(t, "new matching user", s, app.ID, []string{"x", "y", "z"}, nil)
}

func testAppOwnersScope(t *testing.T, s storage.Store) {
	createSynced(t, s, ownerA, "a1")
	createSynced(t, s, ownerB, "b1")
	app := mustCreateApp(t, s, storage.App{Name: "o", LeaveGraceDays: week,
		Scope: storage.AppScope{Sources: []string{"a"}, Owners: []string{ownerA}, IncludeInactive: true}})
	checkView(t, "owner a only", s, app.ID, []string{"a1"}, nil)
	createSynced(t, s, ownerA, "a2")
	createSynced(t, s, ownerB, "b2")
	checkView(t, "after more syncs", s, app.ID, []string{"a1", "a2"}, nil)
}

func testAppExcludeInactive(t *testing.T, s storage.Store) {
	on := mustCreateUser(t, s, user("on"))
	off := user("off")
	off.Active = false
	mustCreateUser(t, s, off)
	app := mustCreateApp(t, s, storage.App{Name: "act", LeaveGraceDays: week})
	checkView(t, "active only", s, app.ID, []string{"on"}, nil)
	mustUpdateUser(t, s, on.ID, func(u *storage.User) { u.Active = false })
	checkView(t, "deactivated", s, app.ID, nil, []string{"on"})
	mustUpdateUser(t, s, on.ID, func(u *storage.User) { u.Active = true })
	checkView(t, "reactivated", s, app.ID, []string{"on"}, nil)

	synced := createSynced(t, s, ownerA, "s1")
	checkView(t, "synced user", s, app.ID, []string{"on", "s1"}, nil)
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Deactivate: []string{synced["s1"].ID}})
	checkView(t, "sync deactivated", s, app.ID, []string{"on"}, []string{"s1"})
	w := userWrite("s1")
	w.User.ID = synced["s1"].ID
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})
	checkView(t, "sync reactivated", s, app.ID, []string{"on", "s1"}, nil)
}

func testAppUpdateRecomputes(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, titled("a", "A"))
	mustCreateUser(t, s, titled("b", "B"))
	eq := func(v string) storage.Expr {
		return storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: v}
	}
	app := mustCreateApp(t, s, storage.App{Name: "u", LeaveGraceDays: week,
		Scope: storage.AppScope{FilterExpr: eq("a"), IncludeInactive: true}})
	checkView(t, "title a", s, app.ID, []string{"a"}, nil)
	before := time.Now().Add(-time.Millisecond)
	if _, err := s.UpdateApp(ctx(t), app.ID, func(a *storage.App) error { a.Scope.FilterExpr = eq("b"); return nil }); err != nil {
		t.Fatalf("UpdateApp: %v", err)
	}
	after := time.Now().Add(time.Millisecond)
	checkView(t, "title b", s, app.ID, []string{"b"}, []string{"a"})
	ms, _ := s.AppMembers(ctx(t), app.ID, time.Time{})
	for _, m := range ms {
		if m.Changed.Before(before) || m.Changed.After(after) {
			t.Errorf("member %s changed at %v, want within the update [%v, %v]", m.UserID, m.Changed, before, after)
		}
	}
	if _, err := s.UpdateApp(ctx(t), app.ID, func(a *storage.App) error { a.Scope.FilterExpr = nil; return nil }); err != nil {
		t.Fatalf("UpdateApp: %v", err)
	}
	checkView(t, "no filter", s, app.ID, []string{"a", "b"}, nil)
	if _, err := s.UpdateApp(ctx(t), app.ID, func(a *storage.App) error { a.LeaveGraceDays = 0; a.Scope.FilterExpr = eq("none"); return nil }); err != nil {
		t.Fatalf("UpdateApp: %v", err)
	}
	checkView(t, "no grace: departed are gone at once", s, app.ID, nil, nil)
}

func testAppSyncWrites(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "u1", "u2", "u3")
	app := mustCreateApp(t, s, storage.App{Name: "sync", LeaveGraceDays: week,
		Scope: storage.AppScope{Groups: []string{"Team"}, IncludeInactive: true}})
	team := groupWrite("Team")
	team.Group.Members = []storage.Member{userMember(users["u1"].ID)}
	sub := groupWrite("Sub")
	sub.Group.Members = []storage.Member{userMember(users["u2"].ID)}
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Create: []storage.GroupWrite{team, sub}})
	checkView(t, "groups synced", s, app.ID, []string{"u1"}, nil)
	teamID := mustSyncedGroup(t, s, ownerA, team.Key).ID
	subID := mustSyncedGroup(t, s, ownerA, sub.Key).ID

	upd := storage.GroupWrite{Group: storage.Group{ID: teamID}, MembersOnly: true,
		Members: &storage.MemberChange{Add: []storage.Member{groupMember(subID), userMember(users["u3"].ID)}}}
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Update: []storage.GroupWrite{upd}})
	checkView(t, "members synced", s, app.ID, []string{"u1", "u2", "u3"}, nil)

	upd.Members = &storage.MemberChange{Remove: []string{users["u1"].ID}}
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Update: []storage.GroupWrite{upd}})
	checkView(t, "member removed by sync", s, app.ID, []string{"u2", "u3"}, []string{"u1"})

	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Delete: []string{subID}})
	checkView(t, "nested group deleted by sync", s, app.ID, []string{"u3"}, []string{"u1", "u2"})
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Delete: []string{teamID}})
	checkView(t, "scope group deleted by sync", s, app.ID, nil, []string{"u1", "u2", "u3"})
}

func testAppDeleteUserAndGroup(t *testing.T, s storage.Store) {
	a, b := mustCreateUser(t, s, user("a")), mustCreateUser(t, s, user("b"))
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "g", Members: []storage.Member{userMember(a.ID), userMember(b.ID)}})
	app := mustCreateApp(t, s, storage.App{Name: "d", LeaveGraceDays: week,
		Scope: storage.AppScope{Groups: []string{"g"}, IncludeInactive: true}})
	checkView(t, "both", s, app.ID, []string{"a", "b"}, nil)
	// A user deleted outright leaves as any departure does.
	if err := s.DeleteUser(ctx(t), a.ID, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	checkView(t, "user deleted", s, app.ID, []string{"b"}, []string{"a"})
	if err := s.DeleteGroup(ctx(t), g.ID, nil); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	checkView(t, "group deleted", s, app.ID, nil, []string{"a", "b"})
}

func testAppCounts(t *testing.T, s storage.Store) {
	a, b, c := mustCreateUser(t, s, user("a")), mustCreateUser(t, s, user("b")), mustCreateUser(t, s, user("c"))
	top := mustCreateGroup(t, s, storage.Group{DisplayName: "top", Members: []storage.Member{userMember(a.ID), userMember(b.ID)}})
	mustCreateGroup(t, s, storage.Group{DisplayName: "nested", Members: []storage.Member{userMember(c.ID)}})
	nested, _ := s.ListGroups(ctx(t), storage.Query{Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpEq, Value: "nested"}, Limit: 1}, false)
	mustUpdateMembers(t, s, top.ID, storage.MemberChange{Add: []storage.Member{groupMember(nested.Groups[0].ID)}})
	mustCreateGroup(t, s, storage.Group{DisplayName: "outside"})
	parent := mustCreateGroup(t, s, storage.Group{DisplayName: "parent", Members: []storage.Member{groupMember(top.ID)}})
	_ = parent
	for _, tc := range []struct {
		mode storage.GroupMode
		want storage.AppCounts
	}{
		{storage.GroupsScope, storage.AppCounts{Users: 2, Departed: 1, Groups: 2}},
		{storage.GroupsAll, storage.AppCounts{Users: 2, Departed: 1, Groups: 3}},
		{storage.GroupsNone, storage.AppCounts{Users: 2, Departed: 1, Groups: 0}},
	} {
		app := mustCreateApp(t, s, storage.App{Name: "counts-" + string(tc.mode), Groups: tc.mode, LeaveGraceDays: week,
			Scope: storage.AppScope{Groups: []string{"top"}, IncludeInactive: true}})
		mustUpdateMembers(t, s, top.ID, storage.MemberChange{Remove: []string{b.ID}})
		got, err := s.AppCounts(ctx(t), app.ID)
		if err != nil {
			t.Fatalf("AppCounts(%s): %v", tc.mode, err)
		}
		if got != tc.want {
			t.Errorf("AppCounts(%s) = %+v, want %+v", tc.mode, got, tc.want)
		}
		mustUpdateMembers(t, s, top.ID, storage.MemberChange{Add: []storage.Member{userMember(b.ID)}})
		if err := s.DeleteApp(ctx(t), app.ID); err != nil {
			t.Fatalf("DeleteApp: %v", err)
		}
	}
	every := mustCreateApp(t, s, storage.App{Name: "every", Scope: storage.AppScope{IncludeInactive: true}})
	if got, _ := s.AppCounts(ctx(t), every.ID); got != (storage.AppCounts{Users: 3, Groups: 4}) {
		t.Errorf("AppCounts(every user, scope mode) = %+v, want 3 users and every one of 4 groups", got)
	}
}

func testAppChangedAfter(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, user("early"))
	app := mustCreateApp(t, s, storage.App{Name: "inc", Scope: storage.AppScope{IncludeInactive: true}})
	all, err := s.AppMembers(ctx(t), app.ID, time.Time{})
	if err != nil || len(all) != 1 {
		t.Fatalf("AppMembers = %v, %v; want one row", all, err)
	}
	mark := all[0].Changed
	for !time.Now().After(mark.Add(time.Millisecond)) {
		time.Sleep(time.Millisecond) // the next write must be a later millisecond
	}
	late := mustCreateUser(t, s, user("late"))
	got, err := s.AppMembers(ctx(t), app.ID, mark)
	if err != nil || len(got) != 1 || got[0].UserID != late.ID {
		t.Errorf("AppMembers(changed after %v) = %+v, %v; want only late", mark, got, err)
	}
}
