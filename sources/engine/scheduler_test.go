package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// TestSchedulerWakesDueSourcesAndBacksOff drives the scheduler's clock by
// hand: no test waits for real time.
func TestSchedulerWakesDueSourcesAndBacksOff(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	ctx := context.Background()
	e.ds.SetUsers(tenUsers()...)
	sched := engine.NewScheduler(e.store, e.runner, nil, func() time.Time { return e.now })
	tick := func() []string {
		started := sched.Tick(ctx)
		for _, id := range started {
			runs, _ := e.store.ListRuns(ctx, id, 1)
			e.wait(t, runs[0].ID)
		}
		return started
	}
	if got := tick(); got != nil {
		t.Fatalf("a source without a schedule ran: %v", got)
	}
	if _, err := e.store.UpdateSource(ctx, e.src.ID, func(s *storage.Source) error { s.Schedule = "15m"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := tick(); !slices.Equal(got, []string{e.src.ID}) {
		t.Fatalf("first tick started %v, want the never-run source", got)
	}
	e.now = e.now.Add(10 * time.Minute)
	if got := tick(); got != nil {
		t.Errorf("ran again after 10m of a 15m schedule")
	}
	e.now = e.now.Add(7 * time.Minute) // past 15m plus at most 1.5m jitter
	if got := tick(); len(got) != 1 {
		t.Errorf("did not run after 17m")
	}
	// Failures: retried after backoff, marked unhealthy after three.
	e.ds.Fail(errors.New("boom"))
	e.now = e.now.Add(20 * time.Minute)
	tick()
	for i, wait := range []time.Duration{time.Minute, 10 * time.Minute} {
		e.now = e.now.Add(wait - time.Second)
		if got := tick(); got != nil {
			t.Errorf("failure %d: retried before its backoff", i+1)
		}
		e.now = e.now.Add(time.Second)
		if got := tick(); len(got) != 1 {
			t.Errorf("failure %d: not retried after %s", i+1, wait)
		}
	}
	src, _ := e.store.GetSource(ctx, e.src.ID)
	if !src.Health.Unhealthy || src.Health.ConsecutiveFailures != 3 {
		t.Fatalf("health = %+v", src.Health)
	}
	// Unhealthy: the schedule (15m) no longer applies; an hour of backoff does.
	e.now = e.now.Add(30 * time.Minute)
	if got := tick(); got != nil {
		t.Error("an unhealthy source ran inside its backoff")
	}
	e.ds.Fail(nil)
	e.now = e.now.Add(30 * time.Minute)
	if got := tick(); len(got) != 1 {
		t.Error("not retried after an hour")
	}
	src, _ = e.store.GetSource(ctx, e.src.ID)
	if src.Health.Unhealthy || src.Health.ConsecutiveFailures != 0 {
		t.Errorf("health after recovery = %+v", src.Health)
	}
	// A disabled source never runs; a schedule change applies at once.
	e.store.UpdateSource(ctx, e.src.ID, func(s *storage.Source) error { s.Enabled = false; return nil })
	e.now = e.now.Add(24 * time.Hour)
	if got := tick(); got != nil {
		t.Error("a disabled source ran")
	}
}
