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
	tried := c.Created + c.Updated + c.Deactivated + c.Deleted + c.Errors
	return c.Errors >= mostFailedMin && c.Errors*2 > tried
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
	if run.Status == storage.RunFailed || mostFailed {
		h.ConsecutiveFailures++
		h.LastError = run.Error
		if mostFailed {
			tried := run.Counts.Created + run.Counts.Updated + run.Counts.Deactivated + run.Counts.Deleted + run.Counts.Errors
			h.LastError = fmt.Sprintf("%d of the %d objects the push tried to change failed in the target; see the run's changes", run.Counts.Errors, tried)
		}
		h.BackoffUntil = now.Add(sources.Backoff(h.ConsecutiveFailures))
		h.Unhealthy = mostFailed || h.ConsecutiveFailures >= sources.UnhealthyAfter
		return
	}
	h.ConsecutiveFailures, h.LastError, h.Unhealthy = 0, "", false
	h.BackoffUntil = time.Time{}
	h.LastSuccessAt = now
	if run.Mode == "full" {
		h.LastFullAt = now
	}
}
