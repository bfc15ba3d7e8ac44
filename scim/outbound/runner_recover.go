package outbound

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// On SQLite one process serves the database, so at start-up every push
// still queued or running was left so by a process that stopped; waiting
// for its lease to lapse would only show a phantom "running" push and
// refuse run-now with 409 meanwhile. (On PostgreSQL only a lease's expiry
// proves a replica dead: takeLease abandons those runs.)

// interruptedError is the error of a push a stopped process left unfinished.
const interruptedError = "scimgate stopped during the push (the process ended before it finished); " +
	"what reached the target is recorded, and the next push resumes from there"

// RecoverInterrupted, when the runner was made with SingleProcess, marks
// the pushes a previous process left queued or running as failed and
// gives up that process's leases, so the apps push again at once. Call it
// at start-up, before the runner starts any push. Leases held by another
// live process on this host are left to expire as usual.
func (r *Runner) RecoverInterrupted(ctx context.Context) error {
	if !r.singleProcess {
		return nil
	}
	apps, err := r.store.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("recover interrupted pushes: %w", err)
	}
	var errs []error
	for _, app := range apps {
		if err := r.recoverApp(ctx, app); err != nil {
			errs = append(errs, fmt.Errorf("app %s: %w", app.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recover interrupted pushes: %w", err)
	}
	return nil
}

func (r *Runner) recoverApp(ctx context.Context, app storage.App) error {
	ok, alive, err := r.lease(app.ID).TakeOver(ctx)
	if err != nil {
		return err
	}
	if !ok {
		r.log.Warn("another scimgate process on this host holds an app's push; leaving its runs alone",
			"app", app.Name, "holder", alive)
		return nil
	}
	defer r.releaseLease(context.WithoutCancel(ctx), app.ID)
	for _, run := range r.abandonOrphans(ctx, app.ID, interruptedError) {
		r.log.Warn("push marked failed: scimgate stopped during it", "app", app.Name, "run", run.ID)
		r.notify(app, run)
	}
	return nil
}
