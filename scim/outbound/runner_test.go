package outbound_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

func TestStartRefusesAppsItCannotPush(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	ctx := context.Background()
	plain, err := e.store.CreateApp(ctx, storage.App{Name: "reader", Groups: storage.GroupsAll})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		app  string
		want error
	}{
		{"no-such-app", storage.ErrNotFound},
		{plain.ID, outbound.ErrNoPush},
		{plain.Name, outbound.ErrNoPush},
	} {
		_, err := e.runner.Start(ctx, tc.app, outbound.Trigger{Reason: "manual"})
		if !errors.Is(err, tc.want) {
			t.Errorf("Start(%s) = %v, want %v", tc.app, err, tc.want)
		}
		if _, err := e.runner.Test(ctx, tc.app); !errors.Is(err, tc.want) {
			t.Errorf("Test(%s) = %v, want %v", tc.app, err, tc.want)
		}
	}
}

func TestOnePushPerAppAcrossReplicas(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	ctx := context.Background()
	e.pusher.gate, e.pusher.started = make(chan struct{}), make(chan string, 1)
	first, err := e.runner.Start(ctx, e.app.Name, outbound.Trigger{Reason: "manual", Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != storage.RunQueued || first.Trigger != "manual" || first.SourceID != e.app.ID {
		t.Errorf("started run = %+v", first)
	}
	<-e.pusher.started
	replica := e.newRunner(outbound.RunnerOptions{})
	t.Cleanup(func() { replica.Shutdown(context.Background()) })
	for name, r := range map[string]*outbound.Runner{"same runner": e.runner, "other replica": replica} {
		_, err := r.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
		var busy *outbound.BusyError
		if !errors.As(err, &busy) || busy.RunID != first.ID {
			t.Errorf("%s: second Start = %v, want a BusyError naming run %s", name, err, first.ID)
		}
	}
	if id, ok := e.runner.Running(e.app.ID); !ok || id != first.ID {
		t.Errorf("Running = %q, %v", id, ok)
	}
	close(e.pusher.gate)
	done := e.wait(t, e.runner, first.ID)
	if done.Status != storage.RunSucceeded || done.Mode != "full" || done.Counts.Created != 1 || done.Started.IsZero() || done.Finished.IsZero() {
		t.Errorf("finished run = %+v", done)
	}
	jobs := e.pusher.allJobs()
	if len(jobs) != 1 || !jobs[0].Full || jobs[0].Run.Status != storage.RunRunning || jobs[0].App.ID != e.app.ID || jobs[0].Target == nil {
		t.Fatalf("jobs = %+v", jobs)
	}
	if got := e.opened[0][storage.PushSecretToken]; got != "s3cret" {
		t.Errorf("target opened with token %q", got)
	}
	st := e.state(t)
	if string(st.Cursor) != "cursor-"+first.ID || !st.Health.LastFullAt.Equal(epoch) || !st.Health.LastRunAt.Equal(done.Started) {
		t.Errorf("push state = %+v", st)
	}
	// The lease is given back with the outcome: the other replica may push.
	e.pusher.gate = nil
	next, err := replica.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatalf("replica after the first push: %v", err)
	}
	if got := e.wait(t, replica, next.ID); got.Status != storage.RunSucceeded {
		t.Errorf("replica's push = %+v", got)
	}
}

func TestHeldPushApprovedOrRejected(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	ctx := context.Background()
	pending := []storage.PendingDeletion{
		{Kind: "User", ID: "u1", Name: "ann@example.com", Action: storage.ChangeDeactivate},
		{Kind: "User", ID: "u2", Name: "bob@example.com", Action: storage.ChangeDeactivate},
	}
	e.pusher.set(held(pending...))
	run := e.start(t, outbound.Trigger{})
	if run.Status != storage.RunHeld || run.Counts.Pending != 2 {
		t.Fatalf("run = %+v, want held with 2 pending", run)
	}
	stored, total, err := e.store.PushRuns().ListPending(ctx, run.ID, 0, 10)
	if err != nil || total != 2 || !reflect.DeepEqual(stored, pending) {
		t.Fatalf("pending = %+v (%d, %v)", stored, total, err)
	}
	_, err = e.runner.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	var heldErr *outbound.HeldError
	if !errors.As(err, &heldErr) || heldErr.RunID != run.ID {
		t.Fatalf("Start while held = %v", err)
	}
	if _, err := e.runner.Approve(ctx, e.app.ID, storage.NewID(), "alice"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("approve an unknown run: %v", err)
	}

	queued, err := e.runner.Approve(ctx, e.app.ID, run.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if queued.ID != run.ID || queued.DecidedBy != "alice" || queued.Status != storage.RunQueued {
		t.Errorf("approved run = %+v", queued)
	}
	done := e.wait(t, e.runner, run.ID)
	if done.Status != storage.RunSucceeded || done.DecidedBy != "alice" || done.Counts.Deactivated != 2 || done.Counts.Pending != 0 {
		t.Errorf("approved run finished as %+v", done)
	}
	jobs := e.pusher.allJobs()
	if last := jobs[len(jobs)-1]; !reflect.DeepEqual(last.Approved, pending) || last.Run.ID != run.ID {
		t.Errorf("approved job: run %s, approved %+v", last.Run.ID, last.Approved)
	}
	if st := e.state(t); string(st.Cursor) != "cursor-"+run.ID {
		t.Errorf("cursor after approval = %q", st.Cursor)
	}
	if _, err := e.runner.Approve(ctx, e.app.ID, run.ID, "alice"); !errors.Is(err, outbound.ErrNotHeld) {
		t.Errorf("approve twice: %v", err)
	}

	// A rejected run removes nothing, saves no cursor and lets pushes go on.
	again := e.start(t, outbound.Trigger{})
	rejected, err := e.runner.Reject(ctx, e.app.ID, again.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if rejected.Status != storage.RunRejected || rejected.DecidedBy != "bob" || rejected.Counts.Pending != 0 {
		t.Errorf("rejected run = %+v", rejected)
	}
	if _, total, _ := e.store.PushRuns().ListPending(ctx, again.ID, 0, 10); total != 0 {
		t.Errorf("%d pending after reject", total)
	}
	if st := e.state(t); string(st.Cursor) != "cursor-"+run.ID {
		t.Errorf("cursor after reject = %q, want the approved run's", st.Cursor)
	}
	if len(e.pusher.allJobs()) != 3 {
		t.Errorf("reject ran the engine")
	}
	e.pusher.set(nil)
	if r := e.start(t, outbound.Trigger{}); r.Status != storage.RunSucceeded {
		t.Errorf("push after reject = %+v", r)
	}
}

func TestDryRunThatWouldBeHeldOnlyReports(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	e.pusher.set(held(storage.PendingDeletion{Kind: "User", ID: "u1", Action: storage.ChangeDelete}))
	run := e.start(t, outbound.Trigger{DryRun: true})
	if run.Status != storage.RunSucceeded || !run.DryRun || !strings.Contains(strings.Join(run.Notes, ";"), "would be held") {
		t.Errorf("dry run = %+v", run)
	}
	if st := e.state(t); st.Cursor != nil || st.Health.ConsecutiveFailures != 0 {
		t.Errorf("state after a dry run = %+v", st)
	}
}

func TestFailedPushesBackOffAndQuarantine(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	e.start(t, outbound.Trigger{})
	now := e.clock.Now()
	for _, tc := range []struct {
		name      string
		outcome   func(outbound.PushJob) outbound.PushOutcome
		failures  int
		unhealthy bool
		lastError string
	}{
		{"first failure", failed("target said 503"), 1, false, "target said 503"},
		{"second", failed("target said 503"), 2, false, "target said 503"},
		{"third: quarantined", failed("connection refused"), 3, true, "connection refused"},
		{"a success heals", nil, 0, false, ""},
		{"most objects failed: quarantined at once", countsOutcome(storage.RunCounts{Updated: 2, Errors: 8}), 1, true, "8 of the 10 objects"},
		{"a few objects failed: healthy", countsOutcome(storage.RunCounts{Updated: 1, Errors: 4}), 0, false, ""},
	} {
		e.pusher.set(tc.outcome)
		run := e.start(t, outbound.Trigger{})
		h := e.state(t).Health
		if h.ConsecutiveFailures != tc.failures || h.Unhealthy != tc.unhealthy || !strings.Contains(h.LastError, tc.lastError) {
			t.Errorf("%s: health = %+v", tc.name, h)
		}
		wantBackoff := time.Time{}
		if tc.failures > 0 {
			wantBackoff = now.Add(sources.Backoff(tc.failures))
		}
		if !h.BackoffUntil.Equal(wantBackoff) {
			t.Errorf("%s: backoff until %s, want %s", tc.name, h.BackoffUntil, wantBackoff)
		}
		if !h.LastRunAt.Equal(run.Started) {
			t.Errorf("%s: last run at %s, want the run's start %s", tc.name, h.LastRunAt, run.Started)
		}
	}
	// Failed runs never save their cursor.
	before := e.state(t).Cursor
	e.pusher.set(failed("boom"))
	e.start(t, outbound.Trigger{})
	if st := e.state(t); string(st.Cursor) != string(before) || len(before) == 0 {
		t.Errorf("cursor after a failed push = %q, want the last good one %q", st.Cursor, before)
	}
}

func countsOutcome(c storage.RunCounts) func(outbound.PushJob) outbound.PushOutcome {
	return func(job outbound.PushJob) outbound.PushOutcome { return succeeded(job, c) }
}

func TestSecretThatCannotBeOpenedFailsThePush(t *testing.T) {
	e := newEnv(t, storage.PushConfig{Auth: storage.PushAuth{Type: storage.PushAuthBearer},
		Secrets: map[string][]byte{storage.PushSecretToken: []byte("not sealed by this key")}})
	run := e.start(t, outbound.Trigger{})
	if run.Status != storage.RunFailed || !strings.Contains(run.Error, `push secret "token"`) {
		t.Errorf("run = %+v", run)
	}
	if len(e.pusher.allJobs()) != 0 {
		t.Error("the engine ran without its secrets")
	}
	rep, err := e.runner.Test(context.Background(), e.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Checks) != 1 || rep.Checks[0].Name != "config" || !strings.Contains(rep.Checks[0].Detail, `"token"`) {
		t.Errorf("report = %+v", rep)
	}
}

func TestShutdownCancelsPushesAndRecordsThemFailed(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	e.pusher.gate, e.pusher.started = make(chan struct{}), make(chan string, 1)
	run, err := e.runner.Start(context.Background(), e.app.ID, outbound.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	<-e.pusher.started
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	e.runner.Shutdown(expired) // returns once the canceled push is recorded
	got, err := e.store.PushRuns().GetRun(context.Background(), e.app.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != storage.RunFailed || got.Error != "canceled: scimgate is shutting down" {
		t.Errorf("run after shutdown = %+v", got)
	}
	if _, err := e.runner.Start(context.Background(), e.app.ID, outbound.Trigger{Reason: "manual"}); !errors.Is(err, outbound.ErrShuttingDown) {
		t.Errorf("Start after shutdown = %v", err)
	}
}

func TestRecoverInterruptedPushes(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	ctx := context.Background()
	// A process that died mid-push left its run running and its lease.
	orphan, err := e.store.PushRuns().CreateRun(ctx, storage.Run{SourceID: e.app.ID, Status: storage.RunRunning, Trigger: "change", Queued: epoch, Started: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := e.store.AcquireLease(ctx, "push:"+e.app.ID, "gone-host/4242/deadbeef", time.Hour); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	_, err = e.runner.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	var busy *outbound.BusyError
	if !errors.As(err, &busy) || busy.RunID != orphan.ID {
		t.Fatalf("Start with a dead process's lease = %v", err)
	}
	var observed []storage.Run
	restarted := e.newRunner(outbound.RunnerOptions{SingleProcess: true, Observe: func(_ storage.App, r storage.Run) { observed = append(observed, r) }})
	t.Cleanup(func() { restarted.Shutdown(context.Background()) })
	if err := restarted.RecoverInterrupted(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.PushRuns().GetRun(ctx, e.app.ID, orphan.ID)
	if got.Status != storage.RunFailed || !strings.Contains(got.Error, "scimgate stopped during the push") {
		t.Errorf("orphan after recovery = %+v", got)
	}
	if len(observed) != 1 || observed[0].ID != orphan.ID {
		t.Errorf("observed %+v", observed)
	}
	next, err := restarted.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatalf("Start after recovery: %v", err)
	}
	if r := e.wait(t, restarted, next.ID); r.Status != storage.RunSucceeded {
		t.Errorf("push after recovery = %+v", r)
	}
}

func TestPanicInTheEngineFailsThePushOnly(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	var mu sync.Mutex
	var observed []storage.RunStatus
	e.runner = e.newRunner(outbound.RunnerOptions{Observe: func(app storage.App, run storage.Run) {
		mu.Lock()
		defer mu.Unlock()
		if app.ID == e.app.ID {
			observed = append(observed, run.Status)
		}
	}})
	t.Cleanup(func() { e.runner.Shutdown(context.Background()) })
	e.pusher.set(func(outbound.PushJob) outbound.PushOutcome { panic("nil map in the planner") })
	run := e.start(t, outbound.Trigger{})
	if run.Status != storage.RunFailed || !strings.Contains(run.Error, "internal error in the push engine") {
		t.Errorf("run = %+v", run)
	}
	e.pusher.set(nil)
	e.start(t, outbound.Trigger{})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(observed, []storage.RunStatus{storage.RunFailed, storage.RunSucceeded}) {
		t.Errorf("observed %v", observed)
	}
}

func TestPushThatLosesItsLeaseStops(t *testing.T) {
	e := newEnv(t, storage.PushConfig{})
	ctx := context.Background()
	e.runner = e.newRunner(outbound.RunnerOptions{LeaseTTL: 300 * time.Millisecond})
	t.Cleanup(func() { e.runner.Shutdown(context.Background()) })
	e.pusher.gate, e.pusher.started = make(chan struct{}), make(chan string, 1)
	run, err := e.runner.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	<-e.pusher.started
	// The store's clock passes the lease's expiry and another replica
	// takes the app over: the next renewal fails and the push stops.
	e.clock.Advance(time.Hour)
	if ok, _, err := e.store.AcquireLease(ctx, "push:"+e.app.ID, "other-host/1/cafe", time.Hour); err != nil || !ok {
		t.Fatalf("take over: %v %v", ok, err)
	}
	got := e.wait(t, e.runner, run.ID)
	if got.Status != storage.RunFailed || !strings.Contains(got.Error, "another replica (other-host/1/cafe) took the app over") {
		t.Errorf("run = %+v", got)
	}
}
