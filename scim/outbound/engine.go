package outbound

import (
	"context"
	"errors"

	"github.com/scimgate/scimgate/storage"
)

// EngineStore is what the push engine reads (the app's view, through
// Query.View) and writes (its bookkeeping and the run's log).
type EngineStore interface {
	storage.Clock
	ListUsers(ctx context.Context, q storage.Query) (storage.UserPage, error)
	ListGroups(ctx context.Context, q storage.Query, withMembers bool) (storage.GroupPage, error)
	storage.PushStore
}

// PushJob is one run of one app's push, as the runner hands it over.
type PushJob struct {
	App    storage.App
	Target Target
	// Run is the run being executed (status running); the engine records
	// counts and changes on it through PushRuns.
	Run    storage.Run
	Full   bool // mode=full: read the target and reconcile everything
	DryRun bool // send nothing; record every request it would send
	// Approved applies removals past the app's deletion limits: the
	// pending list of a held run an admin approved.
	Approved []storage.PendingDeletion
}

// PushOutcome is how a push ended. Run carries the final counts, mode,
// notes and error; its Status is RunSucceeded, RunFailed or RunHeld (with
// Pending the removals waiting for approval). SaveCursor says whether
// Run.Cursor should become the app's cursor.
type PushOutcome struct {
	Run        storage.Run
	Pending    []storage.PendingDeletion
	SaveCursor bool
}

// Pusher runs pushes; the engine implements it and the runner uses it.
type Pusher interface {
	Push(ctx context.Context, job PushJob) PushOutcome
}

// ErrHeld is the error of a run held for approval.
var ErrHeld = errors.New("outbound: the push would remove more than the app's deletion limits; approve or reject the held run")
