package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// Several scimgate replicas may share one database (PostgreSQL). The
// runner's in-process map keeps one run per source within a replica; a
// lease in the database (storage.LeaseStore) keeps one across replicas:
// a run starts only when its replica holds the source's lease, renews it
// while the run goes on, and releases it when the outcome is stored. When
// a replica dies, its lease expires and another replica takes the source
// over on a later tick, resuming from the last saved cursor (a failed or
// unfinished run never saves one). On SQLite the same code runs with one
// replica. Stores without leases (test fakes) get the in-process map only.

// DefaultLeaseTTL is how long a replica's claim on a running source lasts
// without renewal.
const DefaultLeaseTTL = 30 * time.Second

// ErrNotDue is returned by Start when Trigger.StillDue, checked after the
// lease is taken, finds the source no longer due: another replica ran it
// since the scheduler looked.
var ErrNotDue = errors.New("the source is no longer due")

// lease is the source's lease as this runner holds it; leases are named
// by source id.
func (r *Runner) lease(sourceID string) storage.Lease {
	return storage.Lease{Store: r.leases, Key: sourceID, Holder: r.holder, TTL: r.leaseTTL, Thing: "source"}
}

// takeLease claims the source for this replica. Without a lease store it
// always succeeds. When another replica holds the lease, the error is a
// *BusyError naming that replica's run when it can be found.
func (r *Runner) takeLease(ctx context.Context, sourceID string) error {
	ok, holder, err := r.lease(sourceID).Take(ctx)
	if err != nil {
		return fmt.Errorf("claim source %s: %w", sourceID, err)
	}
	if !ok {
		r.log.Debug("source is running on another replica", "source", sourceID, "holder", holder)
		return &BusyError{RunID: storage.RunInProgress(ctx, r.store, sourceID)}
	}
	r.abandonOrphans(ctx, sourceID, abandonedError)
	return nil
}

// abandonedError is the error of a run whose replica's lease expired.
const abandonedError = "abandoned: the replica running it stopped before it finished; a later run resumes from the last saved cursor"

// abandonOrphans marks runs left queued or running by a replica that died
// as failed with the reason given, and returns them: this replica holds
// the lease, so nobody else is running them. Their cursors were never
// saved, so nothing they did is lost: the next run reads the same changes
// again, and writes are idempotent.
func (r *Runner) abandonOrphans(ctx context.Context, sourceID, reason string) []storage.Run {
	failed, err := storage.FailUnfinishedRuns(ctx, r.store, sourceID, reason, r.now())
	if err != nil {
		r.log.Warn("cannot mark abandoned runs failed", "source", sourceID, "error", err)
	}
	return failed
}

// releaseLease gives the source up once its run's outcome is stored.
func (r *Runner) releaseLease(ctx context.Context, sourceID string) {
	if err := r.lease(sourceID).Release(ctx); err != nil {
		// The lease then lapses after leaseTTL; only a takeover waits.
		r.log.Warn("cannot release source lease", "source", sourceID, "error", err)
	}
}

// holdLease keeps the source's lease during a run: the context it
// returns ends, with the reason, when the lease is lost (lost is told
// first): another replica may run the source now, so this run must stop.
func (r *Runner) holdLease(parent context.Context, sourceID string, lost func(reason string)) (context.Context, func()) {
	return r.lease(sourceID).Hold(parent, func(err error) {
		r.log.Warn("cannot renew source lease; retrying", "source", sourceID, "error", err)
	}, lost)
}
