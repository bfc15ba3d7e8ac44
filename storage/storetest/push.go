package storetest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// RunPushTests runs the checks of the outbound push's bookkeeping
// (storage.PushStore and App.Push). newStore must return a new empty store
// whose clock is now; it should close the store with t.Cleanup.
func RunPushTests(t *testing.T, newStore func(t *testing.T, now func() time.Time) storage.Store) {
	for _, ct := range pushTests {
		t.Run(ct.name, func(t *testing.T) {
			clock := &testClock{now: viewEpoch}
			ct.run(t, newStore(t, clock.Now), clock)
		})
	}
}

var pushTests = []clockTest{
	{"ConfigRoundTrip", testPushConfigRoundTrip},
	{"PushOnlyUpdateKeepsView", testPushOnlyUpdateKeepsView},
	{"RunsOwnTables", testPushRunsOwnTables},
	{"RunsChangesPending", testPushRunsChangesPending},
	{"FinishRunState", testPushFinishRunState},
	{"StateUnknownApp", testPushStateUnknownApp},
	{"ObjectsUpsertEachDelete", testPushObjects},
	{"ObjectsInvalid", testPushObjectsInvalid},
	{"OrphanUsers", testPushOrphanUsers},
	{"OrphanGroups", testPushOrphanGroups},
	{"PushedMembers", testPushedMembers},
	{"DeleteAppCascades", testPushDeleteAppCascades},
}

// fullPush sets every field of PushConfig.
func fullPush() *storage.PushConfig {
	return &storage.PushConfig{
		URL:  "https://api.example.com/scim/v2",
		Auth: storage.PushAuth{Type: storage.PushAuthOAuth2, TokenURL: "https://login.example.com/token", ClientID: "cid", Scope: "scim.write"},
		Secrets: map[string][]byte{
			storage.PushSecretClientSecret: {0x00, 0xff, 0x10, 'x'},
			storage.PushSecretToken:        {0x01},
		},
		Schedule: "15m", AfterChangeSeconds: 30, Profile: "aws",
		Match: []string{"userName", "externalId"}, OnLeave: storage.OnLeaveDelete,
		Deletion: storage.DeletionLimits{MaxPercent: 12.5, MaxCount: 500},
		Mapping:  storage.SourceMapping{User: map[string]string{"userName": "{emails.work}"}, Group: map[string]string{"displayName": "{displayName}"}},
		Enabled:  true,
	}
}

func checkPush(t *testing.T, what string, got, want *storage.PushConfig) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: push =\n %+v\nwant\n %+v", what, got, want)
	}
}

func testPushConfigRoundTrip(t *testing.T, s storage.Store, _ *testClock) {
	created := mustCreateApp(t, s, storage.App{Name: "slack", Push: fullPush()})
	checkPush(t, "CreateApp", created.Push, fullPush())
	plain := mustCreateApp(t, s, storage.App{Name: "pulled"})
	if plain.Push != nil {
		t.Errorf("app without push: Push = %+v, want nil", plain.Push)
	}
	got, err := s.GetApp(ctx(t), created.ID)
	if err != nil {
		t.Fatalf("GetApp: %v", err)
	}
	checkPush(t, "GetApp by id", got.Push, fullPush())
	// What the store hands out is the caller's to edit.
	got.Push.Secrets[storage.PushSecretToken][0] = 'X'
	clear(got.Push.Secrets)
	got.Push.Match[0] = "edited"
	created.Push.URL = "edited"
	if again, _ := s.GetApp(ctx(t), created.ID); true {
		checkPush(t, "GetApp after the caller edited an earlier result", again.Push, fullPush())
	}
	if got, _ = s.GetApp(ctx(t), "SLACK"); true {
		checkPush(t, "GetApp by name", got.Push, fullPush())
	}
	list, err := s.ListApps(ctx(t))
	if err != nil {
		t.Fatalf("ListApps: %v", err)
	}
	for _, a := range list {
		switch a.Name {
		case "slack":
			checkPush(t, "ListApps", a.Push, fullPush())
		case "pulled":
			checkPush(t, "ListApps (no push)", a.Push, nil)
		}
	}
	want := fullPush()
	want.Secrets[storage.PushSecretToken] = []byte("new-sealed")
	want.Match = []string{"userName"}
	updated, err := s.UpdateApp(ctx(t), created.ID, func(a *storage.App) error {
		a.Push.Secrets[storage.PushSecretToken] = []byte("new-sealed")
		a.Push.Match = []string{"userName"}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateApp: %v", err)
	}
	checkPush(t, "UpdateApp result", updated.Push, want)
	if updated.Version != 2 {
		t.Errorf("UpdateApp of push: version %d, want 2", updated.Version)
	}
	got, _ = s.GetApp(ctx(t), created.ID)
	checkPush(t, "GetApp after UpdateApp", got.Push, want)
	got, _ = s.UpdateApp(ctx(t), created.ID, func(a *storage.App) error { a.Push = nil; return nil })
	checkPush(t, "UpdateApp removing push", got.Push, nil)
	got, _ = s.GetApp(ctx(t), created.ID)
	checkPush(t, "GetApp after removing push", got.Push, nil)
}

func testPushOnlyUpdateKeepsView(t *testing.T, s storage.Store, clock *testClock) {
	a, b := mustCreateUser(t, s, user("a")), mustCreateUser(t, s, user("b"))
	mustCreateGroup(t, s, storage.Group{DisplayName: "Sales", Members: []storage.Member{userMember(a.ID)}})
	app := mustCreateApp(t, s, storage.App{Name: "crm", Scope: storage.AppScope{Groups: []string{"Sales"}}})
	before, err := s.AppMembers(ctx(t), app.ID, time.Time{})
	if err != nil {
		t.Fatalf("AppMembers: %v", err)
	}
	clock.advance(time.Hour)
	if _, err := s.UpdateApp(ctx(t), app.ID, func(x *storage.App) error { x.Push = fullPush(); return nil }); err != nil {
		t.Fatalf("UpdateApp: %v", err)
	}
	clock.advance(time.Hour)
	if _, err := s.UpdateApp(ctx(t), app.ID, func(x *storage.App) error { x.Push.URL = "https://other.example.com/scim"; return nil }); err != nil {
		t.Fatalf("UpdateApp: %v", err)
	}
	after, err := s.AppMembers(ctx(t), app.ID, time.Time{})
	if err != nil {
		t.Fatalf("AppMembers: %v", err)
	}
	if !reflect.DeepEqual(before, after) || len(after) != 1 || after[0].UserID != a.ID {
		t.Errorf("membership after push-only updates = %+v, want unchanged %+v", after, before)
	}
	if v := appView(t, s, app.ID); len(v.in) != 1 || v.in[0] != "a" || len(v.left) != 0 || b.ID == "" {
		t.Errorf("view after push-only updates: %+v, want only a", v)
	}
}

// pushApp creates an app that pushes (scope: every user).
func pushApp(t *testing.T, s storage.Store, name string) storage.App {
	t.Helper()
	return mustCreateApp(t, s, storage.App{Name: name, Push: fullPush()})
}

func testPushRunsOwnTables(t *testing.T, s storage.Store, _ *testClock) {
	app := pushApp(t, s, "slack")
	src := mustCreateSource(t, s, fullSource("AD"))
	pr := s.PushRuns()
	push, err := pr.CreateRun(ctx(t), storage.Run{SourceID: app.ID, Trigger: "manual", Mode: "full"})
	if err != nil {
		t.Fatalf("PushRuns().CreateRun: %v", err)
	}
	if push.ID == "" || push.SourceID != app.ID || push.Status != storage.RunQueued || push.Queued.IsZero() {
		t.Errorf("push run = %+v, want an id, the app, queued", push)
	}
	sync := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual"})

	_, err = pr.CreateRun(ctx(t), storage.Run{SourceID: src.ID})
	wantErr(t, "push run for a source id", err, storage.ErrNotFound)
	_, err = s.CreateRun(ctx(t), storage.Run{SourceID: app.ID})
	wantErr(t, "source run for an app id", err, storage.ErrNotFound)

	got, err := pr.GetRun(ctx(t), app.ID, push.ID)
	if err != nil || got.ID != push.ID {
		t.Errorf("GetRun(push) = %+v, %v", got, err)
	}
	_, err = pr.GetRun(ctx(t), src.ID, sync.ID)
	wantErr(t, "source run read as a push run", err, storage.ErrNotFound)
	_, err = s.GetRun(ctx(t), app.ID, push.ID)
	wantErr(t, "push run read as a source run", err, storage.ErrNotFound)
	_, err = pr.UpdateRun(ctx(t), sync.ID, func(*storage.Run) error { return nil })
	wantErr(t, "UpdateRun of a source run as a push run", err, storage.ErrNotFound)
	_, err = s.UpdateRun(ctx(t), push.ID, func(*storage.Run) error { return nil })
	wantErr(t, "UpdateRun of a push run as a source run", err, storage.ErrNotFound)
	_, err = pr.FinishRun(ctx(t), storage.Run{ID: sync.ID, Status: storage.RunSucceeded}, true, nil)
	wantErr(t, "FinishRun of a source run as a push run", err, storage.ErrNotFound)
	wantErr(t, "AddChanges to a source run as a push run",
		pr.AddChanges(ctx(t), sync.ID, []storage.Change{{Seq: 1, Action: storage.ChangeCreate, Kind: "User"}}), storage.ErrNotFound)
	wantErr(t, "SetPending on a source run as a push run",
		pr.SetPending(ctx(t), sync.ID, pendingList(1)), storage.ErrNotFound)

	second, err := pr.CreateRun(ctx(t), storage.Run{SourceID: app.ID, Queued: push.Queued.Add(time.Second)})
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	runs, err := pr.ListRuns(ctx(t), app.ID, 10)
	if err != nil {
		t.Fatalf("ListRuns: %v", err)
	}
	if len(runs) != 2 || runs[0].ID != second.ID || runs[1].ID != push.ID {
		t.Errorf("push ListRuns = %+v, want the second run then the first", runs)
	}
	if runs, _ := s.ListRuns(ctx(t), app.ID, 10); len(runs) != 0 {
		t.Errorf("source ListRuns(app id) = %+v, want none", runs)
	}
	if runs, _ := pr.ListRuns(ctx(t), src.ID, 10); len(runs) != 0 {
		t.Errorf("push ListRuns(source id) = %+v, want none", runs)
	}
	updated, err := pr.UpdateRun(ctx(t), push.ID, func(r *storage.Run) error {
		r.Status, r.Counts.Created, r.SourceID = storage.RunRunning, 7, "elsewhere"
		return nil
	})
	if err != nil || updated.Status != storage.RunRunning || updated.Counts.Created != 7 || updated.SourceID != app.ID {
		t.Errorf("UpdateRun = %+v, %v; want running, 7 created, same app", updated, err)
	}
}

func testPushRunsChangesPending(t *testing.T, s storage.Store, _ *testClock) {
	app := pushApp(t, s, "slack")
	src := mustCreateSource(t, s, fullSource("AD"))
	pr := s.PushRuns()
	push, err := pr.CreateRun(ctx(t), storage.Run{SourceID: app.ID})
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	sync := mustCreateRun(t, s, storage.Run{SourceID: src.ID})
	changes := []storage.Change{
		{Seq: 1, Action: storage.ChangeCreate, Kind: "User", ResourceID: "u1", Key: "t-1", Name: "alice", Detail: "201"},
		{Seq: 2, Action: storage.ChangeError, Kind: "User", ResourceID: "u2", Name: "bob", Detail: "409 uniqueness"},
	}
	if err := pr.AddChanges(ctx(t), push.ID, changes); err != nil {
		t.Fatalf("AddChanges: %v", err)
	}
	if err := s.AddChanges(ctx(t), sync.ID, changes[:1]); err != nil {
		t.Fatalf("source AddChanges: %v", err)
	}
	got, total, err := pr.ListChanges(ctx(t), push.ID, 0, 10)
	if err != nil || total != 2 || !reflect.DeepEqual(got, changes) {
		t.Errorf("push ListChanges = %+v (%d), %v; want %+v", got, total, err, changes)
	}
	if _, total, _ := s.ListChanges(ctx(t), push.ID, 0, 10); total != 0 {
		t.Errorf("source ListChanges(push run) total %d, want 0", total)
	}
	if _, total, _ := s.ListChanges(ctx(t), sync.ID, 0, 10); total != 1 {
		t.Errorf("source ListChanges total %d, want 1", total)
	}
	p := pendingList(3)
	if err := pr.SetPending(ctx(t), push.ID, p); err != nil {
		t.Fatalf("SetPending: %v", err)
	}
	gotP, total, err := pr.ListPending(ctx(t), push.ID, 1, 10)
	if err != nil || total != 3 || !reflect.DeepEqual(gotP, p[1:]) {
		t.Errorf("ListPending(offset 1) = %+v (%d), %v; want %+v", gotP, total, err, p[1:])
	}
	if _, total, _ := s.ListPending(ctx(t), push.ID, 0, 10); total != 0 {
		t.Errorf("source ListPending(push run) total %d, want 0", total)
	}
	if _, err := pr.FinishRun(ctx(t), storage.Run{ID: push.ID, Status: storage.RunFailed}, false, nil); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	if _, total, _ := pr.ListPending(ctx(t), push.ID, 0, 10); total != 0 {
		t.Errorf("pending after FinishRun: %d, want 0", total)
	}
}

func testPushFinishRunState(t *testing.T, s storage.Store, clock *testClock) {
	app := pushApp(t, s, "slack")
	pr := s.PushRuns()
	st, err := s.GetPushState(ctx(t), app.ID)
	if err != nil {
		t.Fatalf("GetPushState: %v", err)
	}
	if st.AppID != app.ID || st.Cursor != nil || st.Health != (storage.SourceHealth{}) {
		t.Errorf("state before any run = %+v, want the app's id and zero values", st)
	}
	run := func(status storage.RunStatus, cursor []byte, save bool, health func(*storage.SourceHealth)) storage.Run {
		t.Helper()
		r, err := pr.CreateRun(ctx(t), storage.Run{SourceID: app.ID, Status: storage.RunRunning, Started: clock.Now()})
		if err != nil {
			t.Fatalf("CreateRun: %v", err)
		}
		clock.advance(time.Minute)
		r.Status, r.Finished, r.Cursor = status, clock.Now(), cursor
		out, err := pr.FinishRun(ctx(t), r, save, health)
		if err != nil {
			t.Fatalf("FinishRun: %v", err)
		}
		return out
	}
	at := clock.Now()
	run(storage.RunSucceeded, []byte{1, 0, 2}, true, func(h *storage.SourceHealth) { h.LastSuccessAt = at; h.ConsecutiveFailures = 0 })
	st, _ = s.GetPushState(ctx(t), app.ID)
	if !bytes.Equal(st.Cursor, []byte{1, 0, 2}) || !st.Health.LastSuccessAt.Equal(at) {
		t.Errorf("after a good run: %+v, want cursor 1 0 2 and last success %v", st, at)
	}
	run(storage.RunFailed, []byte{9}, false, func(h *storage.SourceHealth) { h.ConsecutiveFailures++; h.LastError = "503" })
	st, _ = s.GetPushState(ctx(t), app.ID)
	if !bytes.Equal(st.Cursor, []byte{1, 0, 2}) || st.Health.ConsecutiveFailures != 1 || st.Health.LastError != "503" ||
		!st.Health.LastSuccessAt.Equal(at) {
		t.Errorf("after a failed run: %+v, want the old cursor, 1 failure, 503, the old success", st)
	}
	states, err := s.ListPushStates(ctx(t))
	if err != nil || len(states) != 1 || states[0].AppID != app.ID || !bytes.Equal(states[0].Cursor, []byte{1, 0, 2}) {
		t.Errorf("ListPushStates = %+v, %v; want the app's state", states, err)
	}
	src := mustCreateSource(t, s, fullSource("AD"))
	if got, _ := s.GetSource(ctx(t), src.ID); !bytes.Equal(got.Cursor, fullSource("AD").Cursor) {
		t.Errorf("a push run changed a source's cursor: %v", got.Cursor)
	}
}

func testPushStateUnknownApp(t *testing.T, s storage.Store, _ *testClock) {
	_, err := s.GetPushState(ctx(t), "no-such-app")
	wantErr(t, "GetPushState(unknown)", err, storage.ErrNotFound)
	_, err = s.PushRuns().CreateRun(ctx(t), storage.Run{SourceID: "no-such-app"})
	wantErr(t, "CreateRun(unknown app)", err, storage.ErrNotFound)
	states, err := s.ListPushStates(ctx(t))
	if err != nil || states == nil || len(states) != 0 {
		t.Errorf("ListPushStates on an empty store = %#v, %v; want an empty list", states, err)
	}
	_, err = s.PushOrphans(ctx(t), "no-such-app", "User")
	wantErr(t, "PushOrphans(unknown app)", err, storage.ErrNotFound)
	err = s.SavePushObjects(ctx(t), []storage.PushObject{{AppID: "no-such-app", Kind: "User", LocalID: "u"}})
	wantErr(t, "SavePushObjects(unknown app)", err, storage.ErrNotFound)
	wantErr(t, "SetPushedMembers(unknown app)", s.SetPushedMembers(ctx(t), "no-such-app", "g", []string{"u"}, nil), storage.ErrNotFound)
}
