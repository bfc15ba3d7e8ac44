package sources

import (
	"time"

	"github.com/scimgate/scimgate/storage"
)

// UnhealthyAfter is how many failed runs in a row mark a source (or an
// app's push) unhealthy.
const UnhealthyAfter = 3

// Backoff is how long a scheduler waits after the n-th failure in a row:
// minutes for the first retries, then hours, like Entra's quarantine, so
// a broken upstream or target is not hammered.
func Backoff(n int) time.Duration {
	switch {
	case n <= 0:
		return 0
	case n == 1:
		return time.Minute
	case n == 2:
		return 10 * time.Minute
	}
	d := time.Hour << min(n-3, 4) // 1h, 2h, 4h, 8h, 16h
	return min(d, 12*time.Hour)
}

// Outcome is what a finished run (a source's sync, an app's push) tells
// its owner's health.
type Outcome struct {
	Failed bool
	// Error is why it failed, kept as the health's LastError.
	Error string
	// Full says a successful run was complete (a full enumeration or a
	// full push), which is when the last full one is counted from.
	Full bool
	// Quarantine makes a failure unhealthy at once, without waiting for
	// UnhealthyAfter failures in a row.
	Quarantine bool
}

// RecordOutcome updates h after a run at now: a failure counts up, backs
// off (Backoff) and marks unhealthy after UnhealthyAfter in a row; a
// success clears all that. When the run counts as the last run (LastRunAt)
// is the caller's business: the sync counts from finishes, the push from
// starts.
func RecordOutcome(h *storage.SourceHealth, o Outcome, now time.Time) {
	if o.Failed {
		h.ConsecutiveFailures++
		h.LastError = o.Error
		h.BackoffUntil = now.Add(Backoff(h.ConsecutiveFailures))
		h.Unhealthy = o.Quarantine || h.ConsecutiveFailures >= UnhealthyAfter
		return
	}
	h.ConsecutiveFailures, h.LastError, h.Unhealthy = 0, "", false
	h.BackoffUntil = time.Time{}
	h.LastSuccessAt = now
	if o.Full {
		h.LastFullAt = now
	}
}
