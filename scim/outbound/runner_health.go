package outbound

import (
	"fmt"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// An app's push is quarantined (unhealthy, backing off) as a source is:
// after sources.UnhealthyAfter failed runs in a row, with sources.Backoff
// between retries. A run that completes but whose objects mostly failed
// in the target counts as a failure and quarantines the app at once, as
// Entra's provisioning does: a target that rejects most requests should
// not be sent more of them every few seconds.

// mostFailedMin is the fewest failed objects that can make a run "most
// objects failed": one bad record in a small app is that record's
// problem (retried next run), not the target's.
const mostFailedMin = 5

// mostObjectsFailed reports whether more than half of the objects a run
// tried to change failed.
func mostObjectsFailed(c storage.RunCounts) bool {
	return c.Errors >= mostFailedMin && c.Errors*2 > triedObjects(c)
}

// triedObjects is how many objects a run tried to change.
func triedObjects(c storage.RunCounts) int {
	return c.Created + c.Updated + c.Deactivated + c.Deleted + c.Errors
}

// updateHealth records a finished run in its app's push health. LastRunAt
// is when the run started, so an interval schedule counts from starts.
func updateHealth(h *storage.SourceHealth, run storage.Run, now time.Time) {
	h.LastRunAt = run.Started
	if h.LastRunAt.IsZero() {
		h.LastRunAt = now
	}
	if run.DryRun || run.Status == storage.RunRejected {
		return
	}
	mostFailed := run.Status == storage.RunSucceeded && mostObjectsFailed(run.Counts)
	o := sources.Outcome{Failed: run.Status == storage.RunFailed || mostFailed, Error: run.Error,
		Full: run.Mode == "full", Quarantine: mostFailed}
	if mostFailed {
		o.Error = fmt.Sprintf("%d of the %d objects the push tried to change failed in the target; see the run's changes",
			run.Counts.Errors, triedObjects(run.Counts))
	}
	sources.RecordOutcome(h, o, now)
}
