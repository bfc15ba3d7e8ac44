package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// Keyset paging: Query.After and Query.Before with the Bounds of earlier
// pages, as cursor pagination uses them.
var cursorTests = []subtest{
	{"KeysetWalks", testKeysetWalks},
	{"KeysetWalksFiltered", testKeysetWalksFiltered},
	{"KeysetBounds", testKeysetBounds},
	{"KeysetStableUnderChanges", testKeysetStable},
	{"KeysetInvalid", testKeysetInvalid},
	{"NoTotal", testNoTotal},
	{"TotalFollowsWrites", testTotalFollowsWrites},
	{"KeysetGroups", testKeysetGroups},
}

// createCursorUsers creates the sort fixture plus users without a title,
// so that nullable sorts have rows on both sides of the null boundary.
func createCursorUsers(t *testing.T, s storage.Store) {
	t.Helper()
	createSortUsers(t, s) // two of them have the title "updated"
	for i, name := range []string{"Oscar", "papa", "Quebec", "romeo"} {
		u := user(name)
		if i%2 == 0 {
			u.Title = fmt.Sprintf("title-%d", i)
		}
		u.Active = i != 1
		mustCreateUser(t, s, u)
	}
}

// cursorSorts are the orders keyset walks are checked in.
var cursorSorts = []struct {
	sortBy storage.Attr
	desc   bool
}{
	{"", false}, {"", true},
	{storage.AttrUserName, false}, {storage.AttrUserName, true},
	{storage.AttrTitle, false}, {storage.AttrTitle, true}, // nullable
	{storage.AttrActive, false}, {storage.AttrActive, true}, // boolean
	{storage.AttrLastModified, false}, {storage.AttrCreated, true}, // date-times
}

// walkUsers reads every page of q (its Limit the page size) forwards with
// After and returns the userNames per page and the pages' bounds.
func walkUsers(t *testing.T, s storage.Store, q storage.Query) ([][]string, []storage.PageBounds) {
	t.Helper()
	var names [][]string
	var bounds []storage.PageBounds
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatalf("walk of %s does not end", describeQuery(q))
		}
		page := mustListUsers(t, s, q)
		names = append(names, docUserNames(t, page))
		bounds = append(bounds, page.Bounds)
		if !page.Bounds.More {
			return names, bounds
		}
		last := page.Bounds.Last
		q.After = &last
	}
}

func testKeysetWalks(t *testing.T, s storage.Store) {
	createCursorUsers(t, s)
	checkKeysetWalks(t, s, nil)
}

func testKeysetWalksFiltered(t *testing.T, s storage.Store) {
	createCursorUsers(t, s)
	checkKeysetWalks(t, s, storage.Compare{Attr: storage.AttrUserName, Op: storage.OpNe, Value: "ZULU"})
}

// checkKeysetWalks walks every order forwards and backwards with several
// page sizes and compares with one offset page of everything.
func checkKeysetWalks(t *testing.T, s storage.Store, filter storage.Expr) {
	t.Helper()
	for _, o := range cursorSorts {
		ref := storage.Query{Filter: filter, SortBy: o.sortBy, Descending: o.desc, Limit: 1000}
		want, total := listUserNames(t, s, ref)
		for _, size := range []int{1, 3, 4, 20} {
			q := ref
			q.Limit = size
			pages, bounds := walkUsers(t, s, q)
			if got := slices.Concat(pages...); !slices.Equal(got, want) {
				t.Errorf("forward walk of %s = %v, want %v", describeQuery(q), got, want)
				continue
			}
			// Back from the last page with Before: the same pages in reverse.
			for i := len(pages) - 1; i > 0; i-- {
				first := bounds[i].First
				q.After, q.Before = nil, &first
				page := mustListUsers(t, s, q)
				if got := docUserNames(t, page); !slices.Equal(got, pages[i-1]) {
					t.Errorf("Before the first row of page %d of %s = %v, want %v", i, describeQuery(q), got, pages[i-1])
				}
				if page.Bounds.More != (i > 1) {
					t.Errorf("Before page %d of %s: More = %v, want %v", i, describeQuery(q), page.Bounds.More, i > 1)
				}
				if page.Total != total {
					t.Errorf("Before page %d of %s: Total = %d, want %d", i, describeQuery(q), page.Total, total)
				}
			}
		}
	}
}

func testKeysetBounds(t *testing.T, s storage.Store) {
	for i := 0; i < 4; i++ {
		mustCreateUser(t, s, user(fmt.Sprintf("user%d", i)))
	}
	q := storage.Query{SortBy: storage.AttrUserName, Limit: 2}
	first := mustListUsers(t, s, q)
	if !first.Bounds.More || first.Total != 4 {
		t.Fatalf("first page: More %v Total %d, want true 4", first.Bounds.More, first.Total)
	}
	if first.Bounds.First.Key != "user0" || first.Bounds.Last.Key != "user1" || first.Bounds.First.Seq == first.Bounds.Last.Seq {
		t.Errorf("first page bounds = %+v, want keys user0 and user1 (lower-cased values) and distinct seqs", first.Bounds)
	}
	q.After = &first.Bounds.Last
	second := mustListUsers(t, s, q)
	if second.Bounds.More || second.Total != 4 || len(second.Users) != 2 {
		t.Errorf("second (last, full) page: More %v Total %d, %d users; want false 4 2", second.Bounds.More, second.Total, len(second.Users))
	}
	q.After = &second.Bounds.Last
	past := mustListUsers(t, s, q)
	if past.Bounds.More || len(past.Users) != 0 || past.Total != 4 || past.Bounds.First != (storage.Keyset{}) {
		t.Errorf("page past the end: %+v", past)
	}
	// An unsorted query's keysets carry no key.
	plain := mustListUsers(t, s, storage.Query{Limit: 1})
	if plain.Bounds.First.Key != nil || plain.Bounds.First.Seq == 0 {
		t.Errorf("unsorted bounds = %+v", plain.Bounds)
	}
	// Keysets of a boolean and a date-time sort.
	active := mustListUsers(t, s, storage.Query{SortBy: storage.AttrActive, Limit: 1})
	if _, ok := active.Bounds.First.Key.(bool); !ok {
		t.Errorf("active keyset = %#v, want a bool key", active.Bounds.First)
	}
	modified := mustListUsers(t, s, storage.Query{SortBy: storage.AttrLastModified, Limit: 1})
	if _, ok := modified.Bounds.First.Key.(int64); !ok {
		t.Errorf("lastModified keyset = %#v, want an int64 key", modified.Bounds.First)
	}
}

// testKeysetStable deletes and inserts users between pages: every user
// that exists throughout the walk is returned once, none twice.
func testKeysetStable(t *testing.T, s storage.Store) {
	for _, o := range []storage.Query{{Limit: 3}, {SortBy: storage.AttrUserName, Limit: 3}, {SortBy: storage.AttrTitle, Descending: true, Limit: 3}} {
		ids := map[string]string{}
		for i := 0; i < 20; i++ {
			u := user(fmt.Sprintf("%s-m%02d", o.SortBy, i))
			if i%2 == 0 {
				u.Title = fmt.Sprintf("t%d", i%5)
			}
			ids[u.UserName] = mustCreateUser(t, s, u).ID
		}
		stable := map[string]bool{}
		for n := range ids {
			stable[n] = true
		}
		seen := map[string]int{}
		q := o
		q.Filter = storage.Compare{Attr: storage.AttrUserName, Op: storage.OpSw, Value: string(o.SortBy) + "-"}
		for i := 0; ; i++ {
			page := mustListUsers(t, s, q)
			for _, n := range docUserNames(t, page) {
				seen[n]++
			}
			if !page.Bounds.More {
				break
			}
			last := page.Bounds.Last
			q.After = &last
			removed := 0
			for n, id := range ids {
				if removed < 2 && (seen[n] > 0 || removed == 0) {
					if err := s.DeleteUser(ctx(t), id, nil); err != nil {
						t.Fatalf("DeleteUser: %v", err)
					}
					delete(ids, n)
					delete(stable, n)
					removed++
				}
			}
			for _, prefix := range []string{"a", "z"} {
				u := user(fmt.Sprintf("%s-%s%02d", o.SortBy, prefix, i))
				u.Title = prefix
				ids[u.UserName] = mustCreateUser(t, s, u).ID
			}
		}
		for n, c := range seen {
			if c > 1 {
				t.Errorf("%s: %s returned %d times", describeQuery(o), n, c)
			}
		}
		for n := range stable {
			if seen[n] != 1 {
				t.Errorf("%s: %s existed throughout but was returned %d times", describeQuery(o), n, seen[n])
			}
		}
	}
}

func testKeysetInvalid(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, user("someone"))
	k := &storage.Keyset{Key: "someone", Seq: 1}
	cases := []storage.Query{
		{SortBy: storage.AttrUserName, After: k, Before: k, Limit: 1},
		{SortBy: storage.AttrUserName, After: k, Offset: 1, Limit: 1},
		{SortBy: storage.AttrUserName, After: &storage.Keyset{Key: true, Seq: 1}, Limit: 1},
		{SortBy: storage.AttrLastModified, After: &storage.Keyset{Key: "x", Seq: 1}, Limit: 1},
		{After: k, Limit: 1}, // unsorted, yet a key
		{SortBy: storage.AttrUserName, After: &storage.Keyset{Seq: 1}, Limit: 1}, // userName is never absent
	}
	for _, q := range cases {
		_, err := s.ListUsers(ctx(t), q)
		wantErr(t, "ListUsers("+describeQuery(q)+")", err, storage.ErrInvalid)
	}
}

func testNoTotal(t *testing.T, s storage.Store) {
	for i := 0; i < 3; i++ {
		mustCreateUser(t, s, user(fmt.Sprintf("u%d", i)))
	}
	page := mustListUsers(t, s, storage.Query{Limit: 2, NoTotal: true})
	if page.Total != -1 || len(page.Users) != 2 || !page.Bounds.More {
		t.Errorf("NoTotal page: Total %d, %d users, More %v; want -1, 2, true", page.Total, len(page.Users), page.Bounds.More)
	}
}

func testKeysetGroups(t *testing.T, s storage.Store) {
	u := mustCreateUser(t, s, user("member"))
	var want []string
	for _, name := range []string{"delta", "Alpha", "charlie", "Bravo", "echo"} {
		mustCreateGroup(t, s, storage.Group{DisplayName: name, Members: []storage.Member{{Value: u.ID}}})
	}
	want = []string{"Alpha", "Bravo", "charlie", "delta", "echo"}
	q := storage.Query{SortBy: storage.AttrDisplayName, Limit: 2}
	var got []string
	for i := 0; i < 10; i++ {
		page := mustListGroups(t, s, q, true)
		for _, g := range page.Groups {
			if len(g.Members) != 1 || g.Members[0].Value != u.ID {
				t.Errorf("group %s members = %+v", g.DisplayName, g.Members)
			}
		}
		got = append(got, groupNames(page.Groups)...)
		if !page.Bounds.More {
			break
		}
		q.After = &page.Bounds.Last
	}
	if !slices.Equal(got, want) {
		t.Errorf("group walk = %v, want %v", got, want)
	}
}

// testTotalFollowsWrites reads totals between writes that change them: a
// store may remember counts, but never across a write.
func testTotalFollowsWrites(t *testing.T, s storage.Store) {
	engineers := storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: "engineer"}
	total := func(q storage.Query) int {
		t.Helper()
		q.Limit = 1 // a full page, so the store has to count
		return mustListUsers(t, s, q).Total
	}
	check := func(what string, wantAll, wantEngineers int) {
		t.Helper()
		for i := 0; i < 2; i++ { // twice: the second may come from memory
			if got := total(storage.Query{}); got != wantAll {
				t.Errorf("%s: total %d, want %d", what, got, wantAll)
			}
			if got := total(storage.Query{Filter: engineers}); got != wantEngineers {
				t.Errorf("%s: engineers %d, want %d", what, got, wantEngineers)
			}
		}
	}
	var ids []string
	for i := 0; i < 3; i++ {
		u := user(fmt.Sprintf("u%d", i))
		u.Title = "Engineer"
		ids = append(ids, mustCreateUser(t, s, u).ID)
	}
	check("after three creates", 3, 3)
	if _, err := s.UpdateUser(ctx(t), ids[0], func(u *storage.User) error { u.Title = "Manager"; return nil }); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	check("after a title change", 3, 2)
	if err := s.DeleteUser(ctx(t), ids[1], nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	check("after a delete", 2, 1)
	if _, err := s.CreateUsers(ctx(t), []storage.User{user("x"), user("y")}); err != nil {
		t.Fatalf("CreateUsers: %v", err)
	}
	check("after a bulk create", 4, 1)
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "g"})
	gq := storage.Query{Limit: 1, Filter: storage.ValuePath{Attr: storage.AttrMembers, Filter: storage.Compare{Attr: storage.SubValue, Op: storage.OpEq, Value: ids[0]}}}
	for _, want := range []int{0, 0} {
		if got := mustListGroups(t, s, gq, false).Total; got != want {
			t.Errorf("groups with member before the add: %d, want %d", got, want)
		}
	}
	if _, err := s.UpdateGroup(ctx(t), g.ID, false, func(*storage.Group) (storage.MemberChange, error) {
		return storage.MemberChange{Add: []storage.Member{{Value: ids[0]}}}, nil
	}); err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	// A page that is not full tells the total by itself; ask for none to
	// make the store count.
	gq.Limit = 0
	if got := mustListGroups(t, s, gq, false).Total; got != 1 {
		t.Errorf("groups with member after the add: %d, want 1", got)
	}
}
