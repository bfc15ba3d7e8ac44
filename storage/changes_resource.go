package storage

import "time"

// ResourceChange is a change-log entry together with the run that wrote
// it, as a resource's history lists it (RunStore.ResourceChanges).
type ResourceChange struct {
	RunID string
	// SourceID is the run's source (for push runs, its application).
	SourceID  string
	RunStatus RunStatus
	Queued    time.Time
	Change
}

// MaxResourceChanges bounds one ResourceChanges answer.
const MaxResourceChanges = 200
