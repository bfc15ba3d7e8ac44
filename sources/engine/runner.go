package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/runset"
	"github.com/scimgate/scimgate/storage"
)

// RunnerStore is the part of the store the runner needs.
type RunnerStore interface {
	EngineStore
	storage.SourceStore
}

// Runner starts runs, at most one per source at a time and at most
// MaxConcurrent overall; it decides held runs and stops runs cleanly on
// shutdown. "One per source" holds across replicas too: see
// runner_lease.go.
type Runner struct {
	store  RunnerStore
	kinds  sources.Registry
	sealer *Sealer
	engine *engine
	log    *slog.Logger
	now    func() time.Time
	// Observe, when set, is told about every finished run (metrics).
	Observe func(src storage.Source, run storage.Run)
	// ObserveUpstream, when set, is told about every request a connector
	// makes upstream, with its outcome (UpstreamOK, ...).
	ObserveUpstream func(src storage.Source, outcome sources.UpstreamOutcome)
	// env is what every source is opened with (RunnerOptions.Env).
	env sources.Env

	runs *runset.Set // keyed by source id

	leases   storage.LeaseStore // nil: this replica only (see runner_lease.go)
	holder   string             // this runner's name in leases
	leaseTTL time.Duration
	// singleProcess: no other process serves the database (SQLite), so
	// runs left unfinished at start-up were interrupted (runner_recover.go).
	singleProcess bool
}

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	MaxConcurrent int // default 4
	Logger        *slog.Logger
	// LeaseTTL is how long this replica's claim on a running source lasts
	// without renewal (default DefaultLeaseTTL).
	LeaseTTL time.Duration
	// SingleProcess says this process alone serves the database (SQLite):
	// RecoverInterrupted then fails the runs a stopped process left behind
	// at once instead of after their leases expire.
	SingleProcess bool
	// Env is what sources are opened with; the runner sets its Logger (per
	// source) and Upstream (ObserveUpstream). Tests put a fake clock and an
	// emulator's HTTP client here.
	Env sources.Env
	// BatchSize is the most records one write transaction holds (default
	// 5,000, see engine.batchSize); tests make it small to see several
	// batches in a small directory.
	BatchSize int
}

// NewRunner returns a runner.
func NewRunner(store RunnerStore, kinds sources.Registry, sealer *Sealer, opts RunnerOptions) *Runner {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	leases, _ := store.(storage.LeaseStore)
	return &Runner{
		store: store, kinds: kinds, sealer: sealer, log: opts.Logger, now: store.Now,
		engine: newEngine(store, opts.Logger, opts.BatchSize),
		runs:   runset.New(opts.MaxConcurrent, func(id string) error { return &BusyError{RunID: id} }, ErrShuttingDown),
		leases: leases, holder: storage.NewLeaseHolder(), leaseTTL: opts.LeaseTTL,
		singleProcess: opts.SingleProcess, env: opts.Env,
	}
}

// BusyError says a source already has a run in progress; a run-now is
// refused rather than queued, so an admin never stacks up runs.
type BusyError struct{ RunID string }

func (e *BusyError) Error() string {
	return fmt.Sprintf("a run of this source is already in progress (run %s); wait for it to finish", e.RunID)
}

// HeldError says the source's last run waits for an admin's decision; no
// new run starts until it is approved or rejected.
type HeldError struct{ RunID string }

func (e *HeldError) Error() string {
	return fmt.Sprintf("run %s of this source is held for approval; approve or reject it first", e.RunID)
}

// ErrShuttingDown is returned by Start during shutdown.
var ErrShuttingDown = errors.New("scimgate is shutting down")

// ErrNotHeld is returned when approving or rejecting a run that is not held.
var ErrNotHeld = errors.New("the run is not held")

// ErrDisabled is returned when a scheduled run finds its source disabled.
var ErrDisabled = errors.New("the source is disabled")

// Trigger says why and how a run starts.
type Trigger struct {
	Reason string // manual, schedule, retry
	Full   bool
	DryRun bool
	// StillDue, when set, is asked again with the source as stored once
	// this replica holds the source's lease; false makes Start return
	// ErrNotDue. The scheduler sets it: its list of sources may predate a
	// run another replica has just finished.
	StillDue func(storage.Source) bool
}

// Start queues a run of the source and returns it; the run goes on in
// the background. A *BusyError if the source has a run in progress; an
// *InvalidConfigError if its configuration does not validate.
func (r *Runner) Start(ctx context.Context, sourceID string, t Trigger) (storage.Run, error) {
	src, err := r.store.GetSource(ctx, sourceID)
	if err != nil {
		return storage.Run{}, err
	}
	prep, err := Prepare(r.kinds, src, r.sealer)
	if err != nil {
		return storage.Run{}, err
	}
	var run storage.Run
	err = r.runs.Begin(sourceID, func() (string, error) {
		if err := r.takeLease(ctx, sourceID); err != nil {
			return "", err
		}
		if src, run, err = r.queue(ctx, src, t); err != nil {
			// Give the lease back on the way out of Start.
			r.releaseLease(context.WithoutCancel(ctx), sourceID)
			return "", err
		}
		return run.ID, nil
	})
	if err != nil {
		return storage.Run{}, err
	}
	go r.execute(src, prep, run, t)
	return run, nil
}

// queue creates the queued run of src once this replica holds the
// source's lease, unless the trigger finds the source no longer due as
// stored now or its latest run waits for an admin. It returns the source
// as it was last read.
func (r *Runner) queue(ctx context.Context, src storage.Source, t Trigger) (storage.Source, storage.Run, error) {
	if t.StillDue != nil {
		stored, err := r.store.GetSource(ctx, src.ID)
		if err != nil {
			return src, storage.Run{}, err
		}
		if src = stored; !t.StillDue(src) {
			return src, storage.Run{}, ErrNotDue
		}
	}
	if latest, err := r.store.ListRuns(ctx, src.ID, 1); err == nil && len(latest) == 1 && latest[0].Status == storage.RunHeld {
		return src, storage.Run{}, &HeldError{RunID: latest[0].ID}
	}
	run, err := r.store.CreateRun(ctx, storage.Run{SourceID: src.ID, Status: storage.RunQueued, Trigger: t.Reason, DryRun: t.DryRun, Queued: r.now()})
	return src, run, err
}

// Running reports the id of the source's run in progress, if any.
func (r *Runner) Running(sourceID string) (string, bool) { return r.runs.Running(sourceID) }

func (r *Runner) execute(src storage.Source, prep Prepared, run storage.Run, t Trigger) {
	defer r.runs.End(src.ID)
	// The lease is held from Start until the outcome is stored; losing it
	// cancels the run, as another replica may be running the source.
	defer r.releaseLease(context.WithoutCancel(r.runs.Context()), src.ID)
	ctx, stop := r.holdLease(r.runs.Context(), src.ID, func(reason string) {
		r.log.Error("run canceled: this replica lost its claim on the source", "source", src.Name, "run", run.ID, "reason", reason)
	})
	defer stop()
	env := r.sourceEnv(src)
	// Store writes after cancellation still need a live context, so the
	// outcome of a canceled run is recorded.
	record := context.WithoutCancel(ctx)
	release, ok := r.runs.Slot(ctx)
	if !ok {
		r.finish(record, src, storage.Run{ID: run.ID, SourceID: src.ID, Status: storage.RunFailed, Trigger: run.Trigger, DryRun: run.DryRun,
			Queued: run.Queued, Finished: r.now(), Error: "canceled before it started: scimgate is shutting down"}, false)
		return
	}
	defer release()
	run, err := r.store.UpdateRun(record, run.ID, func(x *storage.Run) error {
		x.Status, x.Started = storage.RunRunning, r.now()
		return nil
	})
	if err != nil {
		r.log.Error("cannot mark run running", "source", src.ID, "run", run.ID, "error", err)
		return
	}
	opened, err := prep.Open(env)
	if err != nil {
		run.Status, run.Error, run.Finished = storage.RunFailed, err.Error(), r.now()
		r.finish(record, src, run, false)
		return
	}
	out := r.engine.execute(ctx, runJob{
		Source: src, Run: run, Opened: opened, Mapping: prep.Mapping, Scope: prep.Scope, Link: prep.Link,
		Full: t.Full, DryRun: t.DryRun, Precedence: r.precedence(record),
	})
	if out.Run.Status == storage.RunHeld {
		if t.DryRun {
			// A dry run only reports that it would be held.
			out.Run.Status, out.Run.Finished = storage.RunSucceeded, r.now()
			out.Run.Notes = append(out.Run.Notes, "dry run: a real run would be held for approval")
			r.finish(record, src, out.Run, false)
			return
		}
		if err := r.store.SetPending(record, run.ID, out.Pending); err != nil {
			r.log.Error("cannot store held deletions", "run", run.ID, "error", err)
			out.Run.Status, out.Run.Error = storage.RunFailed, "cannot store the held deletions: "+err.Error()
			r.finish(record, src, out.Run, false)
			return
		}
		held := out.Run
		if _, err := r.store.UpdateRun(record, run.ID, func(x *storage.Run) error {
			*x = held
			return nil
		}); err != nil {
			r.log.Error("cannot mark run held", "run", run.ID, "error", err)
		}
		r.log.Warn("run held for approval", "source", src.Name, "run", run.ID, "pending", held.Counts.Pending)
		r.observe(src, held)
		return
	}
	r.finish(record, src, out.Run, out.SaveCursor)
}

// finish stores a run's outcome with the source's health, and the cursor
// only when the run succeeded.
func (r *Runner) finish(ctx context.Context, src storage.Source, run storage.Run, saveCursor bool) {
	failed := run.Status == storage.RunFailed
	now := r.now()
	stored, err := r.store.FinishRun(ctx, run, saveCursor, func(h *storage.SourceHealth) {
		h.LastRunAt = now
		if run.DryRun {
			return
		}
		sources.RecordOutcome(h, sources.Outcome{Failed: failed, Error: run.Error, Full: run.Mode == "full"}, now)
	})
	if err != nil {
		r.log.Error("cannot record run outcome", "source", src.ID, "run", run.ID, "error", err)
		return
	}
	level := slog.LevelInfo
	if failed {
		level = slog.LevelWarn
	}
	r.log.Log(ctx, level, "run finished", "source", src.Name, "run", run.ID, "status", stored.Status,
		"created", stored.Counts.Created, "updated", stored.Counts.Updated, "deactivated", stored.Counts.Deactivated,
		"deleted", stored.Counts.Deleted, "conflicts", stored.Counts.Conflicts, "errors", stored.Counts.Errors, "error", stored.Error)
	r.observe(src, stored)
}

func (r *Runner) observe(src storage.Source, run storage.Run) {
	if r.Observe != nil {
		r.Observe(src, run)
	}
}

// precedence looks other owners up among the sources; push clients
// (SCIM writer tokens) have the default precedence.
func (r *Runner) precedence(ctx context.Context) func(owner string) (int, bool) {
	srcs, err := r.store.ListSources(ctx)
	byOwner := map[string]int{}
	if err == nil {
		for _, s := range srcs {
			byOwner[s.Owner()] = s.Precedence
		}
	}
	return func(owner string) (int, bool) {
		if p, ok := byOwner[owner]; ok {
			return p, true
		}
		return DefaultPrecedence, true
	}
}

// DefaultPrecedence is the precedence of sources that set none and of
// push clients.
const DefaultPrecedence = 100

// Approve applies a held run's deletions and saves its cursor.
func (r *Runner) Approve(ctx context.Context, sourceID, runID, actor string) (storage.Run, error) {
	return r.decide(ctx, sourceID, runID, actor, true)
}

// Reject discards a held run's deletions; the old cursor stays, so the
// next run looks at the same changes again.
func (r *Runner) Reject(ctx context.Context, sourceID, runID, actor string) (storage.Run, error) {
	return r.decide(ctx, sourceID, runID, actor, false)
}

func (r *Runner) decide(ctx context.Context, sourceID, runID, actor string, approve bool) (storage.Run, error) {
	// No new run while the decision is applied; Shutdown waits for it.
	if err := r.runs.Begin(sourceID, func() (string, error) { return runID, r.takeLease(ctx, sourceID) }); err != nil {
		return storage.Run{}, err
	}
	defer func() {
		r.releaseLease(context.WithoutCancel(ctx), sourceID)
		r.runs.End(sourceID)
	}()
	run, err := r.store.GetRun(ctx, sourceID, runID)
	if err != nil {
		return storage.Run{}, err
	}
	if run.Status != storage.RunHeld {
		return storage.Run{}, fmt.Errorf("run %s is %s: %w", runID, run.Status, ErrNotHeld)
	}
	src, err := r.store.GetSource(ctx, sourceID)
	if err != nil {
		return storage.Run{}, err
	}
	run.DecidedBy = actor
	if !approve {
		run.Status, run.Finished = storage.RunRejected, r.now()
		run.Notes = append(run.Notes, "rejected by "+actor+": nothing was removed")
		run.Counts.Pending = 0
		out, err := r.store.FinishRun(ctx, run, false, func(h *storage.SourceHealth) {})
		if err == nil {
			r.observe(src, out)
		}
		return out, err
	}
	var pending []storage.PendingDeletion
	for offset := 0; ; offset += 1000 {
		page, total, err := r.store.ListPending(ctx, runID, offset, 1000)
		if err != nil {
			return storage.Run{}, err
		}
		pending = append(pending, page...)
		if offset+len(page) >= total || len(page) == 0 {
			break
		}
	}
	applied, err := r.engine.applyHeld(ctx, src, run, pending)
	if err != nil {
		return storage.Run{}, fmt.Errorf("apply held deletions: %w", err)
	}
	applied.Status, applied.Finished = storage.RunSucceeded, r.now()
	applied.Notes = append(applied.Notes, "approved by "+actor)
	now := r.now()
	out, err := r.store.FinishRun(ctx, applied, true, func(h *storage.SourceHealth) {
		sources.RecordOutcome(h, sources.Outcome{Full: applied.Mode == "full"}, now)
	})
	if err == nil {
		r.observe(src, out)
	}
	return out, err
}

// Test checks a source's connectivity and credentials.
func (r *Runner) Test(ctx context.Context, sourceID string) error {
	src, err := r.store.GetSource(ctx, sourceID)
	if err != nil {
		return err
	}
	prep, err := Prepare(r.kinds, src, r.sealer)
	if err != nil {
		return err
	}
	opened, err := prep.Open(r.sourceEnv(src))
	if err != nil {
		return err
	}
	t, ok := opened.(sources.Tester)
	if !ok {
		return nil
	}
	return t.Test(ctx)
}

// sourceEnv is what src is opened with, for a run or a test: the
// runner's Env with the source's logger and its upstream observer, so a
// "test connection" counts in the upstream metrics as a run's requests do.
func (r *Runner) sourceEnv(src storage.Source) sources.Env {
	env := r.env
	env.Logger = r.log.With("source", src.Name, "kind", src.Kind)
	if obs := r.ObserveUpstream; obs != nil {
		env.Upstream = sources.UpstreamFunc(func(outcome sources.UpstreamOutcome) { obs(src, outcome) })
	}
	return env
}

// Shutdown stops accepting runs and decisions and waits for running
// ones; when ctx ends first, they are canceled (their cursors are not
// saved) and waited for.
func (r *Runner) Shutdown(ctx context.Context) { r.runs.Shutdown(ctx) }
