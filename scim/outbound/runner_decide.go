package outbound

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// Approve lets a held push apply its removals: the run goes on in the
// background (as Start's do) with PushJob.Approved set to its pending
// list, and is returned queued. Its cursor is saved when it succeeds.
func (r *Runner) Approve(ctx context.Context, appID, runID, actor string) (storage.Run, error) {
	return r.decide(ctx, appID, runID, actor, true)
}

// Reject discards a held push's removals and finishes the run rejected;
// the old cursor stays. Change-triggered pushes then wait for the next
// scheduled or manual push (which would be held again if the removals
// still exceed the limits), so a rejection is not undone seconds later.
func (r *Runner) Reject(ctx context.Context, appID, runID, actor string) (storage.Run, error) {
	return r.decide(ctx, appID, runID, actor, false)
}

func (r *Runner) decide(ctx context.Context, appID, runID, actor string, approve bool) (storage.Run, error) {
	app, err := r.store.GetApp(ctx, appID)
	if err != nil {
		return storage.Run{}, err
	}
	if app.Push == nil {
		return storage.Run{}, ErrNoPush
	}
	// No other push while the decision is taken: the app is the held run's.
	if err := r.runs.Begin(app.ID, func() (string, error) { return runID, r.takeLease(ctx, app.ID) }); err != nil {
		return storage.Run{}, err
	}
	handedOver := false
	defer func() {
		if handedOver {
			return // execute releases the lease and the app in r.runs
		}
		r.releaseLease(context.WithoutCancel(ctx), app.ID)
		r.runs.End(app.ID)
	}()
	runs := r.store.PushRuns()
	run, err := runs.GetRun(ctx, app.ID, runID)
	if err != nil {
		return storage.Run{}, err
	}
	if run.Status != storage.RunHeld {
		return storage.Run{}, fmt.Errorf("push run %s is %s: %w", runID, run.Status, ErrNotHeld)
	}
	if !approve {
		run.DecidedBy, run.Status, run.Finished = actor, storage.RunRejected, r.now()
		run.Notes = append(run.Notes, "rejected by "+actor+": nothing was removed")
		run.Counts.Pending = 0
		out, err := runs.FinishRun(ctx, run, false, func(h *storage.SourceHealth) { updateHealth(h, run, r.now()) })
		if err != nil {
			return storage.Run{}, err
		}
		r.log.Info("held push rejected", "app", app.Name, "run", run.ID, "by", actor)
		r.notify(app, out)
		return out, nil
	}
	pending, err := allPending(ctx, runs, runID)
	if err != nil {
		return storage.Run{}, err
	}
	queued, err := runs.UpdateRun(ctx, runID, func(x *storage.Run) error {
		x.DecidedBy, x.Status = actor, storage.RunQueued
		x.Notes = append(x.Notes, fmt.Sprintf("approved by %s: %d removals", actor, len(pending)))
		x.Counts.Pending = 0
		return nil
	})
	if err != nil {
		return storage.Run{}, err
	}
	r.log.Info("held push approved", "app", app.Name, "run", run.ID, "by", actor, "removals", len(pending))
	handedOver = true
	if pending == nil {
		pending = []storage.PendingDeletion{} // approved, with nothing to remove
	}
	go r.execute(app, queued, queued.Mode == "full", pending)
	return queued, nil
}

// allPending reads a held run's whole pending list.
func allPending(ctx context.Context, runs storage.RunStore, runID string) ([]storage.PendingDeletion, error) {
	const page = 1000
	var out []storage.PendingDeletion
	for offset := 0; ; offset += page {
		got, total, err := runs.ListPending(ctx, runID, offset, page)
		if err != nil {
			return nil, fmt.Errorf("read the held removals: %w", err)
		}
		out = append(out, got...)
		if len(got) == 0 || offset+len(got) >= total {
			return out, nil
		}
	}
}
