package outbound

import (
	"context"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// Several replicas may share one database (PostgreSQL). The runner's
// in-process map keeps one push per app within a replica; a lease named
// "push:"+appID keeps one across replicas, as sources/engine does for
// syncs: a push starts only when its replica holds the lease, renews it
// while the push goes on, and releases it when the outcome is stored. When
// a replica dies its lease expires and another takes the app over on a
// later tick, resuming from the last saved cursor and the push
// bookkeeping (a create whose answer was lost is matched before it is
// sent again).

// leaseKey names an app's push lease; the prefix keeps it apart from the
// sources' leases, which are named by source id.
func leaseKey(appID string) string { return "push:" + appID }

// takeLease claims the app for this replica. When another replica holds
// the lease, the error is a *BusyError naming that replica's run when it
// can be found.
func (r *Runner) takeLease(ctx context.Context, appID string) error {
	ok, holder, err := r.store.AcquireLease(ctx, leaseKey(appID), r.holder, r.leaseTTL)
	if err != nil {
		return fmt.Errorf("claim app %s for a push: %w", appID, err)
	}
	if !ok {
		busy := &BusyError{}
		if runs, err := r.store.PushRuns().ListRuns(ctx, appID, 1); err == nil && len(runs) == 1 &&
			(runs[0].Status == storage.RunQueued || runs[0].Status == storage.RunRunning) {
			busy.RunID = runs[0].ID
		}
		r.log.Debug("app is pushing on another replica", "app", appID, "holder", holder)
		return busy
	}
	r.abandonOrphans(ctx, appID, abandonedError)
	return nil
}

// abandonedError is the error of a push whose replica's lease expired.
const abandonedError = "abandoned: the replica running it stopped before it finished; " +
	"what reached the target is recorded, and the next push resumes from there"

// abandonOrphans marks the pushes left queued or running by a replica that
// died as failed with the reason given, and returns them: this replica
// holds the lease, so nobody else is running them.
func (r *Runner) abandonOrphans(ctx context.Context, appID, reason string) []storage.Run {
	runs := r.store.PushRuns()
	recent, err := runs.ListRuns(ctx, appID, 5)
	if err != nil {
		return nil
	}
	var out []storage.Run
	for _, run := range recent {
		if run.Status != storage.RunQueued && run.Status != storage.RunRunning {
			continue
		}
		failed, err := runs.UpdateRun(ctx, run.ID, func(x *storage.Run) error {
			x.Status, x.Finished, x.Error = storage.RunFailed, r.now(), reason
			return nil
		})
		if err != nil {
			r.log.Warn("cannot mark an abandoned push failed", "app", appID, "run", run.ID, "error", err)
			continue
		}
		out = append(out, failed)
	}
	return out
}

// releaseLease gives the app up once its push's outcome is stored.
func (r *Runner) releaseLease(ctx context.Context, appID string) {
	if err := r.store.ReleaseLease(ctx, leaseKey(appID), r.holder); err != nil {
		// The lease then lapses after leaseTTL; only a takeover waits.
		r.log.Warn("cannot release an app's push lease", "app", appID, "error", err)
	}
}

// keepLease renews the app's lease every third of its lifetime until ctx
// ends; when the lease is lost, lost is called and the push must stop.
// Renewal is measured on the wall clock: it is about this process's
// liveness, not about times stored in the database.
func (r *Runner) keepLease(ctx context.Context, appID string, lost func(reason string)) {
	t := time.NewTicker(r.leaseTTL / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, holder, err := r.store.AcquireLease(ctx, leaseKey(appID), r.holder, r.leaseTTL)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && time.Since(renewed) < r.leaseTTL:
			r.log.Warn("cannot renew an app's push lease; retrying", "app", appID, "error", err)
		case err != nil:
			lost("the replica could not renew its claim on the app in time: " + err.Error())
			return
		case !ok:
			lost("another replica (" + holder + ") took the app over")
			return
		default:
			renewed = time.Now()
		}
	}
}
