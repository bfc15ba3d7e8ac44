package storetest

import (
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var groupTests = []subtest{
	{"CreateGet", testCreateGetGroup},
	{"GetNotFound", testGetGroupNotFound},
	{"CreateDisplayNameConflict", testCreateGroupConflict},
	{"CreateUnknownMember", testCreateGroupUnknownMember},
	{"UpdateAttributes", testUpdateGroupAttributes},
	{"UpdateMembers", testUpdateGroupMembers},
	{"UpdateLoadMembers", testUpdateGroupLoadMembers},
	{"UpdateClosureError", testUpdateGroupClosureError},
	{"UpdateUnknownMember", testUpdateGroupUnknownMember},
	{"UpdateDisplayNameConflict", testUpdateGroupConflict},
	{"UpdateKeepsIDOwnerCreated", testUpdateGroupImmutable},
	{"UpdateNotFound", testUpdateGroupNotFound},
	{"MemberDisplayFollowsUser", testMemberDisplayFollowsUser},
	{"MembersPage", testGroupMembersPage},
	{"Delete", testDeleteGroup},
	{"DeleteCheck", testDeleteGroupCheck},
}

func um(id string) storage.Member { return storage.Member{Value: id, Type: storage.MemberUser} }
func gm(id string) storage.Member { return storage.Member{Value: id, Type: storage.MemberGroup} }

// withDisplay returns m with Display set, as reads fill it.
func withDisplay(m storage.Member, display string) storage.Member {
	m.Display = display
	return m
}

// groupFixture is a small directory: alice (with a displayName), bob
// (without one), carol; group "Inner" holding carol; group "Outer" holding
// alice, bob and Inner.
type groupFixture struct {
	alice, bob, carol storage.User
	inner, outer      storage.Group
}

func newGroupFixture(t *testing.T, s storage.Store) groupFixture {
	t.Helper()
	var f groupFixture
	a := user("alice")
	a.DisplayName = "Alice Anders"
	f.alice = mustCreateUser(t, s, a)
	f.bob = mustCreateUser(t, s, user("bob"))
	c := user("carol")
	c.DisplayName = "Carol Clark"
	f.carol = mustCreateUser(t, s, c)
	f.inner = mustCreateGroup(t, s, storage.Group{DisplayName: "Inner", Members: []storage.Member{um(f.carol.ID)}})
	f.outer = mustCreateGroup(t, s, storage.Group{
		Owner:       "scim:hr",
		ExternalID:  "ext-outer",
		DisplayName: "Outer",
		Members:     []storage.Member{um(f.alice.ID), um(f.bob.ID), gm(f.inner.ID)},
	})
	return f
}

// outerMembers is what reads of Outer return as members.
func (f groupFixture) outerMembers() []storage.Member {
	return []storage.Member{
		withDisplay(um(f.alice.ID), "Alice Anders"),
		withDisplay(um(f.bob.ID), "bob"), // no displayName: userName
		withDisplay(gm(f.inner.ID), "Inner"),
	}
}

func testCreateGetGroup(t *testing.T, s storage.Store) {
	before := time.Now()
	f := newGroupFixture(t, s)
	after := time.Now()

	if f.outer.ID == "" || f.inner.ID == "" || f.outer.ID == f.inner.ID {
		t.Fatalf("CreateGroup IDs: outer=%q inner=%q, want distinct non-empty", f.outer.ID, f.inner.ID)
	}
	checkFreshMeta(t, "CreateGroup", f.outer.Meta, before, after)
	if f.outer.DisplayName != "Outer" || f.outer.ExternalID != "ext-outer" || f.outer.Owner != "scim:hr" {
		t.Errorf("CreateGroup result: %+v", f.outer)
	}

	got := mustGetGroup(t, s, f.outer.ID, true)
	if got.ID != f.outer.ID || got.DisplayName != "Outer" || got.ExternalID != "ext-outer" || got.Owner != "scim:hr" {
		t.Errorf("GetGroup(with members): %+v", got)
	}
	sameMeta(t, "GetGroup", got.Meta, f.outer.Meta)
	checkMembers(t, "GetGroup(Outer, true)", got.Members, f.outerMembers())
	checkMembers(t, "GetGroup(Inner, true)", mustGetGroup(t, s, f.inner.ID, true).Members,
		[]storage.Member{withDisplay(um(f.carol.ID), "Carol Clark")})

	bare := mustGetGroup(t, s, f.outer.ID, false)
	if len(bare.Members) != 0 {
		t.Errorf("GetGroup(without members): Members = %+v, want none", bare.Members)
	}
	if bare.DisplayName != "Outer" || bare.ExternalID != "ext-outer" {
		t.Errorf("GetGroup(without members): %+v", bare)
	}
	sameMeta(t, "GetGroup(without members)", bare.Meta, f.outer.Meta)

	empty := mustCreateGroup(t, s, storage.Group{DisplayName: "Empty"})
	if got := mustGetGroup(t, s, empty.ID, true); len(got.Members) != 0 || got.DisplayName != "Empty" {
		t.Errorf("GetGroup(Empty, true) = %+v, want no members", got)
	}
}

func testGetGroupNotFound(t *testing.T, s storage.Store) {
	for _, withMembers := range []bool{false, true} {
		_, err := s.GetGroup(ctx(t), "no-such-id", withMembers)
		wantErr(t, "GetGroup(unknown)", err, storage.ErrNotFound)
	}
	// A user's id is not a group's.
	u := mustCreateUser(t, s, user("not-a-group"))
	_, err := s.GetGroup(ctx(t), u.ID, false)
	wantErr(t, "GetGroup(user id)", err, storage.ErrNotFound)
}

func testCreateGroupConflict(t *testing.T, s storage.Store) {
	first := mustCreateGroup(t, s, storage.Group{DisplayName: "Admins"})
	for _, name := range []string{"Admins", "admins", "ADMINS"} {
		_, err := s.CreateGroup(ctx(t), storage.Group{DisplayName: name})
		wantErr(t, "CreateGroup("+name+") with Admins taken", err, storage.ErrConflict)
	}
	page := mustListGroups(t, s, storage.Query{Limit: 10}, false)
	if page.Total != 1 || len(page.Groups) != 1 || page.Groups[0].ID != first.ID {
		t.Errorf("after conflicts: groups = %v (total %d), want [Admins]", groupNames(page.Groups), page.Total)
	}
}

func testCreateGroupUnknownMember(t *testing.T, s storage.Store) {
	alice := mustCreateUser(t, s, user("alice"))
	for _, members := range [][]storage.Member{
		{um("no-such-user")},
		{um(alice.ID), um("no-such-user")},
		{um(alice.ID), gm("no-such-group")},
	} {
		_, err := s.CreateGroup(ctx(t), storage.Group{DisplayName: "Broken", Members: members})
		wantErr(t, "CreateGroup with unknown member", err, storage.ErrInvalid)
	}
	page := mustListGroups(t, s, storage.Query{Limit: 10}, false)
	if page.Total != 0 {
		t.Errorf("after failed creates: groups = %v (total %d), want none", groupNames(page.Groups), page.Total)
	}
	// Nothing was written: the name is still free.
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "Broken", Members: []storage.Member{um(alice.ID)}})
	checkMembers(t, "Broken", mustGetGroup(t, s, g.ID, true).Members, []storage.Member{withDisplay(um(alice.ID), "alice")})
}

func testUpdateGroupAttributes(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	time.Sleep(5 * time.Millisecond)
	updated, err := s.UpdateGroup(ctx(t), f.outer.ID, false, func(g *storage.Group) (storage.MemberChange, error) {
		if g.ID != f.outer.ID || g.DisplayName != "Outer" || g.ExternalID != "ext-outer" || g.Owner != "scim:hr" {
			t.Errorf("closure saw %+v, want Outer", *g)
		}
		sameMeta(t, "closure's group", g.Meta, f.outer.Meta)
		g.DisplayName = "Outer Renamed"
		g.ExternalID = "ext-2"
		return storage.MemberChange{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	if updated.ID != f.outer.ID || updated.DisplayName != "Outer Renamed" || updated.ExternalID != "ext-2" {
		t.Errorf("UpdateGroup result: %+v", updated)
	}
	if updated.Meta.Version != 2 || !updated.Meta.Created.Equal(f.outer.Meta.Created) ||
		updated.Meta.LastModified.Before(f.outer.Meta.LastModified) {
		t.Errorf("UpdateGroup meta = %+v, want version 2, created %v, lastModified >= %v",
			updated.Meta, f.outer.Meta.Created, f.outer.Meta.LastModified)
	}
	got := mustGetGroup(t, s, f.outer.ID, true)
	if got.DisplayName != "Outer Renamed" || got.ExternalID != "ext-2" {
		t.Errorf("GetGroup after update: %+v", got)
	}
	sameMeta(t, "GetGroup after update", got.Meta, updated.Meta)
	checkMembers(t, "members after attribute update", got.Members, f.outerMembers())
	// Members reflect the renamed group where it is a member.
	parent := mustCreateGroup(t, s, storage.Group{DisplayName: "Parent", Members: []storage.Member{gm(f.outer.ID)}})
	checkMembers(t, "Parent", mustGetGroup(t, s, parent.ID, true).Members,
		[]storage.Member{withDisplay(gm(f.outer.ID), "Outer Renamed")})
}

func testUpdateGroupMembers(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	dave := mustCreateUser(t, s, user("dave"))
	version := f.outer.Meta.Version

	steps := []struct {
		name    string
		change  storage.MemberChange
		want    []storage.Member
		changed bool
	}{
		{
			name:    "add one",
			change:  storage.MemberChange{Add: []storage.Member{um(dave.ID)}},
			want:    append(f.outerMembers(), withDisplay(um(dave.ID), "dave")),
			changed: true,
		},
		{
			name:   "add existing is a no-op",
			change: storage.MemberChange{Add: []storage.Member{um(dave.ID), um(f.alice.ID)}},
			want:   append(f.outerMembers(), withDisplay(um(dave.ID), "dave")),
		},
		{
			name:    "remove two",
			change:  storage.MemberChange{Remove: []string{f.alice.ID, f.inner.ID}},
			want:    []storage.Member{withDisplay(um(f.bob.ID), "bob"), withDisplay(um(dave.ID), "dave")},
			changed: true,
		},
		{
			name:   "remove non-member is a no-op",
			change: storage.MemberChange{Remove: []string{f.alice.ID, "no-such-id"}},
			want:   []storage.Member{withDisplay(um(f.bob.ID), "bob"), withDisplay(um(dave.ID), "dave")},
		},
		{
			name:    "add and remove together",
			change:  storage.MemberChange{Add: []storage.Member{gm(f.inner.ID)}, Remove: []string{f.bob.ID}},
			want:    []storage.Member{withDisplay(um(dave.ID), "dave"), withDisplay(gm(f.inner.ID), "Inner")},
			changed: true,
		},
		{
			name:    "remove all then add",
			change:  storage.MemberChange{RemoveAll: true, Add: []storage.Member{um(f.carol.ID), um(dave.ID)}},
			want:    []storage.Member{withDisplay(um(f.carol.ID), "Carol Clark"), withDisplay(um(dave.ID), "dave")},
			changed: true,
		},
		{
			name:    "remove all",
			change:  storage.MemberChange{RemoveAll: true},
			want:    nil,
			changed: true,
		},
	}
	for _, st := range steps {
		updated, err := s.UpdateGroup(ctx(t), f.outer.ID, false, func(*storage.Group) (storage.MemberChange, error) {
			return st.change, nil
		})
		if err != nil {
			t.Fatalf("%s: UpdateGroup: %v", st.name, err)
		}
		got := mustGetGroup(t, s, f.outer.ID, true)
		checkMembers(t, st.name, got.Members, st.want)
		sameMeta(t, st.name+": GetGroup vs UpdateGroup result", got.Meta, updated.Meta)
		switch {
		case st.changed && got.Meta.Version <= version:
			t.Errorf("%s: Version = %d, want > %d", st.name, got.Meta.Version, version)
		case !st.changed && got.Meta.Version < version:
			t.Errorf("%s: Version went down: %d < %d", st.name, got.Meta.Version, version)
		}
		version = got.Meta.Version
		if got.DisplayName != "Outer" {
			t.Errorf("%s: DisplayName = %q, want unchanged Outer", st.name, got.DisplayName)
		}
	}
	// The users and the inner group are untouched by membership edits.
	mustGetUser(t, s, f.alice.ID)
	checkMembers(t, "Inner", mustGetGroup(t, s, f.inner.ID, true).Members,
		[]storage.Member{withDisplay(um(f.carol.ID), "Carol Clark")})
}

func testUpdateGroupLoadMembers(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	var seen []storage.Member
	_, err := s.UpdateGroup(ctx(t), f.outer.ID, true, func(g *storage.Group) (storage.MemberChange, error) {
		seen = append(seen, g.Members...)
		return storage.MemberChange{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup(loadMembers): %v", err)
	}
	// Compare ids and types; Display is a read-side nicety.
	for i := range seen {
		seen[i].Display = ""
	}
	checkMembers(t, "closure's g.Members", seen, []storage.Member{um(f.alice.ID), um(f.bob.ID), gm(f.inner.ID)})
}

func testUpdateGroupClosureError(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	_, err := s.UpdateGroup(ctx(t), f.outer.ID, true, func(g *storage.Group) (storage.MemberChange, error) {
		g.DisplayName = "must not be stored"
		return storage.MemberChange{RemoveAll: true}, errTest
	})
	wantErr(t, "UpdateGroup with failing closure", err, errTest)
	got := mustGetGroup(t, s, f.outer.ID, true)
	if got.DisplayName != "Outer" {
		t.Errorf("DisplayName = %q, want Outer", got.DisplayName)
	}
	sameMeta(t, "after failed update", got.Meta, f.outer.Meta)
	checkMembers(t, "after failed update", got.Members, f.outerMembers())
}

func testUpdateGroupUnknownMember(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	dave := mustCreateUser(t, s, user("dave"))
	for _, change := range []storage.MemberChange{
		{Add: []storage.Member{um("no-such-user")}},
		{Add: []storage.Member{um(dave.ID), gm("no-such-group")}, Remove: []string{f.alice.ID}},
		{RemoveAll: true, Add: []storage.Member{um("no-such-user")}},
	} {
		_, err := s.UpdateGroup(ctx(t), f.outer.ID, false, func(g *storage.Group) (storage.MemberChange, error) {
			g.DisplayName = "must not be stored"
			return change, nil
		})
		wantErr(t, "UpdateGroup adding unknown member", err, storage.ErrInvalid)
	}
	got := mustGetGroup(t, s, f.outer.ID, true)
	if got.DisplayName != "Outer" {
		t.Errorf("DisplayName = %q, want Outer", got.DisplayName)
	}
	sameMeta(t, "after failed updates", got.Meta, f.outer.Meta)
	checkMembers(t, "after failed updates", got.Members, f.outerMembers())
}

func testUpdateGroupConflict(t *testing.T, s storage.Store) {
	mustCreateGroup(t, s, storage.Group{DisplayName: "Admins"})
	ops := mustCreateGroup(t, s, storage.Group{DisplayName: "Ops"})
	for _, name := range []string{"Admins", "aDMINS"} {
		_, err := s.UpdateGroup(ctx(t), ops.ID, false, func(g *storage.Group) (storage.MemberChange, error) {
			g.DisplayName = name
			return storage.MemberChange{}, nil
		})
		wantErr(t, "UpdateGroup renaming Ops to "+name, err, storage.ErrConflict)
	}
	got := mustGetGroup(t, s, ops.ID, false)
	if got.DisplayName != "Ops" {
		t.Errorf("after failed rename: DisplayName = %q, want Ops", got.DisplayName)
	}
	sameMeta(t, "after failed rename", got.Meta, ops.Meta)
	// A case variant of its own name is fine.
	renamed, err := s.UpdateGroup(ctx(t), ops.ID, false, func(g *storage.Group) (storage.MemberChange, error) {
		g.DisplayName = "OPS"
		return storage.MemberChange{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup(rename to own case variant): %v", err)
	}
	if renamed.DisplayName != "OPS" || renamed.Meta.Version != 2 {
		t.Errorf("after own-case rename: %q version %d, want OPS version 2", renamed.DisplayName, renamed.Meta.Version)
	}
}

func testUpdateGroupImmutable(t *testing.T, s storage.Store) {
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "G", Owner: "scim:orig"})
	updated, err := s.UpdateGroup(ctx(t), g.ID, false, func(g *storage.Group) (storage.MemberChange, error) {
		g.ID = "hijacked-id"
		g.Owner = "scim:thief"
		g.Meta.Created = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
		g.ExternalID = "changed"
		return storage.MemberChange{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	for what, got := range map[string]storage.Group{"UpdateGroup result": updated, "GetGroup": mustGetGroup(t, s, g.ID, false)} {
		if got.ID != g.ID || got.Owner != "scim:orig" || !got.Meta.Created.Equal(g.Meta.Created) || got.ExternalID != "changed" {
			t.Errorf("%s: ID=%q Owner=%q Created=%v ExternalID=%q, want %q scim:orig %v changed",
				what, got.ID, got.Owner, got.Meta.Created, got.ExternalID, g.ID, g.Meta.Created)
		}
	}
}

func testUpdateGroupNotFound(t *testing.T, s storage.Store) {
	called := false
	_, err := s.UpdateGroup(ctx(t), "no-such-id", true, func(*storage.Group) (storage.MemberChange, error) {
		called = true
		return storage.MemberChange{}, nil
	})
	wantErr(t, "UpdateGroup(unknown)", err, storage.ErrNotFound)
	if called {
		t.Errorf("UpdateGroup(unknown) called update")
	}
}

func testMemberDisplayFollowsUser(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	if _, err := s.UpdateUser(ctx(t), f.alice.ID, func(u *storage.User) error {
		u.DisplayName = ""
		return nil
	}); err != nil {
		t.Fatalf("UpdateUser(alice): %v", err)
	}
	if _, err := s.UpdateUser(ctx(t), f.bob.ID, func(u *storage.User) error {
		u.DisplayName = "Bob Brown"
		return nil
	}); err != nil {
		t.Fatalf("UpdateUser(bob): %v", err)
	}
	checkMembers(t, "Outer after renaming members", mustGetGroup(t, s, f.outer.ID, true).Members, []storage.Member{
		withDisplay(um(f.alice.ID), "alice"),
		withDisplay(um(f.bob.ID), "Bob Brown"),
		withDisplay(gm(f.inner.ID), "Inner"),
	})
}

func testDeleteGroup(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	if err := s.DeleteGroup(ctx(t), f.inner.ID, nil); err != nil {
		t.Fatalf("DeleteGroup(Inner): %v", err)
	}
	_, err := s.GetGroup(ctx(t), f.inner.ID, true)
	wantErr(t, "GetGroup after delete", err, storage.ErrNotFound)
	// Inner is no longer a member of Outer; its own member still exists.
	checkMembers(t, "Outer after deleting Inner", mustGetGroup(t, s, f.outer.ID, true).Members, []storage.Member{
		withDisplay(um(f.alice.ID), "Alice Anders"),
		withDisplay(um(f.bob.ID), "bob"),
	})
	mustGetUser(t, s, f.carol.ID)
	page := mustListGroups(t, s, storage.Query{Limit: 10}, true)
	if page.Total != 1 || !sameSet(groupNames(page.Groups), []string{"Outer"}) {
		t.Errorf("after delete: groups = %v (total %d), want [Outer]", groupNames(page.Groups), page.Total)
	}
	// The name is free again.
	mustCreateGroup(t, s, storage.Group{DisplayName: "inner"})

	err = s.DeleteGroup(ctx(t), f.inner.ID, nil)
	wantErr(t, "DeleteGroup twice", err, storage.ErrNotFound)
	err = s.DeleteGroup(ctx(t), "no-such-id", nil)
	wantErr(t, "DeleteGroup(unknown)", err, storage.ErrNotFound)
}

func testDeleteGroupCheck(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	var gotOwner string
	var gotMeta storage.Meta
	err := s.DeleteGroup(ctx(t), f.outer.ID, func(owner string, meta storage.Meta) error {
		gotOwner, gotMeta = owner, meta
		return errTest
	})
	wantErr(t, "DeleteGroup with failing check", err, errTest)
	if gotOwner != "scim:hr" {
		t.Errorf("check saw owner %q, want scim:hr", gotOwner)
	}
	sameMeta(t, "check's meta", gotMeta, f.outer.Meta)
	got := mustGetGroup(t, s, f.outer.ID, true)
	sameMeta(t, "after aborted delete", got.Meta, f.outer.Meta)
	checkMembers(t, "after aborted delete", got.Members, f.outerMembers())

	if err := s.DeleteGroup(ctx(t), f.outer.ID, func(string, storage.Meta) error { return nil }); err != nil {
		t.Fatalf("DeleteGroup with passing check: %v", err)
	}
	_, err = s.GetGroup(ctx(t), f.outer.ID, false)
	wantErr(t, "GetGroup after delete", err, storage.ErrNotFound)
	mustGetGroup(t, s, f.inner.ID, false)
}
