package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// appViewTests read applications' views through ListUsers and ListGroups
// (Query.View). They need the store's clock in hand: leave grace and the
// meta an app sees follow it.
var appViewTests = append([]clockTest{
	{"UsersNestedScope", testViewUsersNestedScope},
	{"UsersPaging", testViewUsersPaging},
	{"UsersDepartureAndGrace", testViewUsersDeparture},
	{"UsersMetaOnJoin", testViewUsersMetaOnJoin},
	{"GroupsModes", testViewGroupsModes},
	{"GroupsMembers", testViewGroupsMembers},
	{"GroupsFlattenCycle", testViewGroupsFlatten},
	{"GroupsMeta", testViewGroupsMeta},
	{"UnknownApp", testViewUnknownApp},
}, viewModelTests()...)

// testClock is a store clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// viewEpoch is where test clocks start: a fixed instant, so no test
// depends on today's date.
var viewEpoch = time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// viewUsers lists an app's view of users (every row) and returns the
// documents by userName.
func viewUsers(t *testing.T, s storage.Store, q storage.Query) (map[string]storage.UserDoc, []string, int) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	page := mustListUsers(t, s, q)
	names := docUserNames(t, page)
	out := make(map[string]storage.UserDoc, len(names))
	for i, d := range page.Users {
		out[names[i]] = d
	}
	return out, names, page.Total
}

func viewTotal(t *testing.T, s storage.Store, q storage.Query) int {
	t.Helper()
	q.Limit = 0
	return mustListUsers(t, s, q).Total
}

func eq(attr storage.Attr, v any) storage.Expr {
	return storage.Compare{Attr: attr, Op: storage.OpEq, Value: v}
}

func checkNames(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

// userIn makes a user with a title and active flag.
func userIn(t *testing.T, s storage.Store, name, title string, active bool) storage.User {
	t.Helper()
	u := user(name)
	u.Title, u.Active = title, active
	return mustCreateUser(t, s, u)
}

func testViewUsersNestedScope(t *testing.T, s storage.Store, clock *testClock) {
	ann := userIn(t, s, "ann", "", true)
	bob := userIn(t, s, "bob", "", true)
	cat := userIn(t, s, "cat", "", true)
	dan := userIn(t, s, "dan", "", false)
	team := mustCreateGroup(t, s, storage.Group{DisplayName: "Team", Members: []storage.Member{um(bob.ID)}})
	mustCreateGroup(t, s, storage.Group{DisplayName: "Sales", Members: []storage.Member{um(ann.ID), um(dan.ID), gm(team.ID)}})
	all := mustCreateApp(t, s, storage.App{Name: "crm", Scope: storage.AppScope{Groups: []string{"SALES"}, IncludeInactive: true}})
	active := mustCreateApp(t, s, storage.App{Name: "hr", Scope: storage.AppScope{Groups: []string{"sales"}}})

	_, names, total := viewUsers(t, s, storage.Query{View: all.ID})
	checkNames(t, "crm view", names, []string{"ann", "bob", "dan"})
	if total != 3 {
		t.Errorf("crm view total = %d, want 3", total)
	}
	_, names, _ = viewUsers(t, s, storage.Query{View: active.ID})
	checkNames(t, "view without inactive users", names, []string{"ann", "bob"})
	for _, c := range []struct {
		what string
		q    storage.Query
		want []string
	}{
		{"active eq true", storage.Query{Filter: eq(storage.AttrActive, true)}, []string{"ann", "bob"}},
		{"active eq false", storage.Query{Filter: eq(storage.AttrActive, false)}, []string{"dan"}},
		{"userName sw", storage.Query{Filter: storage.Compare{Attr: storage.AttrUserName, Op: storage.OpSw, Value: "B"}}, []string{"bob"}},
		{"sortBy userName desc", storage.Query{SortBy: storage.AttrUserName, Descending: true}, []string{"dan", "bob", "ann"}},
		{"id of a user in view", storage.Query{Filter: eq(storage.AttrID, bob.ID)}, []string{"bob"}},
		{"id of a user outside", storage.Query{Filter: eq(storage.AttrID, cat.ID)}, []string{}},
	} {
		c.q.View = all.ID
		_, names, total := viewUsers(t, s, c.q)
		checkNames(t, c.what, names, c.want)
		if total != len(c.want) || viewTotal(t, s, c.q) != len(c.want) {
			t.Errorf("%s: total = %d (count %d), want %d", c.what, total, viewTotal(t, s, c.q), len(c.want))
		}
	}
	// Unscoped reads are unchanged.
	if _, names, _ := viewUsers(t, s, storage.Query{}); len(names) != 4 {
		t.Errorf("unscoped list: %v, want all four users", names)
	}
}

func testViewUsersPaging(t *testing.T, s storage.Store, clock *testClock) {
	var members []storage.Member
	var want []string
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7"} {
		u := userIn(t, s, n, "", true)
		clock.advance(time.Millisecond)
		if n != "u4" { // u4 stays outside the view
			members = append(members, um(u.ID))
			want = append(want, n)
		}
	}
	mustCreateGroup(t, s, storage.Group{DisplayName: "G", Members: members})
	app := mustCreateApp(t, s, storage.App{Name: "app", Scope: storage.AppScope{Groups: []string{"G"}, IncludeInactive: true}})

	// Offset paging.
	var got []string
	for off := 0; off < 8; off += 2 {
		page := mustListUsers(t, s, storage.Query{View: app.ID, Offset: off, Limit: 2})
		got = append(got, docUserNames(t, page)...)
		if page.Total != 6 {
			t.Errorf("offset %d: total = %d, want 6", off, page.Total)
		}
	}
	checkNames(t, "offset pages", got, want)
	// Keyset paging forwards by userName, then back.
	q := storage.Query{View: app.ID, SortBy: storage.AttrUserName, Limit: 4}
	first := mustListUsers(t, s, q)
	checkNames(t, "first keyset page", docUserNames(t, first), want[:4])
	q.After = &first.Bounds.Last
	second := mustListUsers(t, s, q)
	checkNames(t, "second keyset page", docUserNames(t, second), want[4:])
	if second.Bounds.More || second.Total != 6 {
		t.Errorf("second keyset page: more=%v total=%d, want false, 6", second.Bounds.More, second.Total)
	}
	q.After, q.Before = nil, &second.Bounds.First
	back := mustListUsers(t, s, q)
	checkNames(t, "page before the second", docUserNames(t, back), want[:4])
	// By lastModified as the app sees it: everyone joined when the app was
	// created, after their own last change, so the keys tie and creation
	// order breaks them.
	q = storage.Query{View: app.ID, SortBy: storage.AttrLastModified, Descending: true, Limit: 4}
	first = mustListUsers(t, s, q)
	reversed := slices.Clone(want)
	slices.Reverse(reversed)
	checkNames(t, "first page by lastModified desc", docUserNames(t, first), reversed[:4])
	if k, ok := first.Bounds.Last.Key.(int64); !ok || k != app.CreatedAt.UnixMilli() {
		t.Errorf("keyset by lastModified: key %#v, want the join time %d", first.Bounds.Last.Key, app.CreatedAt.UnixMilli())
	}
	q.After = &first.Bounds.Last
	checkNames(t, "second page by lastModified desc", docUserNames(t, mustListUsers(t, s, q)), reversed[4:])
}

func testViewUsersDeparture(t *testing.T, s storage.Store, clock *testClock) {
	ann := userIn(t, s, "ann", "", true)
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "G", Members: []storage.Member{um(ann.ID)}})
	t1 := clock.advance(time.Minute)
	app := mustCreateApp(t, s, storage.App{Name: "app", LeaveGraceDays: 2,
		Scope: storage.AppScope{Groups: []string{g.ID}, IncludeInactive: true}})
	t2 := clock.advance(time.Minute)
	if _, err := s.UpdateGroup(ctx(t), g.ID, false, func(*storage.Group) (storage.MemberChange, error) {
		return storage.MemberChange{Remove: []string{ann.ID}}, nil
	}); err != nil {
		t.Fatalf("remove ann: %v", err)
	}
	docs, names, _ := viewUsers(t, s, storage.Query{View: app.ID})
	checkNames(t, "view after ann left", names, []string{"ann"})
	d := docs["ann"]
	u, _ := d.Decode()
	if !d.Departed || u.Active || !d.Meta.LastModified.Equal(t2) || d.Meta.Version != 3 {
		t.Errorf("departed ann: departed=%v active=%v lastModified=%v version=%d, want true, false, %v, 3",
			d.Departed, u.Active, d.Meta.LastModified, d.Meta.Version, t2)
	}
	for _, c := range []struct {
		what   string
		filter storage.Expr
		want   int
	}{
		{"active eq true", eq(storage.AttrActive, true), 0},
		{"active eq false", eq(storage.AttrActive, false), 1},
		{"lastModified gt t1", storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGt, Value: t1}, 1},
		{"lastModified gt t2", storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGt, Value: t2}, 0},
	} {
		if n := viewTotal(t, s, storage.Query{View: app.ID, Filter: c.filter}); n != c.want {
			t.Errorf("departed ann, %s: %d users, want %d", c.what, n, c.want)
		}
	}
	// Visible until the grace ends, counted (and the count cached) alike.
	clock.advance(2*24*time.Hour - time.Millisecond)
	if n := viewTotal(t, s, storage.Query{View: app.ID}); n != 1 {
		t.Errorf("a millisecond before grace ends: %d users, want 1", n)
	}
	clock.advance(time.Millisecond)
	if n := viewTotal(t, s, storage.Query{View: app.ID}); n != 0 {
		t.Errorf("when grace ends: %d users counted, want 0", n)
	}
	if _, names, _ := viewUsers(t, s, storage.Query{View: app.ID, Filter: eq(storage.AttrID, ann.ID)}); len(names) != 0 {
		t.Errorf("when grace ends: lookup by id found %v", names)
	}
	t3 := clock.advance(time.Minute)
	if _, err := s.UpdateGroup(ctx(t), g.ID, false, func(*storage.Group) (storage.MemberChange, error) {
		return storage.MemberChange{Add: []storage.Member{um(ann.ID)}}, nil
	}); err != nil {
		t.Fatalf("add ann back: %v", err)
	}
	docs, _, _ = viewUsers(t, s, storage.Query{View: app.ID})
	if d := docs["ann"]; d.Departed || !d.Meta.LastModified.Equal(t3) || d.Meta.Version != 4 {
		t.Errorf("ann back: departed=%v lastModified=%v version=%d, want false, %v, 4", d.Departed, d.Meta.LastModified, d.Meta.Version, t3)
	}
}

func testViewUsersMetaOnJoin(t *testing.T, s storage.Store, clock *testClock) {
	ann := userIn(t, s, "ann", "eng", true)
	t1 := clock.advance(time.Minute)
	app := mustCreateApp(t, s, storage.App{Name: "app", Scope: storage.AppScope{FilterExpr: eq(storage.AttrTitle, "eng"), IncludeInactive: true}})
	docs, _, _ := viewUsers(t, s, storage.Query{View: app.ID})
	if d := docs["ann"]; !d.Meta.LastModified.Equal(t1) || d.Meta.Version != 2 || !d.Meta.Created.Equal(ann.Meta.Created) {
		t.Errorf("ann joined: meta %+v, want lastModified %v (the join), version 2", d.Meta, t1)
	}
	if n := viewTotal(t, s, storage.Query{View: app.ID, Filter: storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGe, Value: t1}}); n != 1 {
		t.Errorf("lastModified ge the join: %d users, want 1", n)
	}
	t2 := clock.advance(time.Minute)
	if _, err := s.UpdateUser(ctx(t), ann.ID, func(u *storage.User) error { u.DisplayName = "Ann"; return nil }); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	docs, _, _ = viewUsers(t, s, storage.Query{View: app.ID})
	if d := docs["ann"]; !d.Meta.LastModified.Equal(t2) || d.Meta.Version != 3 {
		t.Errorf("ann updated in view: meta %+v, want lastModified %v, version 3", d.Meta, t2)
	}
}

func testViewUnknownApp(t *testing.T, s storage.Store, clock *testClock) {
	_, err := s.ListUsers(ctx(t), storage.Query{View: "no-such-app", Limit: 10})
	wantErr(t, "ListUsers of an unknown app", err, storage.ErrNotFound)
	_, err = s.ListGroups(ctx(t), storage.Query{View: "no-such-app", Limit: 10}, true)
	wantErr(t, "ListGroups of an unknown app", err, storage.ErrNotFound)
	app := mustCreateApp(t, s, storage.App{Name: "named"})
	_, err = s.ListUsers(ctx(t), storage.Query{View: "named", Limit: 10})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a view named by the app's name (not id %s): err = %v, want ErrNotFound", app.ID, err)
	}
}
