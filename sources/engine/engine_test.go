package engine_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// env is a runner over a real SQLite store and an in-process source.
type env struct {
	store  *sqlstore.Store
	ds     *sourcetest.Dataset
	runner *engine.Runner
	src    storage.Source
	now    time.Time
	path   string // the SQLite file
}

func newEnv(t *testing.T, policy storage.DeletionPolicy) *env {
	t.Helper()
	return newEnvBatch(t, policy, 3) // several batches even for small data
}

// newEnvBatch is newEnv with the engine writing batchSize records per
// transaction.
func newEnvBatch(t *testing.T, policy storage.DeletionPolicy, batchSize int) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{ds: &sourcetest.Dataset{}, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	// One clock for the store and the runner, as in production: grace
	// periods compare the store's deactivation stamps with the engine's now.
	e.path = filepath.Join(t.TempDir(), "sync.db")
	store, err := sqlstore.Open(ctx, e.path, sqlstore.Options{Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	sealer, err := engine.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.runner = engine.NewRunner(store, sources.Registry{"fake": sourcetest.Kind(e.ds)}, sealer,
		engine.RunnerOptions{BatchSize: batchSize})
	t.Cleanup(func() { e.runner.Shutdown(context.Background()) })
	if policy.Policy == "" {
		policy = storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 40}
	}
	e.src, err = store.CreateSource(ctx, storage.Source{Name: "hr", Kind: "fake", Enabled: true,
		Settings: []byte(`{"region":"eu"}`), Deletion: policy, Precedence: 100})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run starts a run and waits until it is finished or held.
func (e *env) run(t *testing.T, trig engine.Trigger) storage.Run {
	t.Helper()
	if trig.Reason == "" {
		trig.Reason = "manual"
	}
	r, err := e.runner.Start(context.Background(), e.src.ID, trig)
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	return e.wait(t, r.ID)
}

func (e *env) wait(t *testing.T, runID string) storage.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r, err := e.store.GetRun(context.Background(), e.src.ID, runID)
		if err != nil {
			t.Fatal(err)
		}
		if _, busy := e.runner.Running(e.src.ID); (r.Status.Finished() || r.Status == storage.RunHeld) && !busy {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", runID)
	return storage.Run{}
}

// users returns the source's users by userName.
func (e *env) users(t *testing.T) map[string]storage.User {
	t.Helper()
	page, err := e.store.ListUsers(context.Background(), storage.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]storage.User{}
	for _, d := range page.Users {
		u, err := d.Decode()
		if err != nil {
			t.Fatal(err)
		}
		out[u.UserName] = u
	}
	return out
}

func wantCounts(t *testing.T, r storage.Run, want storage.RunCounts) {
	t.Helper()
	if r.Counts != want {
		t.Errorf("run %s (%s, error %q, notes %v):\n counts %+v\n want   %+v", r.ID, r.Status, r.Error, r.Notes, r.Counts, want)
	}
}

func wantStatus(t *testing.T, r storage.Run, want storage.RunStatus) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("run status = %s (error %q, notes %v), want %s", r.Status, r.Error, r.Notes, want)
	}
}

func tenUsers() []sources.UserRecord {
	var out []sources.UserRecord
	for i := range 10 {
		out = append(out, sourcetest.User(fmt.Sprintf("k%d", i), fmt.Sprintf("user%d@example.com", i),
			"givenName", fmt.Sprintf("Given%d", i), "department", "Eng", "manager", "k0"))
	}
	return out
}

func TestSyncCreatesThenChangesNothing(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(tenUsers()...)
	e.ds.SetGroups(sourcetest.Group("g1", "Engineering", "k1", "k2", "g2"), sourcetest.Group("g2", "Platform", "k3"))
	r := e.run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Fetched: 12, Created: 12})
	users := e.users(t)
	if len(users) != 10 {
		t.Fatalf("%d users, want 10", len(users))
	}
	boss := users["user0@example.com"]
	u5 := users["user5@example.com"]
	if u5.Name == nil || u5.Name.GivenName != "Given5" || u5.Enterprise == nil || u5.Enterprise.Department != "Eng" ||
		u5.Enterprise.Manager == nil || u5.Enterprise.Manager.Value != boss.ID || u5.ExternalID != "k5" || !u5.Active {
		t.Errorf("user5 = %+v %+v %+v", u5, u5.Name, u5.Enterprise)
	}
	if u5.Owner != e.src.Owner() || u5.Meta.Version != 1 {
		t.Errorf("owner %q version %d", u5.Owner, u5.Meta.Version)
	}
	groups, err := e.store.ListGroups(context.Background(), storage.Query{Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpEq, Value: "Engineering"}, Limit: 10}, true)
	if err != nil || len(groups.Groups) != 1 {
		t.Fatalf("groups %+v %v", groups, err)
	}
	var memberNames []string
	for _, m := range groups.Groups[0].Members {
		memberNames = append(memberNames, m.Type+":"+m.Display)
	}
	slices.Sort(memberNames)
	if want := []string{"Group:Platform", "User:user1@example.com", "User:user2@example.com"}; !slices.Equal(memberNames, want) {
		t.Errorf("members = %v, want %v", memberNames, want)
	}
	src, _ := e.store.GetSource(context.Background(), e.src.ID)
	if string(src.Cursor) != "cursor-1" || src.Health.LastSuccessAt.IsZero() {
		t.Errorf("cursor %q health %+v", src.Cursor, src.Health)
	}

	// The same data again changes nothing at all.
	r = e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 12, Unchanged: 12})
	again := e.users(t)["user5@example.com"]
	if again.Meta.Version != u5.Meta.Version || !again.Meta.LastModified.Equal(u5.Meta.LastModified) {
		t.Errorf("an unchanged sync moved meta: %+v -> %+v", u5.Meta, again.Meta)
	}

	// One change is one update, visible to SCIM readers.
	e.now = e.now.Add(time.Hour)
	recs := tenUsers()
	recs[5].Attrs["department"] = "Sales"
	e.ds.SetUsers(recs...)
	e.ds.SetGroups(sourcetest.Group("g1", "Engineering", "k1", "k4", "g2"), sourcetest.Group("g2", "Platform", "k3"))
	r = e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 12, Updated: 2, Unchanged: 10})
	changed := e.users(t)["user5@example.com"]
	if changed.Enterprise.Department != "Sales" || changed.Meta.Version != 2 || changed.ID != u5.ID {
		t.Errorf("after change: %+v %+v", changed.Enterprise, changed.Meta)
	}
	changes, total, err := e.store.ListChanges(context.Background(), r.ID, 0, 100)
	if err != nil || total != 2 {
		t.Fatalf("change log %d %v", total, err)
	}
	if changes[0].Action != storage.ChangeUpdate || changes[0].Name != "user5@example.com" || len(changes[0].Before) == 0 || len(changes[0].After) == 0 {
		t.Errorf("change = %+v", changes[0])
	}
	if changes[1].Detail != "members: 1 added, 1 removed" {
		t.Errorf("group change = %+v", changes[1])
	}
}

func TestDeletionGuardHoldsApproveRejectAndReactivation(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 20})
	e.ds.SetUsers(tenUsers()...)
	wantStatus(t, e.run(t, engine.Trigger{}), storage.RunSucceeded)

	// One of ten gone (10%): under the guard, deactivated at once.
	e.ds.SetUsers(tenUsers()[:9]...)
	r := e.run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Fetched: 9, Unchanged: 9, Deactivated: 1})
	if u := e.users(t)["user9@example.com"]; u.Active || u.Meta.Version != 2 {
		t.Errorf("user9 active=%v version=%d, want deactivated", u.Active, u.Meta.Version)
	}

	// Three more gone (30%): held, nothing removed, cursor not saved.
	e.ds.SetUsers(tenUsers()[:6]...)
	r = e.run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunHeld)
	if r.Counts.Pending != 3 {
		t.Errorf("pending = %d, want 3", r.Counts.Pending)
	}
	for _, n := range []int{6, 7, 8} {
		if !e.users(t)[fmt.Sprintf("user%d@example.com", n)].Active {
			t.Errorf("user%d deactivated by a held run", n)
		}
	}
	pending, total, err := e.store.ListPending(context.Background(), r.ID, 0, 10)
	if err != nil || total != 3 || pending[0].Action != storage.ChangeDeactivate {
		t.Fatalf("pending %+v %d %v", pending, total, err)
	}
	// No new run while one is held.
	if _, err := e.runner.Start(context.Background(), e.src.ID, engine.Trigger{Reason: "manual"}); !errors.As(err, new(*engine.HeldError)) {
		t.Errorf("start while held: %v, want HeldError", err)
	}
	rejected, err := e.runner.Reject(context.Background(), e.src.ID, r.ID, "alice")
	if err != nil || rejected.Status != storage.RunRejected || rejected.DecidedBy != "alice" {
		t.Fatalf("reject: %+v %v", rejected, err)
	}
	if !e.users(t)["user7@example.com"].Active {
		t.Error("reject removed a user")
	}
	// The next run is held again; approving applies it.
	r = e.run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunHeld)
	approved, err := e.runner.Approve(context.Background(), e.src.ID, r.ID, "bob")
	if err != nil || approved.Status != storage.RunSucceeded || approved.Counts.Deactivated != 3 {
		t.Fatalf("approve: %+v %v", approved, err)
	}
	if _, err := e.runner.Approve(context.Background(), e.src.ID, r.ID, "bob"); !errors.Is(err, engine.ErrNotHeld) {
		t.Errorf("second approve: %v", err)
	}
	users := e.users(t)
	for _, n := range []int{6, 7, 8} {
		if users[fmt.Sprintf("user%d@example.com", n)].Active {
			t.Errorf("user%d still active after approval", n)
		}
	}
	// A user who comes back is reactivated with the same id.
	before := users["user7@example.com"]
	e.ds.SetUsers(tenUsers()[:8]...)
	r = e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 8, Updated: 2, Unchanged: 6})
	back := e.users(t)["user7@example.com"]
	if !back.Active || back.ID != before.ID {
		t.Errorf("user7 back: active=%v id %s (was %s)", back.Active, back.ID, before.ID)
	}
}

func TestDeletePolicyGracePeriod(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{Policy: storage.PolicyDelete, GraceDays: 7})
	e.ds.SetUsers(tenUsers()...)
	e.run(t, engine.Trigger{})
	e.ds.SetUsers(tenUsers()[:9]...)
	wantCounts(t, e.run(t, engine.Trigger{}), storage.RunCounts{Fetched: 9, Unchanged: 9, Deactivated: 1})
	e.now = e.now.Add(3 * 24 * time.Hour)
	wantCounts(t, e.run(t, engine.Trigger{}), storage.RunCounts{Fetched: 9, Unchanged: 9})
	e.now = e.now.Add(5 * 24 * time.Hour)
	wantCounts(t, e.run(t, engine.Trigger{}), storage.RunCounts{Fetched: 9, Unchanged: 9, Deleted: 1})
	if _, ok := e.users(t)["user9@example.com"]; ok {
		t.Error("user9 not deleted after the grace period")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(tenUsers()...)
	r := e.run(t, engine.Trigger{DryRun: true})
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Fetched: 10, Created: 10})
	if n := len(e.users(t)); n != 0 {
		t.Errorf("a dry run created %d users", n)
	}
	src, _ := e.store.GetSource(context.Background(), e.src.ID)
	if src.Cursor != nil {
		t.Errorf("a dry run saved cursor %q", src.Cursor)
	}
}

func TestProblemsPreventDeletions(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(tenUsers()...)
	e.run(t, engine.Trigger{})
	e.ds.SetUsers(tenUsers()[:9]...)
	e.ds.SetProblems(sources.Problem{Where: "line 11", Message: "bad row"})
	r := e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 9, Unchanged: 9, Errors: 1})
	if !e.users(t)["user9@example.com"].Active {
		t.Error("a run with unreadable records deactivated a user")
	}
}

func TestFailedRunKeepsCursorAndBacksOff(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(tenUsers()...)
	e.run(t, engine.Trigger{})
	e.ds.Fail(errors.New("upstream said 503"))
	for i := 1; i <= sources.UnhealthyAfter; i++ {
		r := e.run(t, engine.Trigger{})
		wantStatus(t, r, storage.RunFailed)
		if r.Error != "upstream said 503" {
			t.Errorf("error = %q", r.Error)
		}
	}
	src, _ := e.store.GetSource(context.Background(), e.src.ID)
	if string(src.Cursor) != "cursor-1" {
		t.Errorf("cursor = %q, want the last good one", src.Cursor)
	}
	if !src.Health.Unhealthy || src.Health.ConsecutiveFailures != 3 || src.Health.BackoffUntil.Sub(e.now) != time.Hour {
		t.Errorf("health = %+v", src.Health)
	}
	if n := len(e.users(t)); n != 10 {
		t.Errorf("%d users after failures", n)
	}
}

func TestConflictsAndPrecedence(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	ctx := context.Background()
	pushed, err := e.store.CreateUser(ctx, storage.User{UserName: "USER1@example.com", Owner: "scim:okta", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	recs := tenUsers()[:3]
	recs = append(recs, sourcetest.User("dup", "user2@example.com"))
	e.ds.SetUsers(recs...)
	r := e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 4, Created: 2, Conflicts: 2})
	if u, _ := e.store.GetUser(ctx, pushed.ID); u.Owner != "scim:okta" {
		t.Errorf("the pushed user changed owner: %q", u.Owner)
	}
	// With a better precedence the source takes the user over, same id.
	if _, err := e.store.UpdateSource(ctx, e.src.ID, func(s *storage.Source) error { s.Precedence = 10; return nil }); err != nil {
		t.Fatal(err)
	}
	e.src.Precedence = 10
	e.ds.SetUsers(tenUsers()[:3]...)
	r = e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 3, Updated: 1, Unchanged: 2, Conflicts: 1})
	u, _ := e.store.GetUser(ctx, pushed.ID)
	if u.Owner != e.src.Owner() || u.UserName != "user1@example.com" {
		t.Errorf("after takeover: owner %q userName %q", u.Owner, u.UserName)
	}
}

func TestLateAndMissingReferences(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	// The manager comes after the report; a member never comes.
	e.ds.SetUsers(sourcetest.User("a", "a@example.com", "manager", "z"), sourcetest.User("b", "b@example.com"),
		sourcetest.User("c", "c@example.com"), sourcetest.User("z", "z@example.com", "manager", "nobody"))
	e.ds.SetGroups(sourcetest.Group("g", "G", "a", "ghost", "h"), sourcetest.Group("h", "H", "b"))
	r := e.run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Fetched: 6, Created: 6, Unresolved: 2})
	users := e.users(t)
	if m := users["a@example.com"].Enterprise; m == nil || m.Manager == nil || m.Manager.Value != users["z@example.com"].ID {
		t.Errorf("a's manager = %+v", m)
	}
	g, _ := e.store.ListGroups(context.Background(), storage.Query{Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpEq, Value: "G"}, Limit: 1}, true)
	if len(g.Groups) != 1 || len(g.Groups[0].Members) != 2 {
		t.Fatalf("G = %+v", g.Groups)
	}
	// Nothing changes on the next run: late fix-ups left the right hashes.
	r = e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 6, Unchanged: 6, Unresolved: 2}) // still reported, nothing rewritten
}

func TestDeltaDeletions(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{Policy: storage.PolicyDelete})
	e.ds.SetUsers(tenUsers()...)
	e.run(t, engine.Trigger{})
	e.ds.SetUsers()
	e.ds.SetDelta(true, sources.Deletion{Kind: sources.KindUser, Key: "k1", Soft: true}, sources.Deletion{Kind: sources.KindUser, Key: "k2"})
	r := e.run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Deactivated: 1, Deleted: 1})
	users := e.users(t)
	if users["user1@example.com"].Active || len(users) != 9 {
		t.Errorf("after delta: %d users, user1 active=%v", len(users), users["user1@example.com"].Active)
	}
	if r.Mode != "incremental" {
		t.Errorf("mode = %q", r.Mode)
	}
	// A full run asks the source for everything.
	e.ds.SetDelta(true)
	e.ds.SetUsers(tenUsers()...)
	e.run(t, engine.Trigger{Full: true})
	if last := e.ds.Requests[len(e.ds.Requests)-1]; !last.Full || last.Cursor != nil {
		t.Errorf("full run request = %+v", last)
	}
}

func TestOneRunPerSource(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(tenUsers()...)
	e.ds.Block = make(chan struct{})
	r, err := e.runner.Start(context.Background(), e.src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	var busy *engine.BusyError
	if _, err := e.runner.Start(context.Background(), e.src.ID, engine.Trigger{Reason: "manual"}); !errors.As(err, &busy) || busy.RunID != r.ID {
		t.Errorf("second start: %v", err)
	}
	close(e.ds.Block)
	wantStatus(t, e.wait(t, r.ID), storage.RunSucceeded)
}

func TestShutdownCancelsRunAndKeepsCursor(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(tenUsers()...)
	wantStatus(t, e.run(t, engine.Trigger{}), storage.RunSucceeded)
	e.ds.Block = make(chan struct{})
	r, err := e.runner.Start(context.Background(), e.src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if got, _ := e.store.GetRun(context.Background(), e.src.ID, r.ID); got.Status == storage.RunRunning {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	e.runner.Shutdown(ctx)
	got, _ := e.store.GetRun(context.Background(), e.src.ID, r.ID)
	wantStatus(t, got, storage.RunFailed)
	src, _ := e.store.GetSource(context.Background(), e.src.ID)
	if string(src.Cursor) != "cursor-1" {
		t.Errorf("cursor after a canceled run = %q", src.Cursor)
	}
	if _, err := e.runner.Start(context.Background(), e.src.ID, engine.Trigger{}); !errors.Is(err, engine.ErrShuttingDown) {
		t.Errorf("start after shutdown: %v", err)
	}
}
