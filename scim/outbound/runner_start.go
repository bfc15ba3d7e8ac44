package outbound

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/runset"
	"github.com/scimgate/scimgate/storage"
)

// Runner starts pushes, at most one per app at a time (across replicas
// too: see runner_lease.go) and at most MaxConcurrent overall; it decides
// held runs and stops runs cleanly on shutdown. It implements Pushes.
//
// Wiring (cmd): NewRunner(store, NewEngine(store, ...), RunnerOptions{
// OpenTarget: a NewClient over the app's push, Opener: the sealer, ...});
// RecoverInterrupted at start-up on SQLite; NewScheduler(store, runner,
// log, store.Now).Run(ctx) in the background; Shutdown on the way out.
type Runner struct {
	store      RunnerStore
	pusher     Pusher
	openTarget func(ctx context.Context, app storage.App, secrets map[string]string) (Target, error)
	opener     Opener
	httpClient *http.Client
	log        *slog.Logger
	now        func() time.Time
	observe    func(app storage.App, run storage.Run)

	runs *runset.Set // keyed by app id

	holder        string // this runner's name in leases
	leaseTTL      time.Duration
	singleProcess bool
}

var _ Pushes = (*Runner)(nil)

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	// OpenTarget opens an app's target with its secrets in the clear
	// (cmd wires it to the SCIM client; tests to an emulator or a fake).
	OpenTarget func(ctx context.Context, app storage.App, secrets map[string]string) (Target, error)
	// Opener opens the push's sealed secrets; nil only works for apps
	// whose push has none.
	Opener Opener
	// HTTPClient carries Test's reach check, an unauthenticated GET of
	// the target's /ServiceProviderConfig (default: a client that refuses
	// link-local addresses, like the sources').
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MaxConcurrent bounds the pushes running at once (default 4).
	MaxConcurrent int
	// LeaseTTL is how long this replica's claim on a pushing app lasts
	// without renewal (default 30s).
	LeaseTTL time.Duration
	// SingleProcess says this process alone serves the database (SQLite):
	// RecoverInterrupted then fails the pushes a stopped process left
	// behind at once instead of after their leases expire.
	SingleProcess bool
	// Observe, when set, is told about every finished or held run (metrics).
	Observe func(app storage.App, run storage.Run)
}

// DefaultLeaseTTL is how long a replica's claim on a pushing app lasts
// without renewal.
const DefaultLeaseTTL = 30 * time.Second

// ErrShuttingDown is returned by Start, Approve and Reject during shutdown.
var ErrShuttingDown = errors.New("scimgate is shutting down")

// errNotDue is returned by Start when the scheduler's trigger, checked
// again once this replica holds the app's lease, finds the push no longer
// due: another replica ran it since the scheduler looked.
var errNotDue = errors.New("the push is no longer due")

// NewRunner returns a runner; the store's clock is its clock.
func NewRunner(store RunnerStore, pusher Pusher, opts RunnerOptions) *Runner {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = sources.GuardedHTTPClient(0)
	}
	return &Runner{
		store: store, pusher: pusher, openTarget: opts.OpenTarget, opener: opts.Opener,
		httpClient: opts.HTTPClient, log: opts.Logger, now: store.Now, observe: opts.Observe,
		runs:   runset.New(opts.MaxConcurrent, func(id string) error { return &BusyError{RunID: id} }, ErrShuttingDown),
		holder: storage.NewLeaseHolder(), leaseTTL: opts.LeaseTTL, singleProcess: opts.SingleProcess,
	}
}

// Start queues a push of the app (by id or name) and returns its run; the
// push goes on in the background. ErrNoPush when the app has no push, a
// *BusyError while one runs (here or on another replica), a *HeldError
// while its latest run waits for an admin.
func (r *Runner) Start(ctx context.Context, appID string, t Trigger) (storage.Run, error) {
	app, err := r.store.GetApp(ctx, appID)
	if err != nil {
		return storage.Run{}, err
	}
	if app.Push == nil {
		return storage.Run{}, ErrNoPush
	}
	var run storage.Run
	err = r.runs.Begin(app.ID, func() (string, error) {
		if err := r.takeLease(ctx, app.ID); err != nil {
			return "", err
		}
		if app, run, err = r.queue(ctx, app, t); err != nil {
			r.releaseLease(context.WithoutCancel(ctx), app.ID)
			return "", err
		}
		return run.ID, nil
	})
	if err != nil {
		return storage.Run{}, err
	}
	go r.execute(app, run, t.Full, nil)
	return run, nil
}

// queue creates the queued run of a push once this replica holds the
// app's lease, unless the scheduler's trigger finds it no longer due on
// what is stored now or the app's latest run waits for an admin. It
// returns the app as it was last read.
func (r *Runner) queue(ctx context.Context, app storage.App, t Trigger) (storage.App, storage.Run, error) {
	if t.stillDue != nil {
		// The scheduler's view may predate a push another replica just
		// finished: decide again on what is stored now.
		stored, err := r.store.GetApp(ctx, app.ID)
		if err != nil {
			return app, storage.Run{}, err
		}
		app = stored
		state, err := r.store.GetPushState(ctx, app.ID)
		if err != nil {
			return app, storage.Run{}, err
		}
		if app.Push == nil || !t.stillDue(app, state) {
			return app, storage.Run{}, errNotDue
		}
	}
	runs := r.store.PushRuns()
	if latest, err := runs.ListRuns(ctx, app.ID, 1); err != nil {
		return app, storage.Run{}, err
	} else if len(latest) == 1 && latest[0].Status == storage.RunHeld {
		return app, storage.Run{}, &HeldError{RunID: latest[0].ID}
	}
	run, err := runs.CreateRun(ctx, storage.Run{SourceID: app.ID, Status: storage.RunQueued,
		Trigger: t.Reason, DryRun: t.DryRun, Queued: r.now()})
	return app, run, err
}

// Running reports the id of the app's push in progress, if any.
func (r *Runner) Running(appID string) (string, bool) { return r.runs.Running(appID) }

// Shutdown stops accepting pushes and waits for running ones; when ctx
// ends first, they are canceled (recorded as failed, their cursors not
// saved) and waited for.
func (r *Runner) Shutdown(ctx context.Context) { r.runs.Shutdown(ctx) }
