package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// On PostgreSQL several replicas share the database, so a run left
// running may belong to a replica that is alive: only the expiry of its
// lease proves it dead (runner_lease.go). On SQLite one process serves
// the database, so at start-up every run still queued or running was
// left so by a process that stopped (a crash, a kill, a power cut), and
// waiting for its lease to lapse would only show a phantom "running" run
// and refuse run-now with 409 meanwhile.

// interruptedError is the error of a run that a stopped process left
// unfinished.
const interruptedError = "scimgate stopped during the run (the process ended before the run finished); " +
	"what it wrote stays, and a later run resumes from the last saved cursor"

// RecoverInterrupted, when the runner was made with SingleProcess, marks
// the runs a previous process left queued or running as failed and gives
// up that process's leases, so the sources run again at once. Call it at
// start-up, before the runner starts any run. Leases held by another live
// process on this host (a second scimgate started on the same file by
// mistake) are left to expire as usual.
func (r *Runner) RecoverInterrupted(ctx context.Context) error {
	if !r.singleProcess || r.leases == nil {
		return nil
	}
	srcs, err := r.store.ListSources(ctx)
	if err != nil {
		return fmt.Errorf("recover interrupted runs: %w", err)
	}
	var errs []error
	for _, src := range srcs {
		if err := r.recoverSource(ctx, src); err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", src.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recover interrupted runs: %w", err)
	}
	return nil
}

func (r *Runner) recoverSource(ctx context.Context, src storage.Source) error {
	ok, alive, err := r.lease(src.ID).TakeOver(ctx)
	if err != nil {
		return err
	}
	if !ok {
		r.log.Warn("another scimgate process on this host holds a source; leaving its runs alone",
			"source", src.Name, "holder", alive)
		return nil
	}
	defer r.releaseLease(context.WithoutCancel(ctx), src.ID)
	for _, run := range r.abandonOrphans(ctx, src.ID, interruptedError) {
		r.log.Warn("run marked failed: scimgate stopped during it", "source", src.Name, "run", run.ID)
		r.observe(src, run)
	}
	return nil
}
