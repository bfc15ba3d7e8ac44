package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// secondReplica is another runner on e's store: a different lease holder,
// as a second scimgate process on the same database would be.
func secondReplica(t *testing.T, e *env) *engine.Runner {
	t.Helper()
	sealer, err := engine.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	r := engine.NewRunner(e.store, sources.Registry{"fake": sourcetest.Kind(e.ds)}, sealer,
		engine.RunnerOptions{})
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

// waitRunning waits until the run has started (it then blocks on ds.Block).
func waitRunning(t *testing.T, e *env, runID string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if r, err := e.store.GetRun(context.Background(), e.src.ID, runID); err == nil && r.Status == storage.RunRunning {
			return
		}
	}
	t.Fatalf("run %s never started", runID)
}

func TestRunNowOnAnotherReplicaIsBusy(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	b := secondReplica(t, e)
	e.ds.SetUsers(tenUsers()...)
	e.ds.Block = make(chan struct{})
	ctx := context.Background()
	run, err := e.runner.Start(ctx, e.src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatalf("Start on A: %v", err)
	}
	waitRunning(t, e, run.ID)
	_, err = b.Start(ctx, e.src.ID, engine.Trigger{Reason: "manual"})
	var busy *engine.BusyError
	if !errors.As(err, &busy) || busy.RunID != run.ID {
		t.Fatalf("Start on B while A runs = %v, want BusyError for run %s", err, run.ID)
	}
	if _, err := b.Approve(ctx, e.src.ID, run.ID, "admin"); !errors.As(err, &busy) {
		t.Errorf("Approve on B while A runs = %v, want BusyError", err)
	}
	close(e.ds.Block)
	if got := e.wait(t, run.ID); got.Status != storage.RunSucceeded {
		t.Fatalf("A's run = %s (%s), want succeeded", got.Status, got.Error)
	}
	next, err := b.Start(ctx, e.src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatalf("Start on B after A finished: %v", err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, running := b.Running(e.src.ID); !running {
			break
		}
	}
	if got, _ := e.store.GetRun(ctx, e.src.ID, next.ID); got.Status != storage.RunSucceeded {
		t.Fatalf("B's run = %s (%s), want succeeded", got.Status, got.Error)
	}
}

// TestSchedulersOnTwoReplicasRunOnce: both replicas' schedulers tick; the
// source runs once.
func TestSchedulersOnTwoReplicasRunOnce(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	b := secondReplica(t, e)
	e.ds.SetUsers(tenUsers()...)
	ctx := context.Background()
	if _, err := e.store.UpdateSource(ctx, e.src.ID, func(s *storage.Source) error { s.Schedule = "15m"; return nil }); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return e.now }
	schedA := engine.NewScheduler(e.store, e.runner, nil, clock)
	schedB := engine.NewScheduler(e.store, b, nil, clock)
	e.ds.Block = make(chan struct{})
	startedA := schedA.Tick(ctx)
	startedB := schedB.Tick(ctx) // A's run is in progress: B's start is refused
	if len(startedA)+len(startedB) != 1 {
		t.Fatalf("started on A %v and on B %v, want one run in all", startedA, startedB)
	}
	close(e.ds.Block)
	runs, err := e.store.ListRuns(ctx, e.src.ID, 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %d (%v), want 1", len(runs), err)
	}
	e.wait(t, runs[0].ID)
	if got := schedB.Tick(ctx); got != nil {
		t.Errorf("B ran the source again on the same tick: %v", got)
	}
}

// TestStillDueIsCheckedUnderTheLease: a scheduler whose view of the source
// is stale (another replica ran it since) gets ErrNotDue, and the lease is
// free again afterwards.
func TestStillDueIsCheckedUnderTheLease(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	ctx := context.Background()
	_, err := e.runner.Start(ctx, e.src.ID, engine.Trigger{Reason: "schedule", StillDue: func(storage.Source) bool { return false }})
	if !errors.Is(err, engine.ErrNotDue) {
		t.Fatalf("Start = %v, want ErrNotDue", err)
	}
	b := secondReplica(t, e)
	e.ds.SetUsers(tenUsers()...)
	run, err := b.Start(ctx, e.src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatalf("Start on B after a refused start on A: %v", err)
	}
	e.wait(t, run.ID)
}

// TestTakeoverAfterHolderDied: a replica died holding the lease in the
// middle of a run. Once the lease has expired, another replica runs the
// source and records the dead replica's run as abandoned.
func TestTakeoverAfterHolderDied(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	ctx := context.Background()
	e.ds.SetUsers(tenUsers()...)
	orphan, err := e.store.CreateRun(ctx, storage.Run{SourceID: e.src.ID, Status: storage.RunRunning, Trigger: "schedule", Queued: e.now})
	if err != nil {
		t.Fatal(err)
	}
	// A lease of a nanosecond has expired by the time anyone asks.
	if ok, _, err := e.store.AcquireLease(ctx, e.src.ID, "dead-replica", time.Nanosecond); err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	run, err := e.runner.Start(ctx, e.src.ID, engine.Trigger{Reason: "schedule"})
	if err != nil {
		t.Fatalf("Start after the holder died: %v", err)
	}
	if got := e.wait(t, run.ID); got.Status != storage.RunSucceeded || got.Counts.Created != 10 {
		t.Fatalf("run = %s, created %d (%s); want succeeded, 10", got.Status, got.Counts.Created, got.Error)
	}
	got, err := e.store.GetRun(ctx, e.src.ID, orphan.ID)
	if err != nil || got.Status != storage.RunFailed {
		t.Fatalf("dead replica's run = %s (%v), want failed", got.Status, err)
	}
}
