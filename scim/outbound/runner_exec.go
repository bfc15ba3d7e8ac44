package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// execute runs one push in the background: it waits for a slot, marks the
// run running, opens the target and hands the job to the Pusher, then
// stores the outcome. approved is the pending list of a held run an admin
// approved (nil otherwise).
func (r *Runner) execute(app storage.App, run storage.Run, full bool, approved []storage.PendingDeletion) {
	defer r.runs.End(app.ID)
	// The lease is held from Start until the outcome is stored; losing it
	// cancels the push, as another replica may be pushing the app.
	defer r.releaseLease(context.WithoutCancel(r.runs.Context()), app.ID)
	ctx, stop := r.holdLease(r.runs.Context(), app.ID, func(reason string) {
		r.log.Error("push canceled: this replica lost its claim on the app", "app", app.Name, "run", run.ID, "reason", reason)
	})
	defer stop()
	// Store writes after cancellation still need a live context, so the
	// outcome of a canceled push is recorded.
	record := context.WithoutCancel(ctx)
	runs := r.store.PushRuns()
	release, ok := r.runs.Slot(ctx)
	if !ok {
		run.Status, run.Finished, run.Error = storage.RunFailed, r.now(), "canceled before it started: scimgate is shutting down"
		r.finish(record, app, run, false)
		return
	}
	defer release()
	run, err := runs.UpdateRun(record, run.ID, func(x *storage.Run) error {
		x.Status, x.Started = storage.RunRunning, r.now()
		return nil
	})
	if err != nil {
		r.log.Error("cannot mark push running", "app", app.Name, "run", run.ID, "error", err)
		return
	}
	target, err := r.open(ctx, app)
	if err != nil {
		run.Status, run.Finished, run.Error = storage.RunFailed, r.now(), err.Error()
		r.finish(record, app, run, false)
		return
	}
	if c, ok := target.(io.Closer); ok {
		defer c.Close()
	}
	out := r.push(ctx, PushJob{App: app, Target: target, Run: run, Full: full, DryRun: run.DryRun, Approved: approved})
	out.Run = r.settle(ctx, run, out.Run)
	if out.Run.Status == storage.RunHeld {
		r.hold(record, app, out, approved != nil)
		return
	}
	r.finish(record, app, out.Run, out.SaveCursor && out.Run.Status == storage.RunSucceeded)
}

// push runs the Pusher; a panic in it fails the run instead of ending the
// process (and the SCIM service with it).
func (r *Runner) push(ctx context.Context, job PushJob) (out PushOutcome) {
	err := sources.Recover(func() error {
		out = r.pusher.Push(ctx, job)
		return nil
	})
	var p *sources.PanicError
	if errors.As(err, &p) {
		r.log.Error("the push engine panicked", "app", job.App.Name, "run", job.Run.ID, "panic", p.Value, "stack", string(p.Stack))
		out = PushOutcome{Run: job.Run}
		out.Run.Status, out.Run.Error = storage.RunFailed, "internal error in the push engine (logged); the next push retries"
	}
	return out
}

// settle makes the Pusher's final run one the store can record: the run's
// identity as the runner created it, a finish time, a known status, and a
// reason when a canceled push came back without one.
func (r *Runner) settle(ctx context.Context, started, out storage.Run) storage.Run {
	out.ID, out.SourceID, out.Trigger, out.DryRun, out.Queued = started.ID, started.SourceID, started.Trigger, started.DryRun, started.Queued
	if out.Started.IsZero() {
		out.Started = started.Started
	}
	if out.DecidedBy == "" {
		out.DecidedBy = started.DecidedBy
	}
	switch out.Status {
	case storage.RunSucceeded, storage.RunFailed, storage.RunHeld:
	default:
		out.Error = fmt.Sprintf("the push engine ended the run with status %q: %s", out.Status, out.Error)
		out.Status = storage.RunFailed
	}
	if cause := context.Cause(ctx); cause != nil && out.Status == storage.RunFailed && out.Error == "" {
		out.Error = "canceled: " + cause.Error()
		if errors.Is(cause, context.Canceled) {
			out.Error = "canceled: scimgate is shutting down"
		}
	}
	if out.Finished.IsZero() && out.Status != storage.RunHeld {
		out.Finished = r.now()
	}
	return out
}

// hold stores a run the deletion limits stopped, with its pending list; a
// dry run (or, defensively, an approved run the engine held again) only
// reports it.
func (r *Runner) hold(ctx context.Context, app storage.App, out PushOutcome, approved bool) {
	run := out.Run
	switch {
	case approved:
		run.Status, run.Finished = storage.RunFailed, r.now()
		run.Error = "the approved push was held again: the engine did not apply the approved removals"
		r.finish(ctx, app, run, false)
		return
	case run.DryRun:
		run.Status, run.Finished = storage.RunSucceeded, r.now()
		run.Notes = append(run.Notes, "dry run: a real run would be held for approval")
		r.finish(ctx, app, run, false)
		return
	}
	runs := r.store.PushRuns()
	run.Counts.Pending = len(out.Pending)
	if err := runs.SetPending(ctx, run.ID, out.Pending); err != nil {
		r.log.Error("cannot store a held push's removals", "app", app.Name, "run", run.ID, "error", err)
		run.Status, run.Finished, run.Error = storage.RunFailed, r.now(), "cannot store the held removals: "+err.Error()
		r.finish(ctx, app, run, false)
		return
	}
	stored, err := runs.UpdateRun(ctx, run.ID, func(x *storage.Run) error {
		*x = run
		return nil
	})
	if err != nil {
		r.log.Error("cannot mark push held", "app", app.Name, "run", run.ID, "error", err)
		return
	}
	r.log.Warn("push held for approval: it would remove more than the app's deletion limits",
		"app", app.Name, "run", run.ID, "pending", stored.Counts.Pending)
	r.notify(app, stored)
}

// finish stores a push's outcome with the app's push health, and the
// cursor only when saveCursor is set.
func (r *Runner) finish(ctx context.Context, app storage.App, run storage.Run, saveCursor bool) {
	now := r.now()
	unhealthyRun := mostObjectsFailed(run.Counts)
	stored, err := r.store.PushRuns().FinishRun(ctx, run, saveCursor, func(h *storage.SourceHealth) {
		updateHealth(h, run, now)
	})
	if err != nil {
		r.log.Error("cannot record push outcome", "app", app.Name, "run", run.ID, "error", err)
		return
	}
	level := slog.LevelInfo
	if stored.Status == storage.RunFailed || unhealthyRun {
		level = slog.LevelWarn
	}
	r.log.Log(ctx, level, "push finished", "app", app.Name, "run", run.ID, "status", stored.Status,
		"created", stored.Counts.Created, "updated", stored.Counts.Updated, "deactivated", stored.Counts.Deactivated,
		"deleted", stored.Counts.Deleted, "errors", stored.Counts.Errors, "error", stored.Error)
	r.notify(app, stored)
}

func (r *Runner) notify(app storage.App, run storage.Run) {
	if r.observe != nil {
		r.observe(app, run)
	}
}

// open opens the push's secrets and its target.
func (r *Runner) open(ctx context.Context, app storage.App) (Target, error) {
	secrets, err := r.openSecrets(app)
	if err != nil {
		return nil, err
	}
	if r.openTarget == nil {
		return nil, errors.New("this scimgate has no SCIM client for pushes (RunnerOptions.OpenTarget is not set)")
	}
	target, err := r.openTarget(ctx, app, secrets)
	if err != nil {
		return nil, fmt.Errorf("cannot open the target %s: %w", app.Push.URL, err)
	}
	return target, nil
}

// openSecrets opens every sealed push secret of app, naming the one that
// cannot be opened.
func (r *Runner) openSecrets(app storage.App) (map[string]string, error) {
	out := make(map[string]string, len(app.Push.Secrets))
	names := make([]string, 0, len(app.Push.Secrets))
	for name := range app.Push.Secrets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if r.opener == nil {
			return nil, fmt.Errorf("cannot open the push secret %q: this scimgate has no secret key configured", name)
		}
		v, err := r.opener.Open(app.ID, name, app.Push.Secrets[name])
		if err != nil {
			return nil, fmt.Errorf("cannot open the push secret %q (sealed with another key, or for another app?); set it again: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}
