package api_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// fakePushes stands in for the push runner in API tests: it records the
// triggers it is given, keeps its runs in the store's real push run
// history, and answers busy, held and test reports as a test sets them.
type fakePushes struct {
	store storage.PushStore

	mu       sync.Mutex
	triggers []outbound.Trigger
	running  map[string]string // app id -> run id
	report   outbound.TestReport
}

// newFakePushes is nil when the store keeps no push bookkeeping.
func newFakePushes(st *sqlstore.Store) *fakePushes {
	ps, ok := any(st).(storage.PushStore)
	if !ok {
		return nil
	}
	return &fakePushes{store: ps, running: map[string]string{},
		report: outbound.TestReport{OK: false, Checks: []outbound.TestCheck{
			{Name: "reach", OK: true}, {Name: "auth", OK: false, Detail: "the target answered 401: the token was refused"}}}}
}

func (f *fakePushes) Start(ctx context.Context, appID string, t outbound.Trigger) (storage.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.running[appID]; ok {
		return storage.Run{}, &outbound.BusyError{RunID: id}
	}
	last, err := f.store.PushRuns().ListRuns(ctx, appID, 1)
	if err != nil {
		return storage.Run{}, err
	}
	if len(last) == 1 && last[0].Status == storage.RunHeld {
		return storage.Run{}, &outbound.HeldError{RunID: last[0].ID}
	}
	f.triggers = append(f.triggers, t)
	return f.store.PushRuns().CreateRun(ctx, storage.Run{SourceID: appID, Status: storage.RunQueued, Trigger: t.Reason, DryRun: t.DryRun})
}

func (f *fakePushes) Running(appID string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.running[appID]
	return id, ok
}

func (f *fakePushes) setRunning(appID, runID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if runID == "" {
		delete(f.running, appID)
		return
	}
	f.running[appID] = runID
}

func (f *fakePushes) decide(ctx context.Context, appID, runID, actor string, to storage.RunStatus) (storage.Run, error) {
	r, err := f.store.PushRuns().GetRun(ctx, appID, runID)
	if err != nil {
		return storage.Run{}, err
	}
	if r.Status != storage.RunHeld {
		return storage.Run{}, fmt.Errorf("run %s: %w", runID, outbound.ErrNotHeld)
	}
	r.Status, r.DecidedBy = to, actor
	return f.store.PushRuns().FinishRun(ctx, r, false, nil)
}

func (f *fakePushes) Approve(ctx context.Context, appID, runID, actor string) (storage.Run, error) {
	return f.decide(ctx, appID, runID, actor, storage.RunSucceeded)
}

func (f *fakePushes) Reject(ctx context.Context, appID, runID, actor string) (storage.Run, error) {
	return f.decide(ctx, appID, runID, actor, storage.RunRejected)
}

func (f *fakePushes) Test(context.Context, string) (outbound.TestReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.report, nil
}

func (f *fakePushes) lastTrigger() outbound.Trigger {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.triggers) == 0 {
		return outbound.Trigger{}
	}
	return f.triggers[len(f.triggers)-1]
}

// holdRun stores a held push run of app with the given pending removals,
// as the runner leaves one that would remove too much.
func (f *fakePushes) holdRun(ctx context.Context, appID string, pending []storage.PendingDeletion) (storage.Run, error) {
	r, err := f.store.PushRuns().CreateRun(ctx, storage.Run{SourceID: appID, Status: storage.RunRunning, Trigger: "schedule"})
	if err != nil {
		return storage.Run{}, err
	}
	if err := f.store.PushRuns().SetPending(ctx, r.ID, pending); err != nil {
		return storage.Run{}, err
	}
	r.Status, r.Counts.Pending = storage.RunHeld, len(pending)
	return f.store.PushRuns().FinishRun(ctx, r, false, nil)
}
