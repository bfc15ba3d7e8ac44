package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var syncGroupTests = []subtest{
	{"ApplyGroupsCreate", testApplyGroupsCreate},
	{"ApplyGroupsConflict", testApplyGroupsConflict},
	{"ApplyGroupsUpdate", testApplyGroupsUpdate},
	{"ApplyGroupsMembersOnly", testApplyGroupsMembersOnly},
	{"ApplyGroupsDelete", testApplyGroupsDelete},
	{"MemberIDs", testMemberIDs},
	{"EachSyncedGroup", testEachSyncedGroup},
}

func groupWrite(displayName string) storage.GroupWrite {
	return storage.GroupWrite{
		Group: storage.Group{DisplayName: displayName, ExternalID: "ext-" + displayName},
		Key:   "gkey-" + displayName, Hash: "ghash-" + displayName,
	}
}

func mustApplyGroups(t *testing.T, s storage.Store, owner string, b storage.GroupBatch) {
	t.Helper()
	if err := s.ApplyGroups(ctx(t), owner, b); err != nil {
		t.Fatalf("ApplyGroups(%s): %v", owner, err)
	}
}

// mustSyncedGroup returns the group owner holds under key.
func mustSyncedGroup(t *testing.T, s storage.Store, owner, key string) storage.SyncedGroup {
	t.Helper()
	got, err := s.SyncedGroups(ctx(t), owner, []string{key})
	if err != nil {
		t.Fatalf("SyncedGroups(%s): %v", owner, err)
	}
	g, ok := got[key]
	if !ok {
		t.Fatalf("SyncedGroups(%s, %s): not found", owner, key)
	}
	return g
}

// syncedGroup creates one group through ApplyGroups and returns it with
// its members.
func syncedGroup(t *testing.T, s storage.Store, owner string, w storage.GroupWrite) storage.Group {
	t.Helper()
	mustApplyGroups(t, s, owner, storage.GroupBatch{Create: []storage.GroupWrite{w}})
	return mustGetGroup(t, s, mustSyncedGroup(t, s, owner, w.Key).ID, true)
}

func testApplyGroupsCreate(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob")
	const innerID = "6b0e6f4a-0000-4000-8000-000000000001"
	inner := groupWrite("Inner")
	inner.Group.ID = innerID
	outer := groupWrite("Outer")
	// Members come from Group.Members and Members.Add; unknown ids are
	// skipped, and a group created in the same batch can be a member.
	outer.Group.Members = []storage.Member{um(users["alice"].ID), um("00000000-0000-4000-8000-00000000dead")}
	outer.Members = &storage.MemberChange{Add: []storage.Member{um(users["bob"].ID), gm(innerID), um(users["alice"].ID)}}
	// A group is never its own member; the member type is the stored one.
	inner.Group.Members = []storage.Member{gm(innerID), gm(users["bob"].ID)}
	before := time.Now()
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Create: []storage.GroupWrite{outer, inner}})
	after := time.Now()

	sg := mustSyncedGroup(t, s, ownerA, "gkey-Outer")
	want := storage.SyncedGroup{ID: sg.ID, Key: "gkey-Outer", Hash: "ghash-Outer", DisplayName: "Outer"}
	if sg.ID == "" || sg != want {
		t.Errorf("SyncedGroups[gkey-Outer] = %+v, want %+v", sg, want)
	}
	got := mustGetGroup(t, s, sg.ID, true)
	if got.Owner != ownerA || got.DisplayName != "Outer" || got.ExternalID != "ext-Outer" {
		t.Errorf("GetGroup = owner %q, displayName %q, externalId %q", got.Owner, got.DisplayName, got.ExternalID)
	}
	checkFreshMeta(t, "ApplyGroups create", got.Meta, before, after)
	if want := []string{users["alice"].ID, users["bob"].ID, innerID}; !sameSet(memberValues(got.Members), want) {
		t.Errorf("members = %v, want %v", memberValues(got.Members), want)
	}
	if mustSyncedGroup(t, s, ownerA, "gkey-Inner").ID != innerID {
		t.Errorf("Create with an ID did not keep it")
	}
	in := mustGetGroup(t, s, innerID, true)
	if len(in.Members) != 1 || in.Members[0].Value != users["bob"].ID || in.Members[0].Type != storage.MemberUser {
		t.Errorf("Inner members = %+v, want bob as a User only", in.Members)
	}
}

func testApplyGroupsConflict(t *testing.T, s storage.Store) {
	mustCreateGroup(t, s, storage.Group{DisplayName: "Admins"})
	err := s.ApplyGroups(ctx(t), ownerA, storage.GroupBatch{Create: []storage.GroupWrite{groupWrite("Team"), groupWrite("ADMINS")}})
	wantErr(t, "ApplyGroups with a taken displayName", err, storage.ErrConflict)
	got, err := s.SyncedGroups(ctx(t), ownerA, []string{"gkey-Team", "gkey-ADMINS"})
	if err != nil || len(got) != 0 {
		t.Errorf("after the failed batch SyncedGroups = %v, %v; want none", got, err)
	}
}

func testApplyGroupsUpdate(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob", "carol")
	w := groupWrite("Team")
	w.Group.Members = []storage.Member{um(users["alice"].ID), um(users["bob"].ID)}
	team := syncedGroup(t, s, ownerA, w)

	steps := []struct {
		name        string
		edit        func(w *storage.GroupWrite)
		wantVersion int64
		wantName    string
		wantMembers []string
	}{
		{"rename and edit members", func(w *storage.GroupWrite) {
			w.Group.DisplayName, w.Hash = "Team 2", "h2"
			w.Members = &storage.MemberChange{Add: []storage.Member{um(users["carol"].ID)}, Remove: []string{users["alice"].ID}}
		}, team.Meta.Version + 1, "Team 2", []string{users["bob"].ID, users["carol"].ID}},
		{"hash only", func(w *storage.GroupWrite) {
			w.Group.DisplayName, w.Hash = "Team 2", "h3"
		}, team.Meta.Version + 1, "Team 2", []string{users["bob"].ID, users["carol"].ID}},
		{"unknown member only", func(w *storage.GroupWrite) {
			w.Group.DisplayName, w.Hash = "Team 2", "h3"
			w.Members = &storage.MemberChange{Add: []storage.Member{um("00000000-0000-4000-8000-00000000dead")}}
		}, team.Meta.Version + 1, "Team 2", []string{users["bob"].ID, users["carol"].ID}},
		{"remove all", func(w *storage.GroupWrite) {
			w.Group.DisplayName, w.Hash = "Team 2", "h4"
			w.Members = &storage.MemberChange{RemoveAll: true, Add: []storage.Member{um(users["alice"].ID)}}
		}, team.Meta.Version + 2, "Team 2", []string{users["alice"].ID}},
	}
	for _, st := range steps {
		w := groupWrite("Team")
		w.Group.ID = team.ID
		st.edit(&w)
		mustApplyGroups(t, s, ownerA, storage.GroupBatch{Update: []storage.GroupWrite{w}})
		got := mustGetGroup(t, s, team.ID, true)
		if got.Meta.Version != st.wantVersion || got.DisplayName != st.wantName || !sameSet(memberValues(got.Members), st.wantMembers) {
			t.Errorf("%s: version %d, displayName %q, members %v; want %d, %q, %v", st.name,
				got.Meta.Version, got.DisplayName, memberValues(got.Members), st.wantVersion, st.wantName, st.wantMembers)
		}
		if sg := mustSyncedGroup(t, s, ownerA, "gkey-Team"); sg.Hash != w.Hash || sg.DisplayName != st.wantName {
			t.Errorf("%s: SyncedGroup = %+v, want hash %q, displayName %q", st.name, sg, w.Hash, st.wantName)
		}
	}
	missing := groupWrite("Ghost")
	missing.Group.ID = "00000000-0000-4000-8000-00000000dead"
	err := s.ApplyGroups(ctx(t), ownerA, storage.GroupBatch{Update: []storage.GroupWrite{missing}})
	wantErr(t, "ApplyGroups updating an unknown group", err, storage.ErrNotFound)
}

func testApplyGroupsMembersOnly(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob")
	team := syncedGroup(t, s, ownerA, groupWrite("Team"))
	w := storage.GroupWrite{
		Group: storage.Group{ID: team.ID, DisplayName: "ignored"},
		Key:   "ignored", Hash: "ignored",
		Members:     &storage.MemberChange{Add: []storage.Member{um(users["alice"].ID), um(users["bob"].ID)}},
		MembersOnly: true,
	}
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Update: []storage.GroupWrite{w}})
	got := mustGetGroup(t, s, team.ID, true)
	if got.DisplayName != "Team" || got.ExternalID != "ext-Team" || got.Meta.Version != team.Meta.Version+1 {
		t.Errorf("after MembersOnly: %q, %q, version %d; want Team, ext-Team, %d",
			got.DisplayName, got.ExternalID, got.Meta.Version, team.Meta.Version+1)
	}
	if want := []string{users["alice"].ID, users["bob"].ID}; !sameSet(memberValues(got.Members), want) {
		t.Errorf("members = %v, want %v", memberValues(got.Members), want)
	}
	if sg := mustSyncedGroup(t, s, ownerA, "gkey-Team"); sg.Hash != "ghash-Team" {
		t.Errorf("MembersOnly changed the hash to %q", sg.Hash)
	}
}

func testApplyGroupsDelete(t *testing.T, s storage.Store) {
	alice := createSynced(t, s, ownerA, "alice")["alice"]
	child := groupWrite("Child")
	child.Group.Members = []storage.Member{um(alice.ID)}
	c := syncedGroup(t, s, ownerA, child)
	theirs := syncedGroup(t, s, ownerB, groupWrite("Theirs"))
	parent := mustCreateGroup(t, s, storage.Group{DisplayName: "Parent", Members: []storage.Member{gm(c.ID), um(alice.ID)}})

	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Delete: []string{c.ID, theirs.ID}})
	_, err := s.GetGroup(ctx(t), c.ID, false)
	wantErr(t, "GetGroup after Delete", err, storage.ErrNotFound)
	mustGetGroup(t, s, theirs.ID, false) // another owner's group is skipped
	got := mustGetGroup(t, s, parent.ID, true)
	if !slices.Equal(memberValues(got.Members), []string{alice.ID}) || got.Meta.Version != parent.Meta.Version+1 {
		t.Errorf("parent after Delete: members %v, version %d; want [%s], %d",
			memberValues(got.Members), got.Meta.Version, alice.ID, parent.Meta.Version+1)
	}
	mustGetUser(t, s, alice.ID)
}

func testMemberIDs(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob")
	empty := syncedGroup(t, s, ownerA, groupWrite("Empty"))
	w := groupWrite("Team")
	w.Group.Members = []storage.Member{um(users["bob"].ID), um(users["alice"].ID), gm(empty.ID)}
	team := syncedGroup(t, s, ownerA, w)

	teamMembers := []string{users["alice"].ID, users["bob"].ID, empty.ID}
	slices.Sort(teamMembers)
	for id, want := range map[string][]string{team.ID: teamMembers, empty.ID: {}} {
		got, err := s.MemberIDs(ctx(t), id)
		if err != nil || !slices.Equal(got, want) || got == nil {
			t.Errorf("MemberIDs(%s) = %#v, %v; want %#v", id, got, err, want)
		}
	}
	_, err := s.MemberIDs(ctx(t), "00000000-0000-4000-8000-00000000dead")
	wantErr(t, "MemberIDs(unknown group)", err, storage.ErrNotFound)
}

func testEachSyncedGroup(t *testing.T, s storage.Store) {
	const mine = 1200
	var b storage.GroupBatch
	var want []string
	for i := range mine {
		w := groupWrite(fmt.Sprintf("g%04d", (i*7919)%mine))
		b.Create = append(b.Create, w)
		want = append(want, w.Key)
	}
	mustApplyGroups(t, s, ownerA, b)
	syncedGroup(t, s, ownerB, groupWrite("theirs"))
	mustCreateGroup(t, s, storage.Group{Owner: ownerA, DisplayName: "manual"})
	slices.Sort(want)

	var got []storage.SyncedGroup
	if err := s.EachSyncedGroup(ctx(t), ownerA, func(g storage.SyncedGroup) error {
		got = append(got, g)
		return nil
	}); err != nil {
		t.Fatalf("EachSyncedGroup: %v", err)
	}
	keys := make([]string, len(got))
	for i, g := range got {
		keys[i] = g.Key
		want := storage.SyncedGroup{ID: g.ID, Key: g.Key, Hash: "ghash-" + g.DisplayName, DisplayName: g.DisplayName}
		if g.ID == "" || !reflect.DeepEqual(g, want) || "gkey-"+g.DisplayName != g.Key {
			t.Errorf("EachSyncedGroup gave %+v", g)
		}
	}
	if !slices.Equal(keys, want) {
		t.Errorf("EachSyncedGroup visited %d keys, want %d in key order", len(keys), len(want))
	}
	err := s.EachSyncedGroup(ctx(t), ownerA, func(storage.SyncedGroup) error { return errTest })
	wantErr(t, "EachSyncedGroup with a failing callback", err, errTest)
}
