package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var syncTests = []subtest{
	{"ApplyUsersCreate", testApplyUsersCreate},
	{"ApplyUsersUpdate", testApplyUsersUpdate},
	{"ApplyUsersAlwaysBumps", testApplyUsersAlwaysBumps},
	{"ApplyUsersTakeover", testApplyUsersTakeover},
	{"ApplyUsersConflictChangesNothing", testApplyUsersConflict},
	{"ApplyUsersUpdateNotFound", testApplyUsersUpdateNotFound},
	{"Deactivate", testApplyUsersDeactivate},
	{"Delete", testApplyUsersDelete},
	{"SetManagers", testSetManagers},
	{"EachSyncedUser", testEachSyncedUser},
	{"CountOwned", testCountOwned},
	{"ClaimsByUserName", testClaimsByUserName},
	{"ProgressInTheWriteTransaction", testSyncProgress},
}

const (
	ownerA = storage.SourceOwnerPrefix + "a"
	ownerB = storage.SourceOwnerPrefix + "b"
)

// userWrite is a synced user with a key and hash derived from its name.
func userWrite(userName string) storage.UserWrite {
	u := user(userName)
	u.DisplayName = "Display " + userName
	u.Emails = []storage.MultiValue{{Value: userName + "@example.com", Type: "work", Primary: true}}
	return storage.UserWrite{User: u, Key: "key-" + userName, Hash: "hash-" + userName}
}

func mustApplyUsers(t *testing.T, s storage.Store, owner string, b storage.UserBatch) {
	t.Helper()
	if err := s.ApplyUsers(ctx(t), owner, b); err != nil {
		t.Fatalf("ApplyUsers(%s): %v", owner, err)
	}
}

func mustSyncedUsers(t *testing.T, s storage.Store, owner string, keys ...string) map[string]storage.SyncedUser {
	t.Helper()
	got, err := s.SyncedUsers(ctx(t), owner, keys)
	if err != nil {
		t.Fatalf("SyncedUsers(%s): %v", owner, err)
	}
	return got
}

// mustSyncedUser returns the one synced user owner holds under key.
func mustSyncedUser(t *testing.T, s storage.Store, owner, key string) storage.SyncedUser {
	t.Helper()
	su, ok := mustSyncedUsers(t, s, owner, key)[key]
	if !ok {
		t.Fatalf("SyncedUsers(%s, %s): not found", owner, key)
	}
	return su
}

// createSynced applies creates for the given userNames and returns the
// stored users by userName.
func createSynced(t *testing.T, s storage.Store, owner string, names ...string) map[string]storage.User {
	t.Helper()
	var b storage.UserBatch
	for _, n := range names {
		b.Create = append(b.Create, userWrite(n))
	}
	mustApplyUsers(t, s, owner, b)
	out := map[string]storage.User{}
	for _, n := range names {
		out[n] = mustGetUser(t, s, mustSyncedUser(t, s, owner, "key-"+n).ID)
	}
	return out
}

func testApplyUsersCreate(t *testing.T, s storage.Store) {
	preset := userWrite("Preset.ID")
	preset.User.ID = "2f1d7a46-0000-4000-8000-000000000001"
	before := time.Now()
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Create: []storage.UserWrite{userWrite("alice"), preset}})
	after := time.Now()

	synced := mustSyncedUsers(t, s, ownerA, "key-alice", "key-Preset.ID", "key-unknown")
	if len(synced) != 2 {
		t.Fatalf("SyncedUsers = %v, want alice and Preset.ID only", synced)
	}
	if synced["key-Preset.ID"].ID != preset.User.ID {
		t.Errorf("Create with an ID: stored as %q, want %q", synced["key-Preset.ID"].ID, preset.User.ID)
	}
	for _, w := range []storage.UserWrite{userWrite("alice"), preset} {
		su := synced[w.Key]
		want := storage.SyncedUser{ID: su.ID, Owner: ownerA, Key: w.Key, Hash: w.Hash, UserName: strings.ToLower(w.User.UserName), Active: true}
		if su.ID == "" || su != want {
			t.Errorf("SyncedUsers[%s] = %+v, want %+v", w.Key, su, want)
		}
		got := mustGetUser(t, s, su.ID)
		if got.Owner != ownerA {
			t.Errorf("GetUser(%s).Owner = %q, want %q", w.User.UserName, got.Owner, ownerA)
		}
		checkFreshMeta(t, "ApplyUsers create", got.Meta, before, after)
		checkSameDoc(t, "ApplyUsers create", got, w.User)
	}
	if other := mustSyncedUsers(t, s, ownerB, "key-alice"); len(other) != 0 {
		t.Errorf("SyncedUsers of another owner = %v, want none", other)
	}
}

func testApplyUsersUpdate(t *testing.T, s storage.Store) {
	alice := createSynced(t, s, ownerA, "alice")["alice"]
	w := userWrite("alice")
	w.User.ID, w.Hash = alice.ID, "hash-2"
	w.User.Title = "Engineer"
	w.User.Emails = []storage.MultiValue{{Value: "alice@new.example.org", Type: "home"}}
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})

	got := mustGetUser(t, s, alice.ID)
	checkSameDoc(t, "after update", got, w.User)
	if got.Meta.Version != alice.Meta.Version+1 || !got.Meta.Created.Equal(alice.Meta.Created) ||
		got.Meta.LastModified.Before(alice.Meta.LastModified) {
		t.Errorf("meta after update = %+v, want version %d, created %v, lastModified not before %v",
			got.Meta, alice.Meta.Version+1, alice.Meta.Created, alice.Meta.LastModified)
	}
	if su := mustSyncedUser(t, s, ownerA, "key-alice"); su.Hash != "hash-2" {
		t.Errorf("hash after update = %q, want hash-2", su.Hash)
	}
	// The multi-valued rows follow the document.
	for email, want := range map[string][]string{"alice@new.example.org": {"alice"}, "alice@example.com": nil} {
		names, _ := listUserNames(t, s, storage.Query{Filter: emails(value(storage.OpEq, email)), Limit: 10})
		if !sameSet(names, want) {
			t.Errorf("users with email %s = %v, want %v", email, names, want)
		}
	}
	names, _ := listUserNames(t, s, storage.Query{Filter: cmp(storage.AttrTitle, storage.OpEq, "engineer"), Limit: 10})
	if !slices.Equal(names, []string{"alice"}) {
		t.Errorf("users with title engineer = %v, want [alice]", names)
	}
}

// The store bumps on every write it is given; skipping unchanged records
// is the engine's job.
func testApplyUsersAlwaysBumps(t *testing.T, s storage.Store) {
	alice := createSynced(t, s, ownerA, "alice")["alice"]
	w := userWrite("alice")
	w.User.ID = alice.ID
	for i := 1; i <= 2; i++ {
		mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})
		if got := mustGetUser(t, s, alice.ID); got.Meta.Version != alice.Meta.Version+int64(i) {
			t.Errorf("identical update %d: version = %d, want %d", i, got.Meta.Version, alice.Meta.Version+int64(i))
		}
	}
}

func testApplyUsersTakeover(t *testing.T, s storage.Store) {
	pushed := mustCreateUser(t, s, storage.User{Owner: "scim:okta", UserName: "bob", Active: true})
	w := userWrite("Bob")
	w.User.ID = pushed.ID
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})
	got := mustGetUser(t, s, pushed.ID)
	if got.Owner != ownerA || got.UserName != "Bob" || got.Meta.Version != pushed.Meta.Version+1 {
		t.Errorf("after takeover: owner %q, userName %q, version %d; want %q, Bob, %d",
			got.Owner, got.UserName, got.Meta.Version, ownerA, pushed.Meta.Version+1)
	}
	if su := mustSyncedUser(t, s, ownerA, "key-Bob"); su.ID != pushed.ID {
		t.Errorf("SyncedUsers after takeover: id %q, want %q", su.ID, pushed.ID)
	}
}

// storeSnapshot is everything a failed batch must leave as it was.
type storeSnapshot struct {
	users  []storage.UserDoc
	synced []storage.SyncedUser
	groups []storage.Group
}

func snapshot(t *testing.T, s storage.Store, owner string) storeSnapshot {
	t.Helper()
	var snap storeSnapshot
	snap.users = mustListUsers(t, s, storage.Query{SortBy: storage.AttrUserName, Limit: 10000}).Users
	if err := s.EachSyncedUser(ctx(t), owner, func(u storage.SyncedUser) error {
		snap.synced = append(snap.synced, u)
		return nil
	}); err != nil {
		t.Fatalf("EachSyncedUser: %v", err)
	}
	snap.groups = mustListGroups(t, s, storage.Query{SortBy: storage.AttrDisplayName, Limit: 1000}, true).Groups
	return snap
}

func testApplyUsersConflict(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob", "carol", "dave")
	mustCreateGroup(t, s, storage.Group{DisplayName: "Team", Members: []storage.Member{um(users["dave"].ID)}})
	mustCreateUser(t, s, storage.User{Owner: "scim:hr", UserName: "Taken", Active: true})
	bob := userWrite("bob")
	bob.User.ID, bob.User.Title, bob.Hash = users["bob"].ID, "changed", "changed"

	// Sixty-four creates go into the store as one multi-row statement; the
	// clash at row 50 must undo the 49 rows before it too.
	var many []storage.UserWrite
	for i := range 63 {
		many = append(many, userWrite(fmt.Sprintf("many%02d", i)))
	}
	many = slices.Insert(many, 50, userWrite("MANY07"))
	for name, creates := range map[string][]storage.UserWrite{
		"create takes another owner's userName":        {userWrite("erin"), userWrite("TAKEN")},
		"create takes a userName of the batch":         {userWrite("erin"), userWrite("ERIN")},
		"a late row of a multi-row insert clashes too": many,
	} {
		t.Run(name, func(t *testing.T) {
			before := snapshot(t, s, ownerA)
			err := s.ApplyUsers(ctx(t), ownerA, storage.UserBatch{
				Create:     creates,
				Update:     []storage.UserWrite{bob},
				Deactivate: []string{users["carol"].ID},
				Delete:     []string{users["dave"].ID},
			})
			wantErr(t, "ApplyUsers with a userName collision", err, storage.ErrConflict)
			if after := snapshot(t, s, ownerA); !reflect.DeepEqual(after, before) {
				t.Errorf("failed batch changed the store:\n got: %+v\nwant: %+v", after, before)
			}
		})
	}
}

func testApplyUsersUpdateNotFound(t *testing.T, s storage.Store) {
	w := userWrite("ghost")
	w.User.ID = "00000000-0000-4000-8000-00000000dead"
	err := s.ApplyUsers(ctx(t), ownerA, storage.UserBatch{Create: []storage.UserWrite{userWrite("alice")}, Update: []storage.UserWrite{w}})
	wantErr(t, "ApplyUsers updating an unknown id", err, storage.ErrNotFound)
	if got := mustSyncedUsers(t, s, ownerA, "key-alice"); len(got) != 0 {
		t.Errorf("the failed batch's create was kept: %v", got)
	}
}

func testApplyUsersDeactivate(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob")
	alice := users["alice"]
	before := time.Now()
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Deactivate: []string{alice.ID, "00000000-0000-4000-8000-00000000dead"}})
	after := time.Now()

	got := mustGetUser(t, s, alice.ID)
	if got.Active || got.Meta.Version != alice.Meta.Version+1 {
		t.Errorf("deactivated user: active %v, version %d; want false, %d", got.Active, got.Meta.Version, alice.Meta.Version+1)
	}
	want := alice
	want.Active = false
	checkSameDoc(t, "deactivated user", got, want)
	names, _ := listUserNames(t, s, storage.Query{Filter: cmp(storage.AttrActive, storage.OpEq, false), Limit: 10})
	if !slices.Equal(names, []string{"alice"}) {
		t.Errorf("users with active eq false = %v, want [alice]", names)
	}
	su := mustSyncedUser(t, s, ownerA, "key-alice")
	if su.Active || su.DeactivatedAt.Before(before.Add(-time.Second)) || su.DeactivatedAt.After(after.Add(time.Second)) {
		t.Errorf("SyncedUser after Deactivate = %+v, want inactive, deactivated between %v and %v", su, before, after)
	}
	if bob := mustSyncedUser(t, s, ownerA, "key-bob"); !bob.DeactivatedAt.IsZero() || !bob.Active {
		t.Errorf("untouched user: %+v, want active, not deactivated", bob)
	}

	// A sync update that keeps the user inactive keeps the date.
	w := userWrite("alice")
	w.User.ID, w.User.Active = alice.ID, false
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})
	if again := mustSyncedUser(t, s, ownerA, "key-alice"); !again.DeactivatedAt.Equal(su.DeactivatedAt) {
		t.Errorf("inactive update: deactivatedAt = %v, want %v kept", again.DeactivatedAt, su.DeactivatedAt)
	}
	// Reactivation by a sync update clears it...
	w.User.Active = true
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Update: []storage.UserWrite{w}})
	if re := mustSyncedUser(t, s, ownerA, "key-alice"); !re.Active || !re.DeactivatedAt.IsZero() {
		t.Errorf("after reactivating update: %+v, want active, deactivatedAt zero", re)
	}
	// ... and so does any other write that sets active=true.
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Deactivate: []string{alice.ID}})
	if _, err := s.UpdateUser(ctx(t), alice.ID, func(u *storage.User) error { u.Active = true; return nil }); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if re := mustSyncedUser(t, s, ownerA, "key-alice"); !re.Active || !re.DeactivatedAt.IsZero() {
		t.Errorf("after UpdateUser active=true: %+v, want active, deactivatedAt zero", re)
	}
}

func testApplyUsersDelete(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob")
	other := createSynced(t, s, ownerB, "carol")["carol"]
	team := mustCreateGroup(t, s, storage.Group{DisplayName: "Team", Members: []storage.Member{
		um(users["alice"].ID), um(users["bob"].ID), um(other.ID)}})

	// Another owner's user and unknown ids are skipped.
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Delete: []string{users["alice"].ID, other.ID, "00000000-0000-4000-8000-00000000dead"}})
	_, err := s.GetUser(ctx(t), users["alice"].ID)
	wantErr(t, "GetUser after Delete", err, storage.ErrNotFound)
	mustGetUser(t, s, other.ID)
	got := mustGetGroup(t, s, team.ID, true)
	if want := []string{users["bob"].ID, other.ID}; !sameSet(memberValues(got.Members), want) {
		t.Errorf("members after Delete = %v, want %v", memberValues(got.Members), want)
	}
	if got.Meta.Version != team.Meta.Version+1 {
		t.Errorf("group version after its member was deleted = %d, want %d", got.Meta.Version, team.Meta.Version+1)
	}
	if left := mustSyncedUsers(t, s, ownerA, "key-alice", "key-bob"); len(left) != 1 || left["key-bob"].ID == "" {
		t.Errorf("SyncedUsers after Delete = %v, want bob only", left)
	}
}

func testSetManagers(t *testing.T, s storage.Store) {
	users := createSynced(t, s, ownerA, "alice", "bob", "carol")
	alice, bob, carol := users["alice"], users["bob"], users["carol"]
	fixes := map[string]storage.ManagerFix{
		bob.ID:                                 {ManagerID: alice.ID, Hash: "bob-with-manager"},
		carol.ID:                               {ManagerID: alice.ID, Hash: "carol-with-manager"},
		"00000000-0000-4000-8000-00000000dead": {ManagerID: alice.ID, Hash: "x"},
	}
	if err := s.SetManagers(ctx(t), fixes); err != nil {
		t.Fatalf("SetManagers: %v", err)
	}
	for _, u := range []storage.User{bob, carol} {
		got := mustGetUser(t, s, u.ID)
		if got.Enterprise == nil || got.Enterprise.Manager == nil || got.Enterprise.Manager.Value != alice.ID {
			t.Errorf("%s: enterprise = %+v, want manager %s", u.UserName, got.Enterprise, alice.ID)
		}
		if got.Meta.Version != u.Meta.Version+1 {
			t.Errorf("%s: version = %d, want %d", u.UserName, got.Meta.Version, u.Meta.Version+1)
		}
		if su := mustSyncedUser(t, s, ownerA, "key-"+u.UserName); su.Hash != fixes[u.ID].Hash {
			t.Errorf("%s: hash = %q, want %q", u.UserName, su.Hash, fixes[u.ID].Hash)
		}
	}
	names, _ := listUserNames(t, s, storage.Query{Filter: cmp(storage.AttrManager, storage.OpEq, alice.ID), Limit: 10})
	if !sameSet(names, []string{"bob", "carol"}) {
		t.Errorf("users managed by alice = %v, want bob and carol", names)
	}

	// The same manager with a new hash records the hash only.
	if err := s.SetManagers(ctx(t), map[string]storage.ManagerFix{bob.ID: {ManagerID: alice.ID, Hash: "rehashed"}}); err != nil {
		t.Fatalf("SetManagers again: %v", err)
	}
	if got := mustGetUser(t, s, bob.ID); got.Meta.Version != bob.Meta.Version+1 {
		t.Errorf("unchanged manager: version = %d, want %d", got.Meta.Version, bob.Meta.Version+1)
	}
	if su := mustSyncedUser(t, s, ownerA, "key-bob"); su.Hash != "rehashed" {
		t.Errorf("unchanged manager: hash = %q, want rehashed", su.Hash)
	}
}

func testEachSyncedUser(t *testing.T, s storage.Store) {
	const mine, theirs = 2500, 300
	var want []string
	for start := 0; start < mine; start += 500 {
		var b storage.UserBatch
		for i := start; i < start+500; i++ {
			w := userWrite(fmt.Sprintf("a%04d", (i*7919)%mine)) // keys arrive out of order
			b.Create = append(b.Create, w)
			want = append(want, w.Key)
		}
		mustApplyUsers(t, s, ownerA, b)
	}
	var b storage.UserBatch
	for i := range theirs {
		b.Create = append(b.Create, userWrite(fmt.Sprintf("b%04d", i)))
	}
	mustApplyUsers(t, s, ownerB, b)
	// A user owner holds without a source key is not a synced user.
	mustCreateUser(t, s, storage.User{Owner: ownerA, UserName: "manual", Active: true})
	slices.Sort(want)

	var got []string
	err := s.EachSyncedUser(ctx(t), ownerA, func(u storage.SyncedUser) error {
		if u.Owner != ownerA || u.ID == "" || u.Hash != "hash-"+u.UserName {
			t.Errorf("EachSyncedUser gave %+v", u)
		}
		got = append(got, u.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("EachSyncedUser: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("EachSyncedUser visited %d keys (first %v), want %d in key order", len(got), got[:min(len(got), 3)], len(want))
	}

	calls := 0
	err = s.EachSyncedUser(ctx(t), ownerA, func(storage.SyncedUser) error { calls++; return errTest })
	wantErr(t, "EachSyncedUser with a failing callback", err, errTest)
	if calls != 1 {
		t.Errorf("callback ran %d times after failing, want 1", calls)
	}
}

func testCountOwned(t *testing.T, s storage.Store) {
	createSynced(t, s, ownerA, "alice", "bob")
	createSynced(t, s, ownerB, "carol")
	mustCreateUser(t, s, storage.User{Owner: ownerA, UserName: "manual", Active: true})
	mustApplyGroups(t, s, ownerA, storage.GroupBatch{Create: []storage.GroupWrite{groupWrite("Team")}})
	for owner, want := range map[string][2]int{ownerA: {3, 1}, ownerB: {1, 0}, "source:none": {0, 0}} {
		users, groups, err := s.CountOwned(ctx(t), owner)
		if err != nil || users != want[0] || groups != want[1] {
			t.Errorf("CountOwned(%s) = %d, %d, %v; want %d, %d", owner, users, groups, err, want[0], want[1])
		}
	}
}

func testClaimsByUserName(t *testing.T, s storage.Store) {
	alice := createSynced(t, s, ownerA, "Alice")["Alice"]
	bob := mustCreateUser(t, s, storage.User{Owner: "scim:hr", UserName: "bob", Active: true})
	got, err := s.ClaimsByUserName(ctx(t), []string{"ALICE", "Bob", "nobody"})
	if err != nil {
		t.Fatalf("ClaimsByUserName: %v", err)
	}
	want := map[string]storage.UserClaim{
		"alice": {ID: alice.ID, Owner: ownerA, Key: "key-Alice"},
		"bob":   {ID: bob.ID, Owner: "scim:hr"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ClaimsByUserName = %+v, want %+v", got, want)
	}
}
