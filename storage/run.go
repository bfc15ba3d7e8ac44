package storage

import (
	"context"
	"encoding/json"
	"time"
)

// RunStatus is where a sync run is in its life.
type RunStatus string

// Run statuses. A run moves queued -> running -> succeeded | failed | held;
// a held run moves to succeeded (approved) or rejected.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunHeld      RunStatus = "held"
	RunRejected  RunStatus = "rejected"
)

// Finished reports whether the run will not change any more.
func (s RunStatus) Finished() bool {
	return s == RunSucceeded || s == RunFailed || s == RunRejected
}

// RunCounts are the totals of a run; they are updated while it runs.
type RunCounts struct {
	Fetched     int `json:"fetched"`
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Unchanged   int `json:"unchanged"`
	Deactivated int `json:"deactivated"`
	Deleted     int `json:"deleted"`
	Conflicts   int `json:"conflicts"`
	Errors      int `json:"errors"`
	// Unresolved counts group members and managers that never arrived.
	Unresolved int `json:"unresolved"`
	// Pending counts the deletions a held run waits to apply.
	Pending int `json:"pending"`
	// Linked counts records of a linked source joined in this run to a
	// person another source contributes to (by a link key); Unlinked
	// those split off a person because their keys no longer match it.
	Linked   int `json:"linked,omitempty"`
	Unlinked int `json:"unlinked,omitempty"`
	// Left counts records that left the source while another source
	// still contributes to their person (the person stays).
	Left int `json:"left,omitempty"`
}

// Run is one execution of a source's sync.
type Run struct {
	ID         string
	SourceID   string
	Status     RunStatus
	Trigger    string // schedule, manual, retry
	Mode       string // full or incremental (what the source actually did)
	DryRun     bool
	Queued     time.Time
	Started    time.Time
	Finished   time.Time
	Counts     RunCounts
	Error      string
	Notes      []string // e.g. "delta token expired: full resync"
	Cursor     []byte   // produced by the run; becomes the source's on success
	DecidedBy  string   // who approved or rejected a held run
	ChangeLogN int      // changes recorded (the log is capped)
}

// Change actions in a run's change log.
const (
	ChangeCreate     = "create"
	ChangeUpdate     = "update"
	ChangeReactivate = "reactivate"
	ChangeDeactivate = "deactivate"
	ChangeDelete     = "delete"
	ChangeConflict   = "conflict"
	ChangeError      = "error"
	ChangeUnresolved = "unresolved"
	// Identity linking (storage/link.go): a record joined to a person by
	// a link key, split off one (Detail says why), or gone from its
	// source while the person stays.
	ChangeLink   = "link"
	ChangeUnlink = "unlink"
	ChangeLeave  = "leave"
)

// Change is one entry of a run's change log.
type Change struct {
	Seq        int             `json:"seq"`
	Action     string          `json:"action"`
	Kind       string          `json:"kind"` // User or Group
	ResourceID string          `json:"resourceId,omitempty"`
	Key        string          `json:"sourceKey,omitempty"`
	Name       string          `json:"name,omitempty"`
	Detail     string          `json:"detail,omitempty"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

// PendingDeletion is a removal a held run will apply if approved.
type PendingDeletion struct {
	Kind   string `json:"kind"` // User or Group
	ID     string `json:"id"`
	Key    string `json:"sourceKey"`
	Name   string `json:"name"`
	Action string `json:"action"` // deactivate or delete
}

// RunStore keeps run history.
type RunStore interface {
	// CreateRun stores r with a new ID.
	CreateRun(ctx context.Context, r Run) (Run, error)
	// GetRun returns a run of a source. ErrNotFound if there is none.
	GetRun(ctx context.Context, sourceID, runID string) (Run, error)
	// ListRuns returns up to limit runs of a source, newest first.
	ListRuns(ctx context.Context, sourceID string, limit int) ([]Run, error)
	// UpdateRun runs update on the current run in a transaction.
	UpdateRun(ctx context.Context, runID string, update func(*Run) error) (Run, error)
	// AddChanges appends entries to a run's change log (Seq is set by the
	// caller).
	AddChanges(ctx context.Context, runID string, changes []Change) error
	// ListChanges pages through a run's change log in Seq order, with the
	// total number of entries.
	ListChanges(ctx context.Context, runID string, offset, limit int) ([]Change, int, error)
	// ResourceChanges returns the change-log entries of any run that name
	// resourceID (a user's or group's id), newest run first and, within a
	// run, latest entry first; at most limit of them (capped at
	// MaxResourceChanges). None for an unknown id: not an error.
	ResourceChanges(ctx context.Context, resourceID string, limit int) ([]ResourceChange, error)
	// SetPending replaces the deletions a held run waits to apply.
	SetPending(ctx context.Context, runID string, p []PendingDeletion) error
	// ListPending returns a held run's deletions, page by page, with the total.
	ListPending(ctx context.Context, runID string, offset, limit int) ([]PendingDeletion, int, error)
	// FinishRun stores the final state of r and, when saveCursor is set,
	// r.Cursor as its source's cursor, in one transaction, so a cursor is
	// never saved without its run's outcome. It also clears the run's
	// pending deletions once the run is finished.
	FinishRun(ctx context.Context, r Run, saveCursor bool, health func(*SourceHealth)) (Run, error)
}
