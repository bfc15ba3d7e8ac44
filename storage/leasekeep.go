package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease is one thing's lease (a source's sync, an app's push) as a runner
// holds it: the sync and push runners both take it before a run, keep it
// while the run goes on and release it when the outcome is stored. A
// Lease whose Store is nil (a store without leases: test fakes) always
// succeeds and keeps nothing: the runner's own map is then the only guard.
type Lease struct {
	Store  LeaseStore
	Key    string
	Holder string
	TTL    time.Duration
	// Thing names what the lease claims in the reasons Keep gives:
	// "source", "app".
	Thing string
}

// Take claims the lease for Holder (or extends it); false, with the
// current holder's name, while another holder's lease runs.
func (l Lease) Take(ctx context.Context) (ok bool, current string, err error) {
	if l.Store == nil {
		return true, l.Holder, nil
	}
	return l.Store.AcquireLease(ctx, l.Key, l.Holder, l.TTL)
}

// Release gives the lease up; a lease not released lapses after TTL.
func (l Lease) Release(ctx context.Context) error {
	if l.Store == nil {
		return nil
	}
	return l.Store.ReleaseLease(ctx, l.Key, l.Holder)
}

// TakeOver takes the lease at start-up on a database that one process
// serves (SQLite), from a holder that is no longer alive too. When a live
// process on this host holds it, ok is false and alive names that holder.
func (l Lease) TakeOver(ctx context.Context) (ok bool, alive string, err error) {
	ok, holder, err := l.Take(ctx)
	if err != nil || ok {
		return ok, "", err
	}
	if LeaseHolderAlive(holder) {
		return false, holder, nil
	}
	if err := l.Store.ReleaseLease(ctx, l.Key, holder); err != nil {
		return false, "", err
	}
	if ok, _, err = l.Take(ctx); err != nil || !ok {
		return false, "", errors.Join(err, fmt.Errorf("the %s's lease was taken during start-up", l.Thing))
	}
	return true, "", nil
}

// Keep renews the lease every third of TTL until ctx ends. A renewal that
// fails is retried (retrying, when set, is told) while the last good one
// is younger than TTL; when the lease is lost (renewal refused, or not
// renewed within TTL), lost is called with the reason and Keep returns:
// another replica may run the thing now, so the run must stop. Renewal is
// measured on the wall clock: it is about this process's liveness, not
// about times stored in the database.
func (l Lease) Keep(ctx context.Context, retrying func(error), lost func(reason string)) {
	if l.Store == nil {
		return
	}
	t := time.NewTicker(l.TTL / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, holder, err := l.Take(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && time.Since(renewed) < l.TTL:
			if retrying != nil {
				retrying(err)
			}
		case err != nil:
			lost("the replica could not renew its claim on the " + l.Thing + " in time: " + err.Error())
			return
		case !ok:
			lost("another replica (" + holder + ") took the " + l.Thing + " over")
			return
		default:
			renewed = time.Now()
		}
	}
}

// Hold keeps the lease for a run: it returns a context derived from
// parent that is canceled, with the reason as its cause, when the lease
// is lost (lost, when set, is told first: another replica may run the
// thing now, so the run must stop), and stop, which ends the keeping.
// Releasing the lease stays the caller's, once the outcome is stored.
func (l Lease) Hold(parent context.Context, retrying func(error), lost func(reason string)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	go l.Keep(ctx, retrying, func(reason string) {
		if lost != nil {
			lost(reason)
		}
		cancel(errors.New(reason))
	})
	return ctx, func() { cancel(nil) }
}

// RunInProgress returns the id of ownerID's latest run when it is queued
// or running (so a refusal can name it), or "" (also when runs cannot be
// read: the id only decorates the refusal).
func RunInProgress(ctx context.Context, runs RunStore, ownerID string) string {
	latest, err := runs.ListRuns(ctx, ownerID, 1)
	if err != nil || len(latest) != 1 {
		return ""
	}
	if s := latest[0].Status; s == RunQueued || s == RunRunning {
		return latest[0].ID
	}
	return ""
}

// FailUnfinishedRuns marks ownerID's recent runs that are still queued or
// running as failed at now with reason, and returns the ones it marked.
// Only the holder of ownerID's lease may call it: then nobody else is
// running them (their replica died, or their process stopped). The error
// joins what could not be read or marked; the runs it returns are marked
// either way.
func FailUnfinishedRuns(ctx context.Context, runs RunStore, ownerID, reason string, now time.Time) ([]Run, error) {
	recent, err := runs.ListRuns(ctx, ownerID, 5)
	if err != nil {
		return nil, fmt.Errorf("list the runs of %s: %w", ownerID, err)
	}
	var out []Run
	var errs []error
	for _, run := range recent {
		if run.Status != RunQueued && run.Status != RunRunning {
			continue
		}
		failed, err := runs.UpdateRun(ctx, run.ID, func(x *Run) error {
			x.Status, x.Finished, x.Error = RunFailed, now, reason
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark run %s failed: %w", run.ID, err))
			continue
		}
		out = append(out, failed)
	}
	return out, errors.Join(errs...)
}
