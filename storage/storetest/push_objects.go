package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

func pushObject(appID, kind, localID, state string) storage.PushObject {
	return storage.PushObject{AppID: appID, Kind: kind, LocalID: localID, TargetID: "t-" + localID,
		Origin: storage.PushCreated, State: state, Hash: "h-" + localID}
}

func mustSavePushObjects(t *testing.T, s storage.Store, objs ...storage.PushObject) {
	t.Helper()
	if err := s.SavePushObjects(ctx(t), objs); err != nil {
		t.Fatalf("SavePushObjects: %v", err)
	}
}

func eachPushObject(t *testing.T, s storage.Store, appID, kind string) []storage.PushObject {
	t.Helper()
	var out []storage.PushObject
	if err := s.EachPushObject(ctx(t), appID, kind, func(o storage.PushObject) error { out = append(out, o); return nil }); err != nil {
		t.Fatalf("EachPushObject: %v", err)
	}
	return out
}

func localIDs(objs []storage.PushObject) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, o.LocalID)
	}
	return out
}

func testPushObjects(t *testing.T, s storage.Store, clock *testClock) {
	app, other := pushApp(t, s, "slack"), pushApp(t, s, "zoom")
	// More objects than one page of EachPushObject and one upsert
	// statement, saved in an order that is not the local ids'.
	const n = 2345
	var objs []storage.PushObject
	for i := range n {
		objs = append(objs, pushObject(app.ID, "User", fmt.Sprintf("u%05d", (i*7919)%n), storage.PushActive))
	}
	mustSavePushObjects(t, s, objs...)
	mustSavePushObjects(t, s, pushObject(app.ID, "Group", "u00001", storage.PushActive), pushObject(other.ID, "User", "u00001", storage.PushActive))

	all := eachPushObject(t, s, app.ID, "User")
	if len(all) != n {
		t.Fatalf("EachPushObject: %d objects, want %d", len(all), n)
	}
	for i, o := range all {
		want := pushObject(app.ID, "User", fmt.Sprintf("u%05d", i), storage.PushActive)
		want.Updated = viewEpoch
		if !reflect.DeepEqual(o, want) {
			t.Fatalf("EachPushObject[%d] = %+v, want %+v", i, o, want)
		}
	}

	clock.advance(time.Minute)
	at := viewEpoch.Add(30 * time.Second)
	changed := pushObject(app.ID, "User", "u00002", storage.PushDeactivated)
	changed.TargetID, changed.Origin, changed.Hash, changed.Error, changed.Updated = "T-2", storage.PushClaimed, "", "404 not found", at
	creating := pushObject(app.ID, "User", "new", storage.PushCreating)
	creating.TargetID = ""
	stale := changed
	stale.Hash = "stale"
	mustSavePushObjects(t, s, stale, creating, changed) // the later of one key wins
	got, err := s.PushObjects(ctx(t), app.ID, "User", []string{"u00002", "new", "u00003", "unknown"})
	if err != nil {
		t.Fatalf("PushObjects: %v", err)
	}
	creating.Updated = clock.Now()
	want3 := pushObject(app.ID, "User", "u00003", storage.PushActive)
	want3.Updated = viewEpoch
	want := map[string]storage.PushObject{"u00002": changed, "new": creating, "u00003": want3}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PushObjects =\n %+v\nwant\n %+v", got, want)
	}
	if g, _ := s.PushObjects(ctx(t), app.ID, "Group", []string{"u00001", "u00002"}); len(g) != 1 || g["u00001"].Kind != "Group" {
		t.Errorf("PushObjects(Group) = %+v, want only the group u00001", g)
	}

	if err := s.DeletePushObjects(ctx(t), app.ID, "User", []string{"u00002", "new", "unknown"}); err != nil {
		t.Fatalf("DeletePushObjects: %v", err)
	}
	if got := eachPushObject(t, s, app.ID, "User"); len(got) != n-1 || slices.Contains(localIDs(got), "u00002") {
		t.Errorf("after delete: %d objects (u00002 there: %v), want %d without it", len(got), slices.Contains(localIDs(got), "u00002"), n-1)
	}
	if got := eachPushObject(t, s, app.ID, "Group"); !slices.Equal(localIDs(got), []string{"u00001"}) {
		t.Errorf("groups after deleting users: %v, want [u00001]", localIDs(got))
	}
	if got := eachPushObject(t, s, other.ID, "User"); !slices.Equal(localIDs(got), []string{"u00001"}) {
		t.Errorf("other app's objects: %v, want [u00001]", localIDs(got))
	}
	stop := fmt.Errorf("stop: %w", errTest)
	calls := 0
	err = s.EachPushObject(ctx(t), app.ID, "User", func(storage.PushObject) error { calls++; return stop })
	if calls != 1 {
		t.Errorf("EachPushObject went on after fn failed: %d calls", calls)
	}
	wantErr(t, "EachPushObject with a failing fn", err, errTest)
}

func testPushObjectsInvalid(t *testing.T, s storage.Store, _ *testClock) {
	app := pushApp(t, s, "slack")
	for _, o := range []storage.PushObject{
		{Kind: "User", LocalID: "u"},
		{AppID: app.ID, LocalID: "u"},
		{AppID: app.ID, Kind: "User"},
	} {
		err := s.SavePushObjects(ctx(t), []storage.PushObject{pushObject(app.ID, "User", "ok", storage.PushActive), o})
		wantErr(t, fmt.Sprintf("SavePushObjects(%+v)", o), err, storage.ErrInvalid)
	}
	if got := eachPushObject(t, s, app.ID, "User"); len(got) != 0 {
		t.Errorf("a refused save stored %v", localIDs(got))
	}
	_, err := s.PushOrphans(ctx(t), app.ID, "Widget")
	wantErr(t, "PushOrphans(Widget)", err, storage.ErrInvalid)
}

func testPushOrphanUsers(t *testing.T, s storage.Store, clock *testClock) {
	stay, leaver, graced, deleted, outsider := mustCreateUser(t, s, user("stay")), mustCreateUser(t, s, user("leaver")),
		mustCreateUser(t, s, user("graced")), mustCreateUser(t, s, user("deleted")), mustCreateUser(t, s, user("outsider"))
	strict := mustCreateApp(t, s, storage.App{Name: "strict", Push: fullPush()})
	lenient := mustCreateApp(t, s, storage.App{Name: "lenient", Push: fullPush(), LeaveGraceDays: week})
	for _, app := range []storage.App{strict, lenient} {
		var objs []storage.PushObject
		for _, u := range []storage.User{stay, leaver, graced, deleted} {
			objs = append(objs, pushObject(app.ID, "User", u.ID, storage.PushActive))
		}
		creating := pushObject(app.ID, "User", "never-existed", storage.PushCreating)
		gone := pushObject(app.ID, "User", "already-deactivated", storage.PushDeactivated)
		objs = append(objs, creating, gone)
		mustSavePushObjects(t, s, objs...)
	}
	mustSavePushObjects(t, s, pushObject(strict.ID, "Group", stay.ID, storage.PushActive))
	_ = outsider
	mustUpdateUser(t, s, leaver.ID, func(u *storage.User) { u.Active = false })
	mustUpdateUser(t, s, graced.ID, func(u *storage.User) { u.Active = false })
	if err := s.DeleteUser(ctx(t), deleted.ID, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	orphans := func(app storage.App) []string {
		t.Helper()
		got, err := s.PushOrphans(ctx(t), app.ID, "User")
		if err != nil {
			t.Fatalf("PushOrphans: %v", err)
		}
		for _, o := range got {
			if o.AppID != app.ID || o.Kind != "User" || o.TargetID != "t-"+o.LocalID {
				t.Errorf("orphan %+v does not carry its bookkeeping", o)
			}
		}
		return localIDs(got)
	}
	// Without grace the leavers are orphans at once; within grace only
	// the create that never had a local user: a user deleted outright
	// leaves as any departure does, after the grace.
	if got, want := orphans(strict), sortedIDs(leaver.ID, graced.ID, deleted.ID, "never-existed"); !slices.Equal(got, want) {
		t.Errorf("strict orphans = %v, want %v", got, want)
	}
	if got, want := orphans(lenient), sortedIDs("never-existed"); !slices.Equal(got, want) {
		t.Errorf("lenient orphans within grace = %v, want %v", got, want)
	}
	clock.advance(week*24*time.Hour + time.Minute)
	if got, want := orphans(lenient), sortedIDs(leaver.ID, graced.ID, deleted.ID, "never-existed"); !slices.Equal(got, want) {
		t.Errorf("lenient orphans past grace = %v, want %v", got, want)
	}
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func testPushOrphanGroups(t *testing.T, s storage.Store, _ *testClock) {
	u := mustCreateUser(t, s, user("u"))
	sales := mustCreateGroup(t, s, storage.Group{DisplayName: "Sales", Members: []storage.Member{userMember(u.ID)}})
	emea := mustCreateGroup(t, s, storage.Group{DisplayName: "EMEA"})
	empty := mustCreateGroup(t, s, storage.Group{DisplayName: "Empty"})
	doomed := mustCreateGroup(t, s, storage.Group{DisplayName: "Doomed", Members: []storage.Member{userMember(u.ID)}})
	mustUpdateMembers(t, s, sales.ID, storage.MemberChange{Add: []storage.Member{groupMember(emea.ID)}})
	scoped := mustCreateApp(t, s, storage.App{Name: "scoped", Push: fullPush(), Scope: storage.AppScope{Groups: []string{"sales"}}})
	all := mustCreateApp(t, s, storage.App{Name: "all", Push: fullPush(), Groups: storage.GroupsAll})
	everyone := mustCreateApp(t, s, storage.App{Name: "everyone", Push: fullPush()})
	none := mustCreateApp(t, s, storage.App{Name: "none", Push: fullPush(), Groups: storage.GroupsNone})
	for _, app := range []storage.App{scoped, all, everyone, none} {
		var objs []storage.PushObject
		for _, g := range []storage.Group{sales, emea, empty, doomed} {
			objs = append(objs, pushObject(app.ID, "Group", g.ID, storage.PushActive))
		}
		mustSavePushObjects(t, s, objs...)
	}
	if err := s.DeleteGroup(ctx(t), doomed.ID, nil); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	for _, tc := range []struct {
		app  storage.App
		want []string
	}{
		{scoped, sortedIDs(empty.ID, doomed.ID)},       // scope: Sales and EMEA nested in it
		{all, sortedIDs(emea.ID, empty.ID, doomed.ID)}, // all: groups holding a user in view
		{everyone, sortedIDs(doomed.ID)},               // no scope groups: every group that exists
		{none, sortedIDs(sales.ID, emea.ID, empty.ID, doomed.ID)},
	} {
		got, err := s.PushOrphans(ctx(t), tc.app.ID, "Group")
		if err != nil {
			t.Fatalf("PushOrphans(%s): %v", tc.app.Name, err)
		}
		if !slices.Equal(localIDs(got), tc.want) {
			t.Errorf("%s: group orphans %v, want %v", tc.app.Name, localIDs(got), tc.want)
		}
		if users, _ := s.PushOrphans(ctx(t), tc.app.ID, "User"); len(users) != 0 {
			t.Errorf("%s: user orphans %v from group objects", tc.app.Name, localIDs(users))
		}
	}
}

func testPushedMembers(t *testing.T, s storage.Store, _ *testClock) {
	app, other := pushApp(t, s, "slack"), pushApp(t, s, "zoom")
	members := func(appID, group string) []string {
		t.Helper()
		got, err := s.PushedMembers(ctx(t), appID, group)
		if err != nil {
			t.Fatalf("PushedMembers: %v", err)
		}
		return got
	}
	if got := members(app.ID, "g1"); got == nil || len(got) != 0 {
		t.Errorf("PushedMembers before any push = %#v, want empty", got)
	}
	var many []string
	for i := range 2500 {
		many = append(many, fmt.Sprintf("m%04d", i))
	}
	set := func(appID, group string, add, remove []string) {
		t.Helper()
		if err := s.SetPushedMembers(ctx(t), appID, group, add, remove); err != nil {
			t.Fatalf("SetPushedMembers: %v", err)
		}
	}
	set(app.ID, "g1", many, nil)
	set(app.ID, "g1", []string{"m0001", "x"}, nil) // adding one already there is no error
	set(app.ID, "g2", []string{"m0001"}, nil)
	set(other.ID, "g1", []string{"y"}, nil)
	if got := members(app.ID, "g1"); len(got) != 2501 || got[0] != "m0000" || got[2500] != "x" {
		t.Errorf("g1 after adds: %d members (%v ... %v), want 2501 from m0000 to x", len(got), got[:1], got[len(got)-1:])
	}
	set(app.ID, "g1", []string{"z"}, append(slices.Clone(many[1:]), "never-there"))
	if got, want := members(app.ID, "g1"), []string{"m0000", "x", "z"}; !slices.Equal(got, want) {
		t.Errorf("g1 after removes = %v, want %v", got, want)
	}
	if got := members(app.ID, "g2"); !slices.Equal(got, []string{"m0001"}) {
		t.Errorf("g2 = %v, want [m0001]", got)
	}
	if got := members(other.ID, "g1"); !slices.Equal(got, []string{"y"}) {
		t.Errorf("other app's g1 = %v, want [y]", got)
	}
	// Forgetting objects forgets the memberships the target dropped with them.
	mustSavePushObjects(t, s, pushObject(app.ID, "Group", "g2", storage.PushActive), pushObject(app.ID, "User", "x", storage.PushActive))
	if err := s.DeletePushObjects(ctx(t), app.ID, "Group", []string{"g2"}); err != nil {
		t.Fatalf("DeletePushObjects: %v", err)
	}
	if err := s.DeletePushObjects(ctx(t), app.ID, "User", []string{"x"}); err != nil {
		t.Fatalf("DeletePushObjects: %v", err)
	}
	if got := members(app.ID, "g2"); len(got) != 0 {
		t.Errorf("g2 after its object was deleted = %v, want none", got)
	}
	if got, want := members(app.ID, "g1"), []string{"m0000", "z"}; !slices.Equal(got, want) {
		t.Errorf("g1 after member x's object was deleted = %v, want %v", got, want)
	}
}

func testPushDeleteAppCascades(t *testing.T, s storage.Store, _ *testClock) {
	app, keep := pushApp(t, s, "slack"), pushApp(t, s, "zoom")
	for _, a := range []storage.App{app, keep} {
		r, err := s.PushRuns().CreateRun(ctx(t), storage.Run{SourceID: a.ID})
		if err != nil {
			t.Fatalf("CreateRun: %v", err)
		}
		if err := s.PushRuns().AddChanges(ctx(t), r.ID, []storage.Change{{Seq: 1, Action: storage.ChangeCreate, Kind: "User"}}); err != nil {
			t.Fatalf("AddChanges: %v", err)
		}
		if err := s.PushRuns().SetPending(ctx(t), r.ID, pendingList(2)); err != nil {
			t.Fatalf("SetPending: %v", err)
		}
		r.Status = storage.RunHeld
		if _, err := s.PushRuns().FinishRun(ctx(t), r, true, nil); err != nil {
			t.Fatalf("FinishRun: %v", err)
		}
		mustSavePushObjects(t, s, pushObject(a.ID, "User", "u1", storage.PushActive))
		if err := s.SetPushedMembers(ctx(t), a.ID, "g1", []string{"u1"}, nil); err != nil {
			t.Fatalf("SetPushedMembers: %v", err)
		}
	}
	runs, _ := s.PushRuns().ListRuns(ctx(t), app.ID, 10)
	if err := s.DeleteApp(ctx(t), app.ID); err != nil {
		t.Fatalf("DeleteApp: %v", err)
	}
	if got, _ := s.PushRuns().ListRuns(ctx(t), app.ID, 10); len(got) != 0 {
		t.Errorf("runs after DeleteApp: %d", len(got))
	}
	if len(runs) == 1 {
		if _, n, _ := s.PushRuns().ListChanges(ctx(t), runs[0].ID, 0, 10); n != 0 {
			t.Errorf("changes after DeleteApp: %d", n)
		}
		if _, n, _ := s.PushRuns().ListPending(ctx(t), runs[0].ID, 0, 10); n != 0 {
			t.Errorf("pending after DeleteApp: %d", n)
		}
	} else {
		t.Errorf("runs before DeleteApp: %d, want 1", len(runs))
	}
	if got := eachPushObject(t, s, app.ID, "User"); len(got) != 0 {
		t.Errorf("objects after DeleteApp: %v", localIDs(got))
	}
	if got, _ := s.PushedMembers(ctx(t), app.ID, "g1"); len(got) != 0 {
		t.Errorf("pushed members after DeleteApp: %v", got)
	}
	states, _ := s.ListPushStates(ctx(t))
	if len(states) != 1 || states[0].AppID != keep.ID {
		t.Errorf("push states after DeleteApp: %+v, want only the other app's", states)
	}
	if got := eachPushObject(t, s, keep.ID, "User"); len(got) != 1 {
		t.Errorf("the other app's objects: %v, want [u1]", localIDs(got))
	}
	if got, _ := s.PushedMembers(ctx(t), keep.ID, "g1"); len(got) != 1 {
		t.Errorf("the other app's pushed members: %v, want [u1]", got)
	}
}
