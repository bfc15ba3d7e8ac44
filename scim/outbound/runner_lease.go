package outbound

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// Several replicas may share one database (PostgreSQL). The runner's
// in-process map keeps one push per app within a replica; a lease named
// "push:"+appID keeps one across replicas, as sources/engine does for
// syncs (both through storage.Lease): a push starts only when its replica
// holds the lease, renews it while the push goes on, and releases it when
// the outcome is stored. When a replica dies its lease expires and
// another takes the app over on a later tick, resuming from the last
// saved cursor and the push bookkeeping (a create whose answer was lost
// is matched before it is sent again).

// leaseKey names an app's push lease; the prefix keeps it apart from the
// sources' leases, which are named by source id.
func leaseKey(appID string) string { return "push:" + appID }

// lease is the app's push lease as this runner holds it.
func (r *Runner) lease(appID string) storage.Lease {
	return storage.Lease{Store: r.store, Key: leaseKey(appID), Holder: r.holder, TTL: r.leaseTTL, Thing: "app"}
}

// takeLease claims the app for this replica. When another replica holds
// the lease, the error is a *BusyError naming that replica's run when it
// can be found.
func (r *Runner) takeLease(ctx context.Context, appID string) error {
	ok, holder, err := r.lease(appID).Take(ctx)
	if err != nil {
		return fmt.Errorf("claim app %s for a push: %w", appID, err)
	}
	if !ok {
		r.log.Debug("app is pushing on another replica", "app", appID, "holder", holder)
		return &BusyError{RunID: storage.RunInProgress(ctx, r.store.PushRuns(), appID)}
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
	failed, err := storage.FailUnfinishedRuns(ctx, r.store.PushRuns(), appID, reason, r.now())
	if err != nil {
		r.log.Warn("cannot mark abandoned pushes failed", "app", appID, "error", err)
	}
	return failed
}

// releaseLease gives the app up once its push's outcome is stored.
func (r *Runner) releaseLease(ctx context.Context, appID string) {
	if err := r.lease(appID).Release(ctx); err != nil {
		// The lease then lapses after leaseTTL; only a takeover waits.
		r.log.Warn("cannot release an app's push lease", "app", appID, "error", err)
	}
}

// holdLease keeps the app's lease during a push: the context it returns
// ends, with the reason, when the lease is lost (lost is told first), as
// the push must then stop.
func (r *Runner) holdLease(parent context.Context, appID string, lost func(reason string)) (context.Context, func()) {
	return r.lease(appID).Hold(parent, func(err error) {
		r.log.Warn("cannot renew an app's push lease; retrying", "app", appID, "error", err)
	}, lost)
}
