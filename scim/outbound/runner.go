package outbound

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// This file is the runner's contract (the pushrunner work fills it in):
// the API and the CLI are written against these names.

// RunnerStore is the part of the store the runner needs.
type RunnerStore interface {
	EngineStore
	storage.AppStore
	storage.LeaseStore
}

// Opener opens sealed push secrets (engine.Sealer implements it; the app
// id is what they are bound to).
type Opener interface {
	Open(id, name string, sealed []byte) (string, error)
}

// Trigger says why and how a push starts.
type Trigger struct {
	Reason string // manual, schedule, change, retry
	Full   bool
	DryRun bool
	// stillDue, set by the Scheduler, is asked again with the app and its
	// push state as stored once this replica holds the app's lease; false
	// makes Start refuse with errNotDue (another replica just pushed).
	stillDue func(storage.App, storage.PushState) bool
}

// BusyError says the app has a push in progress (HTTP 409).
type BusyError struct{ RunID string }

func (e *BusyError) Error() string {
	return fmt.Sprintf("a push of this app is already in progress (run %s); wait for it to finish", e.RunID)
}

// HeldError says the app's last push waits for an admin's decision.
type HeldError struct{ RunID string }

func (e *HeldError) Error() string {
	return fmt.Sprintf("push run %s of this app is held for approval; approve or reject it first", e.RunID)
}

// ErrNoPush is returned for an app that has no push configured.
var ErrNoPush = errors.New("this app has no push configured; set \"push\" on the app first")

// ErrNotHeld is returned when approving or rejecting a run that is not held.
var ErrNotHeld = errors.New("the run is not held")

// TestReport is what POST /api/v1/apps/{id}/test answers: each check in
// order, and whether it passed.
type TestReport struct {
	OK     bool        `json:"ok"`
	Checks []TestCheck `json:"checks"`
}

// TestCheck is one step of a test: reach, auth, capabilities, ...
type TestCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Pushes is what the API and the CLI use to run pushes.
type Pushes interface {
	Start(ctx context.Context, appID string, t Trigger) (storage.Run, error)
	Running(appID string) (runID string, ok bool)
	Approve(ctx context.Context, appID, runID, actor string) (storage.Run, error)
	Reject(ctx context.Context, appID, runID, actor string) (storage.Run, error)
	Test(ctx context.Context, appID string) (TestReport, error)
}
