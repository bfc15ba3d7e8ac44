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

// takeLease claims the source for this replica. Without a lease store it
// always succeeds. When another replica holds the lease, the error is a
// *BusyError naming that replica's run when it can be found.
func (r *Runner) takeLease(ctx context.Context, sourceID string) error {
	if r.leases == nil {
		return nil
	}
	ok, holder, err := r.leases.AcquireLease(ctx, sourceID, r.holder, r.leaseTTL)
	if err != nil {
		return fmt.Errorf("claim source %s: %w", sourceID, err)
	}
	if !ok {
		busy := &BusyError{}
		if runs, err := r.store.ListRuns(ctx, sourceID, 1); err == nil && len(runs) == 1 &&
			(runs[0].Status == storage.RunQueued || runs[0].Status == storage.RunRunning) {
			busy.RunID = runs[0].ID
		}
		r.log.Debug("source is running on another replica", "source", sourceID, "holder", holder)
		return busy
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
	runs, err := r.store.ListRuns(ctx, sourceID, 5)
	if err != nil {
		return nil
	}
	var out []storage.Run
	for _, run := range runs {
		if run.Status != storage.RunQueued && run.Status != storage.RunRunning {
			continue
		}
		failed, err := r.store.UpdateRun(ctx, run.ID, func(x *storage.Run) error {
			x.Status, x.Finished, x.Error = storage.RunFailed, r.now(), reason
			return nil
		})
		if err != nil {
			r.log.Warn("cannot mark abandoned run failed", "source", sourceID, "run", run.ID, "error", err)
			continue
		}
		out = append(out, failed)
	}
	return out
}

// releaseLease gives the source up once its run's outcome is stored.
func (r *Runner) releaseLease(ctx context.Context, sourceID string) {
	if r.leases == nil {
		return
	}
	if err := r.leases.ReleaseLease(ctx, sourceID, r.holder); err != nil {
		// The lease then lapses after leaseTTL; only a takeover waits.
		r.log.Warn("cannot release source lease", "source", sourceID, "error", err)
	}
}

// keepLease renews the source's lease every third of its lifetime until
// ctx ends. When the lease is lost (renewal refused, or not renewed within
// its lifetime), lost is called: another replica may run the source now,
// so this run must stop.
func (r *Runner) keepLease(ctx context.Context, sourceID string, lost func(reason string)) {
	if r.leases == nil {
		return
	}
	t := time.NewTicker(r.leaseTTL / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, holder, err := r.leases.AcquireLease(ctx, sourceID, r.holder, r.leaseTTL)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && time.Since(renewed) < r.leaseTTL:
			r.log.Warn("cannot renew source lease; retrying", "source", sourceID, "error", err)
		case err != nil:
			lost("the replica could not renew its claim on the source in time: " + err.Error())
			return
		case !ok:
			lost("another replica (" + holder + ") took the source over")
			return
		default:
			renewed = time.Now()
		}
	}
}
