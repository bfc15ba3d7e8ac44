package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// viewFixture is a directory with nesting and a cycle:
//
//	A = {u1, B}   B = {u2, C}   C = {u3, B}   D = {u4}   E = {u5}
//
// u2 and u4 have title "eng".
type viewFixture struct {
	users  map[string]storage.User  // by userName
	groups map[string]storage.Group // by displayName
}

func newViewFixture(t *testing.T, s storage.Store) viewFixture {
	t.Helper()
	f := viewFixture{users: map[string]storage.User{}, groups: map[string]storage.Group{}}
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5"} {
		title := ""
		if n == "u2" || n == "u4" {
			title = "eng"
		}
		f.users[n] = userIn(t, s, n, title, true)
	}
	id := func(n string) string { return f.users[n].ID }
	f.groups["C"] = mustCreateGroup(t, s, storage.Group{DisplayName: "C", Members: []storage.Member{um(id("u3"))}})
	f.groups["B"] = mustCreateGroup(t, s, storage.Group{DisplayName: "B", Members: []storage.Member{um(id("u2")), gm(f.groups["C"].ID)}})
	if _, err := s.UpdateGroup(ctx(t), f.groups["C"].ID, false, func(*storage.Group) (storage.MemberChange, error) {
		return storage.MemberChange{Add: []storage.Member{gm(f.groups["B"].ID)}}, nil
	}); err != nil {
		t.Fatalf("nest B in C: %v", err)
	}
	f.groups["A"] = mustCreateGroup(t, s, storage.Group{DisplayName: "A", Members: []storage.Member{um(id("u1")), gm(f.groups["B"].ID)}})
	f.groups["D"] = mustCreateGroup(t, s, storage.Group{DisplayName: "D", Members: []storage.Member{um(id("u4"))}})
	f.groups["E"] = mustCreateGroup(t, s, storage.Group{DisplayName: "E", Members: []storage.Member{um(id("u5"))}})
	return f
}

// memberNames names a group's members ("u2", "group C"), sorted.
func (f viewFixture) memberNames(ms []storage.Member) []string {
	out := []string{}
	for _, m := range ms {
		for n, u := range f.users {
			if u.ID == m.Value && m.Type == storage.MemberUser {
				out = append(out, n)
			}
		}
		for n, g := range f.groups {
			if g.ID == m.Value && m.Type == storage.MemberGroup {
				out = append(out, "group "+n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// viewGroups lists an app's groups with members: names in order, members
// by group name, and the total.
func (f viewFixture) viewGroups(t *testing.T, s storage.Store, q storage.Query) ([]string, map[string][]string, int) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	page := mustListGroups(t, s, q, true)
	members := map[string][]string{}
	for _, g := range page.Groups {
		members[g.DisplayName] = f.memberNames(g.Members)
	}
	return groupNames(page.Groups), members, page.Total
}

var engFilter = storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: "eng"}

func testViewGroupsModes(t *testing.T, s storage.Store, clock *testClock) {
	f := newViewFixture(t, s)
	for _, c := range []struct {
		what string
		app  storage.App
		want []string
	}{
		{"scope: the closure of A, through the cycle", storage.App{Scope: storage.AppScope{Groups: []string{"a"}}}, []string{"A", "B", "C"}},
		{"scope by id", storage.App{Scope: storage.AppScope{Groups: []string{f.groups["C"].ID}}}, []string{"B", "C"}},
		{"scope without scope groups: every group", storage.App{Scope: storage.AppScope{FilterExpr: engFilter}}, []string{"A", "B", "C", "D", "E"}},
		{"all: groups with a user in view, directly or nested", storage.App{Groups: storage.GroupsAll, Scope: storage.AppScope{FilterExpr: engFilter}}, []string{"A", "B", "C", "D"}},
		{"none", storage.App{Groups: storage.GroupsNone}, []string{}},
	} {
		c.app.Name = c.what
		c.app.Scope.IncludeInactive = true
		app := mustCreateApp(t, s, c.app)
		names, _, total := f.viewGroups(t, s, storage.Query{View: app.ID, SortBy: storage.AttrDisplayName})
		checkNames(t, c.what, names, c.want)
		if total != len(c.want) {
			t.Errorf("%s: total %d, want %d", c.what, total, len(c.want))
		}
		if n := mustListGroups(t, s, storage.Query{View: app.ID}, false).Total; n != len(c.want) {
			t.Errorf("%s: count %d, want %d", c.what, n, len(c.want))
		}
		counts, err := s.AppCounts(ctx(t), app.ID)
		if err != nil || counts.Groups != len(c.want) {
			t.Errorf("%s: AppCounts = %+v, %v; want %d groups", c.what, counts, err, len(c.want))
		}
		if len(c.want) < 2 {
			continue
		}
		// Filters, sorts and paging apply within the view.
		names, _, total = f.viewGroups(t, s, storage.Query{View: app.ID, SortBy: storage.AttrDisplayName, Descending: true, Limit: 1, Offset: 1})
		checkNames(t, c.what+", second page by displayName desc", names, []string{c.want[len(c.want)-2]})
		if total != len(c.want) {
			t.Errorf("%s, second page: total %d, want %d", c.what, total, len(c.want))
		}
		names, _, total = f.viewGroups(t, s, storage.Query{View: app.ID, Filter: eq(storage.AttrDisplayName, "b")})
		checkNames(t, c.what+", displayName eq b", names, []string{"B"})
		if total != 1 {
			t.Errorf("%s, displayName eq b: total %d", c.what, total)
		}
	}
}

func testViewGroupsMembers(t *testing.T, s storage.Store, clock *testClock) {
	f := newViewFixture(t, s)
	for _, c := range []struct {
		what string
		app  storage.App
		want map[string][]string
	}{
		{"scope A", storage.App{Scope: storage.AppScope{Groups: []string{"A"}}}, map[string][]string{
			"A": {"group B", "u1"}, "B": {"group C", "u2"}, "C": {"group B", "u3"}}},
		{"all, eng", storage.App{Groups: storage.GroupsAll, Scope: storage.AppScope{FilterExpr: engFilter}}, map[string][]string{
			"A": {"group B"}, "B": {"group C", "u2"}, "C": {"group B"}, "D": {"u4"}}},
		{"every group, eng", storage.App{Scope: storage.AppScope{FilterExpr: engFilter}}, map[string][]string{
			"A": {"group B"}, "B": {"group C", "u2"}, "C": {"group B"}, "D": {"u4"}, "E": {}}},
	} {
		c.app.Name, c.app.Scope.IncludeInactive = c.what, true
		app := mustCreateApp(t, s, c.app)
		_, members, _ := f.viewGroups(t, s, storage.Query{View: app.ID})
		checkMemberNames(t, c.what, members, c.want)
	}
	// Filtering by members would test the stored membership, users outside
	// the view included: refused in a view, as it is not unscoped.
	scoped := mustCreateApp(t, s, storage.App{Name: "members filter", Scope: storage.AppScope{Groups: []string{"A"}}})
	byMember := storage.ValuePath{Attr: storage.AttrMembers, Filter: eq(storage.SubValue, f.users["u4"].ID)}
	for _, filter := range []storage.Expr{byMember, storage.Or{Left: eq(storage.AttrDisplayName, "A"), Right: eq(storage.AttrMembers, f.users["u1"].ID)}} {
		_, err := s.ListGroups(ctx(t), storage.Query{View: scoped.ID, Filter: filter, Limit: 10}, false)
		wantErr(t, "a view's groups filtered by members", err, storage.ErrInvalid)
	}
	if page := mustListGroups(t, s, storage.Query{Filter: byMember, Limit: 10}, false); !slices.Equal(groupNames(page.Groups), []string{"D"}) {
		t.Errorf("unscoped groups with member u4: %v, want [D]", groupNames(page.Groups))
	}
	// A user who leaves the view leaves the members at once, though still
	// listed (departed) among the users.
	app := mustCreateApp(t, s, storage.App{Name: "leaving", LeaveGraceDays: 3, Scope: storage.AppScope{Groups: []string{"A"}}})
	clock.advance(time.Minute)
	if _, err := s.UpdateUser(ctx(t), f.users["u1"].ID, func(u *storage.User) error { u.Active = false; return nil }); err != nil {
		t.Fatalf("deactivate u1: %v", err)
	}
	_, members, _ := f.viewGroups(t, s, storage.Query{View: app.ID, Filter: eq(storage.AttrDisplayName, "A")})
	checkMemberNames(t, "after u1 left", members, map[string][]string{"A": {"group B"}})
	if docs, _, _ := viewUsers(t, s, storage.Query{View: app.ID}); !docs["u1"].Departed {
		t.Errorf("u1 after leaving: not listed as departed")
	}
}

func checkMemberNames(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for g, w := range want {
		if !slices.Equal(got[g], w) {
			t.Errorf("%s: members of %s = %v, want %v", what, g, got[g], w)
		}
	}
	for g := range got {
		if _, ok := want[g]; !ok {
			t.Errorf("%s: group %s listed, not in view", what, g)
		}
	}
}

func testViewGroupsFlatten(t *testing.T, s storage.Store, clock *testClock) {
	f := newViewFixture(t, s)
	for _, c := range []struct {
		what string
		app  storage.App
		want map[string][]string
	}{
		{"scope A, flattened", storage.App{Scope: storage.AppScope{Groups: []string{"A"}}}, map[string][]string{
			"A": {"u1", "u2", "u3"}, "B": {"u2", "u3"}, "C": {"u2", "u3"}}},
		{"all, eng, flattened", storage.App{Groups: storage.GroupsAll, Scope: storage.AppScope{FilterExpr: engFilter}}, map[string][]string{
			"A": {"u2"}, "B": {"u2"}, "C": {"u2"}, "D": {"u4"}}},
	} {
		c.app.Name, c.app.FlattenGroups, c.app.Scope.IncludeInactive = c.what, true, true
		app := mustCreateApp(t, s, c.app)
		_, members, _ := f.viewGroups(t, s, storage.Query{View: app.ID})
		checkMemberNames(t, c.what, members, c.want)
	}
}

func testViewGroupsMeta(t *testing.T, s storage.Store, clock *testClock) {
	u1 := userIn(t, s, "u1", "x", true)
	u2 := userIn(t, s, "u2", "y", true)
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "G", Members: []storage.Member{um(u1.ID), um(u2.ID)}})
	outer := mustCreateGroup(t, s, storage.Group{DisplayName: "Outer", Members: []storage.Member{gm(g.ID)}})
	t1 := clock.advance(time.Minute)
	scope := storage.AppScope{Groups: []string{"Outer"}, FilterExpr: eq(storage.AttrTitle, "x"), IncludeInactive: true}
	app := mustCreateApp(t, s, storage.App{Name: "direct", LeaveGraceDays: 1, Scope: scope})
	flat := mustCreateApp(t, s, storage.App{Name: "flat", LeaveGraceDays: 1, FlattenGroups: true, Scope: scope})
	setTitle := func(u storage.User, title string) {
		t.Helper()
		if _, err := s.UpdateUser(ctx(t), u.ID, func(u *storage.User) error { u.Title = title; return nil }); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
	}
	// Each check reads the group twice: plainly, and with a filter and a
	// sort on lastModified, which a store may serve another way.
	check := func(step string, appID, group string, wantLM time.Time, wantVersion int64) {
		t.Helper()
		byName := eq(storage.AttrDisplayName, group)
		for _, q := range []storage.Query{
			{View: appID, Filter: byName, Limit: 1},
			{View: appID, Filter: storage.And{Left: byName, Right: storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGt, Value: viewEpoch.Add(-time.Hour)}},
				SortBy: storage.AttrLastModified, Limit: 1},
		} {
			page := mustListGroups(t, s, q, false)
			if len(page.Groups) != 1 {
				t.Fatalf("%s: group %s not in view (%s)", step, group, describeQuery(q))
			}
			if m := page.Groups[0].Meta; !m.LastModified.Equal(wantLM) || m.Version != wantVersion {
				t.Errorf("%s: %s meta = lastModified %v version %d, want %v, %d (%s)", step, group, m.LastModified, m.Version, wantLM, wantVersion, describeQuery(q))
			}
		}
	}
	// Each member in view or grace adds bumps+1; G's own version is 1.
	check("u1 joined", app.ID, "G", t1, 1+2)
	check("u1 joined", app.ID, "Outer", outer.Meta.LastModified, 1) // no direct user members
	check("u1 joined, flattened", flat.ID, "Outer", t1, 1+2)
	t2 := clock.advance(time.Minute)
	setTitle(u2, "x")
	check("u2 joined", app.ID, "G", t2, 1+2+2)
	check("u2 joined, flattened", flat.ID, "Outer", t2, 1+2+2)
	t3 := clock.advance(time.Minute)
	setTitle(u1, "z")
	check("u1 left", app.ID, "G", t3, 1+3+2)
	check("u1 left, flattened", flat.ID, "Outer", t3, 1+3+2)
	page := mustListGroups(t, s, storage.Query{View: app.ID, Filter: eq(storage.AttrDisplayName, "G"), Limit: 1}, true)
	if got := memberValues(page.Groups[0].Members); !slices.Equal(got, []string{u2.ID}) {
		t.Errorf("u1 left: members %v, want only u2", got)
	}
	// lastModified filters see the group's meta as the app sees it.
	if n := mustListGroups(t, s, storage.Query{View: app.ID, Filter: storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGe, Value: t3}}, false).Total; n != 1 {
		t.Errorf("groups modified at or after u1 left: %d, want 1 (G)", n)
	}
	clock.advance(24 * time.Hour)
	check("u1's grace over", app.ID, "G", t2, 1+2)
}
