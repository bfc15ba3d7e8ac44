package outbound_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// tick runs one scheduler tick, waits for the pushes it started and
// returns their triggers.
func (e *env) tick(t *testing.T, s *outbound.Scheduler) []string {
	t.Helper()
	var reasons []string
	for _, id := range s.Tick(context.Background()) {
		if id != e.app.ID {
			t.Fatalf("started app %s", id)
		}
		runs, err := e.store.PushRuns().ListRuns(context.Background(), id, 1)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs: %v %v", runs, err)
		}
		reasons = append(reasons, e.wait(t, e.runner, runs[0].ID).Trigger)
	}
	return reasons
}

func (e *env) scheduler() *outbound.Scheduler {
	return outbound.NewScheduler(e.store, e.runner, nil, e.clock.Now)
}

func (e *env) runCount(t *testing.T) int {
	t.Helper()
	runs, err := e.store.PushRuns().ListRuns(context.Background(), e.app.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}

func TestSchedulerPushesOnTheSchedule(t *testing.T) {
	e := newEnv(t, storage.PushConfig{Schedule: "15m", Enabled: true})
	s := e.scheduler()
	for _, step := range []struct {
		advance time.Duration
		want    []string
	}{
		{0, []string{"schedule"}}, // never pushed: at once
		{0, nil},
		{10 * time.Minute, nil},
		{7 * time.Minute, []string{"schedule"}}, // past 15m and its jitter (at most 1.5m)
		{time.Minute, nil},
	} {
		e.clock.Advance(step.advance)
		if got := e.tick(t, s); !slices.Equal(got, step.want) {
			t.Fatalf("after %s: started %v, want %v", e.clock.Now().Sub(epoch), got, step.want)
		}
	}
}

func TestSchedulerLeavesDisabledAndUnscheduledPushesAlone(t *testing.T) {
	for _, push := range []storage.PushConfig{
		{Schedule: "1m", AfterChangeSeconds: 1, Enabled: false},
		{Schedule: "", Enabled: true},
	} {
		e := newEnv(t, push)
		e.writeUser(t, "ann@example.com")
		s := e.scheduler()
		for range 3 {
			e.clock.Advance(time.Hour)
			if got := e.tick(t, s); got != nil {
				t.Errorf("push %+v: started %v", push, got)
			}
		}
		// A manual push works either way.
		if r := e.start(t, outbound.Trigger{}); r.Status != storage.RunSucceeded {
			t.Errorf("manual push: %+v", r)
		}
	}
}

func TestSchedulerRetriesAfterBackoffAndSkipsHeld(t *testing.T) {
	e := newEnv(t, storage.PushConfig{Schedule: "15m", Enabled: true})
	s := e.scheduler()
	e.pusher.set(failed("target said 503"))
	if got := e.tick(t, s); !slices.Equal(got, []string{"schedule"}) {
		t.Fatalf("first tick: %v", got)
	}
	for i, backoff := range []time.Duration{time.Minute, 10 * time.Minute} {
		e.clock.Advance(backoff - time.Second)
		if got := e.tick(t, s); got != nil {
			t.Errorf("failure %d: retried inside its backoff", i+1)
		}
		e.clock.Advance(time.Second)
		if got := e.tick(t, s); !slices.Equal(got, []string{"retry"}) {
			t.Errorf("failure %d: after the backoff started %v", i+1, got)
		}
	}
	e.pusher.set(held(storage.PendingDeletion{Kind: "User", ID: "u1", Action: storage.ChangeDeactivate}))
	e.clock.Advance(time.Hour)
	if got := e.tick(t, s); !slices.Equal(got, []string{"retry"}) {
		t.Fatalf("after an hour: %v", got)
	}
	n := e.runCount(t)
	for range 3 {
		e.clock.Advance(time.Hour)
		if got := e.tick(t, s); got != nil {
			t.Errorf("a held app was pushed: %v", got)
		}
	}
	if got := e.runCount(t); got != n {
		t.Errorf("%d runs while held, want %d", got, n)
	}
}

func TestSchedulerPushesSoonAfterAChange(t *testing.T) {
	e := newEnv(t, storage.PushConfig{Schedule: "1h", AfterChangeSeconds: 30, Enabled: true})
	s := e.scheduler()
	if got := e.tick(t, s); !slices.Equal(got, []string{"schedule"}) {
		t.Fatalf("first tick: %v", got)
	}
	if st := e.state(t); !st.FirstChange.IsZero() {
		t.Fatalf("first change %s before any write", st.FirstChange)
	}
	e.clock.Advance(time.Minute)
	changed := e.clock.Now()
	e.writeUser(t, "ann@example.com")
	if st := e.state(t); !st.FirstChange.Equal(changed) {
		t.Fatalf("first change = %s, want the write's time %s", st.FirstChange, changed)
	}
	e.clock.Advance(10 * time.Second)
	e.writeUser(t, "bob@example.com") // the debounce counts from the first change
	e.clock.Advance(19 * time.Second)
	if got := e.tick(t, s); got != nil {
		t.Fatalf("29s after the change: started %v", got)
	}
	e.clock.Advance(time.Second)
	if got := e.tick(t, s); !slices.Equal(got, []string{"change"}) {
		t.Fatalf("30s after the change: started %v, want one change push", got)
	}
	if st := e.state(t); !st.FirstChange.IsZero() {
		t.Errorf("first change %s after a successful push", st.FirstChange)
	}
	e.clock.Advance(time.Minute)
	if got := e.tick(t, s); got != nil {
		t.Errorf("nothing changed, yet started %v", got)
	}

	// A rejected push answers the change it would have pushed: no new
	// change push until something else happens or the schedule comes.
	e.pusher.set(held(storage.PendingDeletion{Kind: "User", ID: "u1", Action: storage.ChangeDeactivate}))
	e.writeUser(t, "cy@example.com")
	e.clock.Advance(30 * time.Second)
	if got := e.tick(t, s); !slices.Equal(got, []string{"change"}) {
		t.Fatalf("change push: %v", got)
	}
	runs, _ := e.store.PushRuns().ListRuns(context.Background(), e.app.ID, 1)
	if _, err := e.runner.Reject(context.Background(), e.app.ID, runs[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if got := e.tick(t, s); got != nil {
		t.Errorf("after a reject: started %v", got)
	}
}

// writeUser creates a user; every user is in the test app's view.
func (e *env) writeUser(t *testing.T, userName string) {
	t.Helper()
	if _, err := e.store.CreateUser(context.Background(), storage.User{UserName: userName, Active: true}); err != nil {
		t.Fatal(err)
	}
}

func TestSchedulerMakesADailyPushFullButNotAChangePush(t *testing.T) {
	e := newEnv(t, storage.PushConfig{Schedule: "6h", AfterChangeSeconds: 5, Enabled: true})
	s := e.scheduler()
	if r := e.start(t, outbound.Trigger{Full: true}); r.Mode != "full" {
		t.Fatalf("first push: %+v", r)
	}
	lastJob := func() outbound.PushJob { jobs := e.pusher.allJobs(); return jobs[len(jobs)-1] }
	for _, step := range []struct {
		advance time.Duration
		write   bool
		reason  string
		full    bool
	}{
		{advance: 7 * time.Hour, reason: "schedule", full: false},
		{advance: 18 * time.Hour, write: true, reason: "change", full: false}, // 25h after the full push
		{advance: 7 * time.Hour, reason: "schedule", full: true},
		{advance: 7 * time.Hour, reason: "schedule", full: false},
	} {
		if step.write {
			e.writeUser(t, "user-"+e.clock.Now().Format("150405")+"@example.com")
		}
		e.clock.Advance(step.advance)
		got := e.tick(t, s)
		if !slices.Equal(got, []string{step.reason}) || lastJob().Full != step.full {
			t.Errorf("after %s: started %v, full %v; want %s, full %v", e.clock.Now().Sub(epoch), got, lastJob().Full, step.reason, step.full)
		}
	}
}
