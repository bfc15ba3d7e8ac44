package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// EngineOptions tune the push engine; zero values take the defaults.
type EngineOptions struct {
	Logger *slog.Logger
	// PageSize is how many view objects are read, pushed and committed
	// together (default 100): a run killed mid-way loses at most a page.
	PageSize int
	// Concurrency bounds the requests in flight at once (default 4).
	Concurrency int
	// Overlap is subtracted from the store's clock when a run takes its
	// watermark (default 2s), so a write that committed late, stamped
	// before the watermark, is still seen; hashes make seeing it twice
	// harmless.
	Overlap time.Duration
	// ChangeLogCap bounds the change log of one run (default 10000); the
	// counts go on past it.
	ChangeLogCap int
}

// Engine is the push engine: it provisions an app's view into the app's
// target (Pusher).
type Engine struct {
	store EngineStore
	opts  EngineOptions
	log   *slog.Logger
}

// NewEngine returns an engine over store.
func NewEngine(store EngineStore, opts EngineOptions) *Engine {
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Overlap <= 0 {
		opts.Overlap = 2 * time.Second
	}
	if opts.ChangeLogCap <= 0 {
		opts.ChangeLogCap = 10000
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: store, opts: opts, log: log}
}

var _ Pusher = (*Engine)(nil)

// pushCursor is what Run.Cursor holds: the watermark of the view's
// lastModified that the next incremental run starts after.
type pushCursor struct {
	Version int       `json:"v"`
	Since   time.Time `json:"since"`
	// AppVersion is the app's version the run pushed: a later version
	// (a new allow-list or mapping changes every body, though no object
	// of the view changed) makes the next run a full one.
	AppVersion int64 `json:"app"`
}

// Push runs one push of job's app.
func (e *Engine) Push(ctx context.Context, job PushJob) PushOutcome {
	p, err := e.newPush(ctx, job)
	if err == nil {
		err = p.run(ctx)
	}
	if p == nil {
		p = &push{e: e, job: job, rec: job.Run}
	}
	return p.finish(ctx, err)
}

// push is the state of one run.
type push struct {
	e    *Engine
	job  PushJob
	app  storage.App
	cfg  storage.PushConfig
	t    Target
	caps Capabilities
	r    *renderer
	rec  storage.Run // the run record as this push updates it

	full      bool
	since     time.Time // the cursor's watermark (incremental runs)
	watermark time.Time // what this run saves

	changes []storage.Change
	seq     int

	// remote is the target's directory, read by full runs only.
	remote *remoteIndex
	// removals collects what the removal phase applies (departed users
	// noticed on the way, then orphans).
	removals []removal
	// mu guards dryTargets, which concurrent steps write.
	mu sync.Mutex
	// dryTargets stands in for the target ids a dry run's creates would
	// get, so its membership requests can be shown.
	dryTargets map[string]string
	// retry holds the local ids, by kind, of objects a previous run left
	// failed or creating; incremental runs take them up again.
	retry map[string][]string
	// done holds, in incremental runs, the ids of what this run pushed.
	done map[string]map[string]bool
	// touched are the users an incremental run pushed or saw leave.
	touched []string
	claimed int
	// vanished counts leavers the target no longer had.
	vanished int
	// unchangedGroups are groups counted unchanged whose membership may
	// still change in this run (then they count as updated).
	unchangedGroups map[string]bool
	pending         []storage.PendingDeletion
	held            bool
}

func (e *Engine) newPush(ctx context.Context, job PushJob) (*push, error) {
	p := &push{e: e, job: job, app: job.App, t: job.Target, rec: job.Run, seq: job.Run.ChangeLogN,
		dryTargets: map[string]string{}, unchangedGroups: map[string]bool{}, retry: map[string][]string{}, done: map[string]map[string]bool{}}
	if job.App.Push == nil {
		return p, ErrNoPush
	}
	if job.Target == nil {
		return p, errors.New("outbound: no target to push to")
	}
	p.cfg = *job.App.Push
	r, err := newRenderer(job.App)
	if err != nil {
		return p, err
	}
	p.r = r
	state, err := e.store.GetPushState(ctx, job.App.ID)
	if err != nil {
		return p, fmt.Errorf("read the push state: %w", err)
	}
	p.watermark = e.store.Now().Add(-e.opts.Overlap)
	p.full = job.Full || len(state.Cursor) == 0
	if !p.full {
		var c pushCursor
		if err := json.Unmarshal(state.Cursor, &c); err != nil || c.Version != 1 || c.Since.IsZero() {
			p.full = true
			p.note("the saved cursor was unreadable: full run")
		} else if c.AppVersion != job.App.Version {
			p.full = true
			p.note("the app's definition changed since the last push: full run")
		} else {
			p.since = c.Since
		}
	}
	p.rec.Mode = "incremental"
	if p.full {
		p.rec.Mode = "full"
	}
	p.rec.DryRun = job.DryRun
	caps, err := p.t.Capabilities(ctx)
	if err != nil {
		return p, fmt.Errorf("read the target's capabilities: %w", err)
	}
	p.caps = caps
	p.r.singleValues, p.r.unsupported = caps.SingleValues, caps.UnsupportedUserAttrs
	return p, nil
}

// run is the push in its order: users, groups, their members, removals.
func (p *push) run(ctx context.Context) error {
	if p.full {
		idx, err := p.readTarget(ctx)
		if err != nil {
			return err
		}
		p.remote = idx
	} else if err := p.collectRetries(ctx); err != nil {
		return err
	}
	if err := p.pushUsers(ctx); err != nil {
		return err
	}
	// What left the view is read before the groups are pushed, so that
	// the groups the leavers were in lose them first.
	if err := p.collectOrphans(ctx); err != nil {
		return err
	}
	if err := p.pushGroups(ctx); err != nil {
		return err
	}
	if err := p.removeLeavers(ctx); err != nil {
		return err
	}
	if p.full {
		if err := p.noteUnmanaged(ctx); err != nil {
			return err
		}
	}
	if p.vanished > 0 {
		p.note(fmt.Sprintf("%d users who left were no longer in the target; forgotten", p.vanished))
	}
	if p.claimed > 0 {
		p.note(fmt.Sprintf("claimed %d objects the target already had", p.claimed))
	}
	return nil
}

// finish records what is left of the change log and turns the run's end
// into its outcome. A failed run keeps what it did (bookkeeping and log)
// but not its cursor.
func (p *push) finish(ctx context.Context, err error) PushOutcome {
	if ferr := p.flush(ctx); ferr != nil && err == nil {
		err = ferr
	}
	out := PushOutcome{Run: p.rec}
	switch {
	case err != nil:
		out.Run.Status = storage.RunFailed
		out.Run.Error = err.Error()
		p.e.log.Warn("push failed", "app", p.app.ID, "run", p.rec.ID, "error", err)
	case p.held:
		out.Run.Status = storage.RunHeld
		out.Run.Error = ErrHeld.Error()
		out.Run.Counts.Pending = len(p.pending)
		out.Pending = p.pending
	default:
		out.Run.Status = storage.RunSucceeded
		if !p.job.DryRun {
			cursor, cerr := json.Marshal(pushCursor{Version: 1, Since: p.watermark, AppVersion: p.app.Version})
			if cerr == nil {
				out.Run.Cursor = cursor
				out.SaveCursor = true
			}
		}
	}
	return out
}

func (p *push) note(s string) { p.rec.Notes = append(p.rec.Notes, s) }

// logChange appends one entry to the run's change log, up to its cap.
func (p *push) logChange(c storage.Change) {
	if p.seq >= p.e.opts.ChangeLogCap {
		return
	}
	p.seq++
	c.Seq = p.seq
	p.changes = append(p.changes, c)
}

// flush stores the buffered change log and the counts so far.
func (p *push) flush(ctx context.Context) error {
	if p.rec.ID == "" {
		return nil
	}
	runs := p.e.store.PushRuns()
	if len(p.changes) > 0 {
		if err := runs.AddChanges(ctx, p.rec.ID, p.changes); err != nil {
			return fmt.Errorf("record changes: %w", err)
		}
		p.changes = p.changes[:0]
	}
	p.rec.ChangeLogN = p.seq
	counts, n, mode, notes := p.rec.Counts, p.seq, p.rec.Mode, append([]string(nil), p.rec.Notes...)
	if _, err := runs.UpdateRun(ctx, p.rec.ID, func(r *storage.Run) error {
		r.Counts, r.ChangeLogN, r.Mode, r.Notes = counts, n, mode, notes
		return nil
	}); err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	return nil
}

// save stores bookkeeping (not in a dry run) and then the progress.
func (p *push) save(ctx context.Context, objs []storage.PushObject) error {
	if len(objs) > 0 && !p.job.DryRun {
		if err := p.e.store.SavePushObjects(ctx, objs); err != nil {
			return fmt.Errorf("save push bookkeeping: %w", err)
		}
	}
	return p.flush(ctx)
}

// tally is what one step did: counts and change entries, merged into the
// run by the one goroutine that runs it (merge), in step order.
type tally struct {
	counts          storage.RunCounts
	changes         []storage.Change
	claimed         int
	unchangedGroups []string
}

func (t *tally) log(c storage.Change) { t.changes = append(t.changes, c) }

// merge adds what a step did to the run.
func (p *push) merge(t *tally) {
	c, d := &p.rec.Counts, t.counts
	c.Fetched += d.Fetched
	c.Created += d.Created
	c.Updated += d.Updated
	c.Unchanged += d.Unchanged
	c.Deactivated += d.Deactivated
	c.Deleted += d.Deleted
	c.Conflicts += d.Conflicts
	c.Errors += d.Errors
	for _, ch := range t.changes {
		p.logChange(ch)
	}
	p.claimed += t.claimed
	for _, id := range t.unchangedGroups {
		p.unchangedGroups[id] = true
	}
	*t = tally{}
}
