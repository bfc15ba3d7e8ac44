package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var listTests = []subtest{
	{"UsersEmpty", testListUsersEmpty},
	{"UsersTotalAndLimit", testListUsersTotal},
	{"UsersSort", testListUsersSort},
	{"UsersPaging", testListUsersPaging},
	{"UsersDocuments", testListUsersDocuments},
	{"UsersUnknownSort", testListUsersUnknownSort},
	{"Groups", testListGroups},
	{"GroupsPaging", testListGroupsPaging},
}

// sortUsers are created in this order, a few milliseconds apart; then
// "Alpha" and, later, "mike" are updated. userName and displayName orders
// differ from creation order and from each other.
var sortUsers = []struct{ userName, displayName string }{
	{"mike", "Echo"},
	{"Alpha", "Delta"},
	{"zulu", "Bravo"},
	{"bravo", "Alpha"},
	{"Charlie", "Foxtrot"},
}

func createSortUsers(t *testing.T, s storage.Store) {
	t.Helper()
	for _, su := range sortUsers {
		u := user(su.userName)
		u.DisplayName = su.displayName
		mustCreateUser(t, s, u)
		time.Sleep(3 * time.Millisecond)
	}
	for _, name := range []string{"Alpha", "mike"} {
		page := mustListUsers(t, s, storage.Query{
			Filter: storage.Compare{Attr: storage.AttrUserName, Op: storage.OpEq, Value: name}, Limit: 1,
		})
		if len(page.Users) != 1 {
			t.Fatalf("userName eq %q: %d users", name, len(page.Users))
		}
		if _, err := s.UpdateUser(ctx(t), page.Users[0].ID, func(u *storage.User) error {
			u.Title = "updated"
			return nil
		}); err != nil {
			t.Fatalf("UpdateUser(%s): %v", name, err)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

var creationOrder = []string{"mike", "Alpha", "zulu", "bravo", "Charlie"}

// userSorts are the orders the suite checks, with the userNames expected.
var userSorts = []struct {
	sortBy storage.Attr
	desc   bool
	want   []string
}{
	{"", false, creationOrder},
	{storage.AttrUserName, false, []string{"Alpha", "bravo", "Charlie", "mike", "zulu"}}, // case-insensitive
	{storage.AttrUserName, true, []string{"zulu", "mike", "Charlie", "bravo", "Alpha"}},
	{storage.AttrDisplayName, false, []string{"bravo", "zulu", "Alpha", "mike", "Charlie"}},
	{storage.AttrDisplayName, true, []string{"Charlie", "mike", "Alpha", "zulu", "bravo"}},
	{storage.AttrLastModified, false, []string{"zulu", "bravo", "Charlie", "Alpha", "mike"}},
	{storage.AttrLastModified, true, []string{"mike", "Alpha", "Charlie", "bravo", "zulu"}},
	{storage.AttrCreated, false, creationOrder},
}

func testListUsersEmpty(t *testing.T, s storage.Store) {
	for _, q := range []storage.Query{{}, {Limit: 10}, {Offset: 5, Limit: 10}} {
		page := mustListUsers(t, s, q)
		if page.Total != 0 || len(page.Users) != 0 {
			t.Errorf("ListUsers(%s) on empty store: total %d, %d users", describeQuery(q), page.Total, len(page.Users))
		}
	}
	gp := mustListGroups(t, s, storage.Query{Limit: 10}, true)
	if gp.Total != 0 || len(gp.Groups) != 0 {
		t.Errorf("ListGroups on empty store: total %d, %d groups", gp.Total, len(gp.Groups))
	}
}

func testListUsersTotal(t *testing.T, s storage.Store) {
	createSortUsers(t, s)
	updated := storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: "updated"}
	cases := []struct {
		q         storage.Query
		want      []string
		wantTotal int
	}{
		{storage.Query{}, nil, 5}, // Limit 0: only the total
		{storage.Query{Offset: 2}, nil, 5},
		{storage.Query{Limit: 2}, creationOrder[:2], 5},
		{storage.Query{Offset: 3, Limit: 10}, creationOrder[3:], 5},
		{storage.Query{Offset: 4, Limit: 1}, creationOrder[4:], 5},
		{storage.Query{Offset: 5, Limit: 10}, nil, 5},
		{storage.Query{Offset: 50, Limit: 10}, nil, 5},
		{storage.Query{Filter: updated}, nil, 2},
		{storage.Query{Filter: updated, Limit: 1}, []string{"mike"}, 2}, // creation order
		{storage.Query{Filter: updated, Offset: 1, Limit: 1}, []string{"Alpha"}, 2},
		{storage.Query{Filter: updated, Offset: 2, Limit: 1}, nil, 2},
	}
	for _, c := range cases {
		got, total := listUserNames(t, s, c.q)
		if total != c.wantTotal || !slices.Equal(got, c.want) {
			t.Errorf("ListUsers(%s) = %v (total %d), want %v (total %d)", describeQuery(c.q), got, total, c.want, c.wantTotal)
		}
	}
}

func testListUsersSort(t *testing.T, s storage.Store) {
	createSortUsers(t, s)
	for _, c := range userSorts {
		q := storage.Query{SortBy: c.sortBy, Descending: c.desc, Limit: 100}
		got, total := listUserNames(t, s, q)
		if total != len(c.want) || !slices.Equal(got, c.want) {
			t.Errorf("ListUsers(%s) = %v (total %d), want %v", describeQuery(q), got, total, c.want)
		}
	}
}

func testListUsersPaging(t *testing.T, s storage.Store) {
	createSortUsers(t, s)
	// Filtered paging: exclude one user, so Total differs from the store's size.
	notZulu := storage.Compare{Attr: storage.AttrUserName, Op: storage.OpNe, Value: "ZULU"}
	for _, c := range userSorts {
		for _, filtered := range []bool{false, true} {
			want := c.want
			var filter storage.Expr
			if filtered {
				filter = notZulu
				want = slices.DeleteFunc(slices.Clone(want), func(n string) bool { return n == "zulu" })
			}
			for _, size := range []int{1, 2, 3} {
				var all []string
				for off := 0; off < len(want)+size; off += size {
					q := storage.Query{Filter: filter, SortBy: c.sortBy, Descending: c.desc, Offset: off, Limit: size}
					got, total := listUserNames(t, s, q)
					if total != len(want) {
						t.Errorf("ListUsers(%s): total %d, want %d", describeQuery(q), total, len(want))
					}
					if len(got) > size {
						t.Errorf("ListUsers(%s): %d users, more than the limit", describeQuery(q), len(got))
					}
					all = append(all, got...)
				}
				if !slices.Equal(all, want) {
					t.Errorf("pages of %d (sortBy=%q desc=%v filtered=%v) = %v, want %v",
						size, c.sortBy, c.desc, filtered, all, want)
				}
			}
		}
	}
}

func testListUsersDocuments(t *testing.T, s storage.Store) {
	a := mustCreateUser(t, s, fullUser("doc-a", true))
	b := mustCreateUser(t, s, fullUser("doc-b", false))
	page := mustListUsers(t, s, storage.Query{Limit: 10})
	if len(page.Users) != 2 {
		t.Fatalf("ListUsers: %d users, want 2", len(page.Users))
	}
	for i, want := range []storage.User{a, b} {
		d := page.Users[i]
		if d.ID != want.ID || d.Owner != want.Owner {
			t.Errorf("UserDoc %d: ID, Owner = %q, %q, want %q, %q", i, d.ID, d.Owner, want.ID, want.Owner)
		}
		sameMeta(t, fmt.Sprintf("UserDoc %d", i), d.Meta, want.Meta)
		got, err := d.Decode()
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		checkSameDoc(t, fmt.Sprintf("UserDoc %d decoded", i), got, want)
		if got.ID != want.ID || got.Owner != want.Owner {
			t.Errorf("decoded UserDoc %d: ID, Owner = %q, %q", i, got.ID, got.Owner)
		}
	}
}

func testListUsersUnknownSort(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, user("someone"))
	_, err := s.ListUsers(ctx(t), storage.Query{SortBy: storage.Attr("nosuch"), Limit: 10})
	wantErr(t, "ListUsers sortBy nosuch", err, storage.ErrInvalid)
	mustCreateGroup(t, s, storage.Group{DisplayName: "g"})
	_, err = s.ListGroups(ctx(t), storage.Query{SortBy: storage.Attr("nosuch"), Limit: 10}, false)
	wantErr(t, "ListGroups sortBy nosuch", err, storage.ErrInvalid)
}

// listGroupFixture creates groups in a non-alphabetical order; "beta"
// holds a user and "Alpha" holds beta.
func listGroupFixture(t *testing.T, s storage.Store) (storage.User, map[string]storage.Group) {
	t.Helper()
	u := mustCreateUser(t, s, user("member"))
	gs := map[string]storage.Group{}
	gs["delta"] = mustCreateGroup(t, s, storage.Group{DisplayName: "delta"})
	gs["beta"] = mustCreateGroup(t, s, storage.Group{DisplayName: "beta", Members: []storage.Member{um(u.ID)}})
	gs["Charlie"] = mustCreateGroup(t, s, storage.Group{DisplayName: "Charlie"})
	gs["Alpha"] = mustCreateGroup(t, s, storage.Group{DisplayName: "Alpha", Members: []storage.Member{gm(gs["beta"].ID)}})
	return u, gs
}

var groupCreationOrder = []string{"delta", "beta", "Charlie", "Alpha"}

func testListGroups(t *testing.T, s storage.Store) {
	u, gs := listGroupFixture(t, s)

	page := mustListGroups(t, s, storage.Query{}, true)
	if page.Total != 4 || len(page.Groups) != 0 {
		t.Errorf("ListGroups(Limit 0) = %v (total %d), want only total 4", groupNames(page.Groups), page.Total)
	}
	cases := []struct {
		sortBy storage.Attr
		desc   bool
		want   []string
	}{
		{"", false, groupCreationOrder},
		{storage.AttrDisplayName, false, []string{"Alpha", "beta", "Charlie", "delta"}}, // case-insensitive
		{storage.AttrDisplayName, true, []string{"delta", "Charlie", "beta", "Alpha"}},
	}
	for _, c := range cases {
		q := storage.Query{SortBy: c.sortBy, Descending: c.desc, Limit: 10}
		page := mustListGroups(t, s, q, false)
		if got := groupNames(page.Groups); page.Total != 4 || !slices.Equal(got, c.want) {
			t.Errorf("ListGroups(%s) = %v (total %d), want %v", describeQuery(q), got, page.Total, c.want)
		}
		for _, g := range page.Groups {
			if len(g.Members) != 0 {
				t.Errorf("ListGroups(withMembers=false): %s has members %+v", g.DisplayName, g.Members)
			}
		}
	}

	// With members: each group carries its own, displays filled.
	want := map[string][]storage.Member{
		"delta":   nil,
		"beta":    {withDisplay(um(u.ID), "member")},
		"Charlie": nil,
		"Alpha":   {withDisplay(gm(gs["beta"].ID), "beta")},
	}
	page = mustListGroups(t, s, storage.Query{Limit: 10}, true)
	if got := groupNames(page.Groups); !slices.Equal(got, groupCreationOrder) {
		t.Fatalf("ListGroups(withMembers) = %v, want %v", got, groupCreationOrder)
	}
	for _, g := range page.Groups {
		if g.ID != gs[g.DisplayName].ID {
			t.Errorf("ListGroups: %s has ID %q, want %q", g.DisplayName, g.ID, gs[g.DisplayName].ID)
		}
		sameMeta(t, "ListGroups "+g.DisplayName, g.Meta, gs[g.DisplayName].Meta)
		checkMembers(t, "ListGroups "+g.DisplayName, g.Members, want[g.DisplayName])
	}
}

func testListGroupsPaging(t *testing.T, s storage.Store) {
	listGroupFixture(t, s)
	for _, sortBy := range []storage.Attr{"", storage.AttrDisplayName} {
		var full []string
		for off := 0; off < 6; off += 2 {
			q := storage.Query{SortBy: sortBy, Offset: off, Limit: 2}
			page := mustListGroups(t, s, q, true)
			if page.Total != 4 || len(page.Groups) > 2 {
				t.Errorf("ListGroups(%s): %d groups, total %d, want at most 2, total 4", describeQuery(q), len(page.Groups), page.Total)
			}
			full = append(full, groupNames(page.Groups)...)
		}
		want := groupCreationOrder
		if sortBy != "" {
			want = []string{"Alpha", "beta", "Charlie", "delta"}
		}
		if !slices.Equal(full, want) {
			t.Errorf("group pages of 2 (sortBy=%q) = %v, want %v", sortBy, full, want)
		}
	}
}
