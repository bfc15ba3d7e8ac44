package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// env is a push runner over a real SQLite store, with a fake Pusher and
// a manual clock shared by both.
type env struct {
	store  *sqlstore.Store
	clock  *sourcetest.Clock
	pusher *fakePusher
	sealer *engine.Sealer
	runner *outbound.Runner
	app    storage.App
	// opened records the secrets each target was opened with.
	mu     sync.Mutex
	opened []map[string]string
}

var epoch = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, push storage.PushConfig) *env {
	t.Helper()
	return newEnvAt(t, filepath.Join(t.TempDir(), "push.db"), push)
}

// newEnvAt is newEnv on the database at dsn (a SQLite path or a
// PostgreSQL DSN).
func newEnvAt(t testing.TB, dsn string, push storage.PushConfig) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{clock: sourcetest.NewClock(epoch), pusher: &fakePusher{}}
	e.store = e.openStore(t, dsn)
	var err error
	if e.sealer, err = engine.NewSealer(make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	e.runner = e.newRunner(outbound.RunnerOptions{})
	t.Cleanup(func() { e.runner.Shutdown(context.Background()) })
	id := storage.NewID()
	if push.URL == "" {
		push.URL = "https://app.example.com/scim/v2"
	}
	switch {
	case push.Auth.Type == "":
		push.Auth.Type = storage.PushAuthBearer
		push.Secrets = map[string][]byte{storage.PushSecretToken: e.sealer.Seal(id, storage.PushSecretToken, "s3cret")}
	case push.Auth.Type == storage.PushAuthOAuth2 && push.Secrets == nil:
		push.Secrets = map[string][]byte{storage.PushSecretClientSecret: e.sealer.Seal(id, storage.PushSecretClientSecret, "client-s3cret")}
	}
	e.app, err = e.store.CreateApp(ctx, storage.App{ID: id, Name: "slack", Groups: storage.GroupsAll, Push: &push})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// openStore opens another store on dsn with e's clock (a replica).
func (e *env) openStore(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// newRunner makes a runner on e's store (a second one is another replica).
func (e *env) newRunner(opts outbound.RunnerOptions) *outbound.Runner {
	if opts.Opener == nil {
		opts.Opener = e.sealer
	}
	if opts.OpenTarget == nil {
		opts.OpenTarget = func(ctx context.Context, app storage.App, secrets map[string]string) (outbound.Target, error) {
			e.mu.Lock()
			e.opened = append(e.opened, secrets)
			e.mu.Unlock()
			return nopTarget{}, nil
		}
	}
	return outbound.NewRunner(e.store, e.pusher, opts)
}

// start starts a manual push and waits until it is finished or held.
func (e *env) start(t *testing.T, trig outbound.Trigger) storage.Run {
	t.Helper()
	if trig.Reason == "" {
		trig.Reason = "manual"
	}
	run, err := e.runner.Start(context.Background(), e.app.ID, trig)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return e.wait(t, e.runner, run.ID)
}

// wait polls until the run is finished or held and the runner is done
// with it; it asserts nothing about how long that takes.
func (e *env) wait(t testing.TB, r *outbound.Runner, runID string) storage.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		run, err := e.store.PushRuns().GetRun(context.Background(), e.app.ID, runID)
		if err != nil {
			t.Fatal(err)
		}
		if _, busy := r.Running(e.app.ID); (run.Status.Finished() || run.Status == storage.RunHeld) && !busy {
			return run
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("push %s did not finish", runID)
	return storage.Run{}
}

func (e *env) state(t *testing.T) storage.PushState {
	t.Helper()
	st, err := e.store.GetPushState(context.Background(), e.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fakePusher records the jobs it is given and ends each with the outcome
// its outcome func chooses (default: succeeded, incremental, cursor saved).
// With gate set, a push waits for a value on it (or for its context).
type fakePusher struct {
	mu      sync.Mutex
	jobs    []outbound.PushJob
	outcome func(job outbound.PushJob) outbound.PushOutcome
	gate    chan struct{}
	started chan string // run ids, when set
}

func (p *fakePusher) Push(ctx context.Context, job outbound.PushJob) outbound.PushOutcome {
	p.mu.Lock()
	p.jobs = append(p.jobs, job)
	outcome, gate, started := p.outcome, p.gate, p.started
	p.mu.Unlock()
	if started != nil {
		started <- job.Run.ID
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			run := job.Run
			run.Status = storage.RunFailed // as an engine does: no reason of its own
			return outbound.PushOutcome{Run: run}
		}
	}
	if outcome != nil {
		return outcome(job)
	}
	return succeeded(job, storage.RunCounts{Created: 1})
}

func (p *fakePusher) set(outcome func(outbound.PushJob) outbound.PushOutcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outcome = outcome
}

func (p *fakePusher) allJobs() []outbound.PushJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]outbound.PushJob(nil), p.jobs...)
}

func succeeded(job outbound.PushJob, c storage.RunCounts) outbound.PushOutcome {
	run := job.Run
	run.Status, run.Mode, run.Counts, run.Cursor = storage.RunSucceeded, "incremental", c, []byte("cursor-"+run.ID)
	if job.Full {
		run.Mode = "full"
	}
	return outbound.PushOutcome{Run: run, SaveCursor: true}
}

func failed(msg string) func(outbound.PushJob) outbound.PushOutcome {
	return func(job outbound.PushJob) outbound.PushOutcome {
		run := job.Run
		run.Status, run.Error = storage.RunFailed, msg
		return outbound.PushOutcome{Run: run}
	}
}

func held(pending ...storage.PendingDeletion) func(outbound.PushJob) outbound.PushOutcome {
	return func(job outbound.PushJob) outbound.PushOutcome {
		if job.Approved != nil {
			return succeeded(job, storage.RunCounts{Deactivated: len(job.Approved)})
		}
		run := job.Run
		run.Status, run.Mode = storage.RunHeld, "incremental"
		return outbound.PushOutcome{Run: run, Pending: pending}
	}
}

// nopTarget is a target the fake pusher never calls.
type nopTarget struct{}

var errNop = errors.New("nopTarget")

func (nopTarget) Capabilities(context.Context) (outbound.Capabilities, error) {
	return outbound.Capabilities{}, errNop
}
func (nopTarget) List(context.Context, string, func([]outbound.Remote) error) error { return errNop }
func (nopTarget) Find(context.Context, string, string, string) ([]outbound.Remote, error) {
	return nil, errNop
}
func (nopTarget) Get(context.Context, string, string) (outbound.Remote, error) {
	return outbound.Remote{}, errNop
}
func (nopTarget) Create(context.Context, string, json.RawMessage) (outbound.Remote, error) {
	return outbound.Remote{}, errNop
}
func (nopTarget) Replace(context.Context, string, string, json.RawMessage) (outbound.Remote, error) {
	return outbound.Remote{}, errNop
}
func (nopTarget) Patch(context.Context, string, string, []outbound.PatchOp) error { return errNop }
func (nopTarget) Delete(context.Context, string, string) error                    { return errNop }
