package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// EngineStore is the part of the store the engine writes through.
type EngineStore interface {
	storage.Clock // the engine's clock too: grace periods compare with the store's stamps
	storage.SyncStore
	storage.LinkStore
	storage.RunStore
	GetUser(ctx context.Context, id string) (storage.User, error)
}

// engine applies what a source streams to the store; the Runner is its
// public face.
//
// A run goes through these steps:
//  1. the source streams pages of users, groups and explicit deletions;
//     users are mapped, scoped and written in batched transactions,
//     skipping records whose hash shows nothing changed;
//  2. groups are written once the users before them are, members resolved
//     by source key; members and managers that arrive later are fixed up
//     at the end, and reported if they never arrive;
//  3. only after a complete enumeration with no unreadable records are
//     absences turned into deactivations and deletions, and only within
//     the deletion guard; otherwise the run is held for an admin.
type engine struct {
	store EngineStore
	log   *slog.Logger
	now   func() time.Time
	// batchSize is the most records one transaction writes; the pipeline
	// sends smaller batches when the writer would otherwise wait. Each
	// commit rewrites the index pages it touched, and directory ids arrive
	// in random order, so larger transactions cost far less: 5,000 instead
	// of 2,000 made a 100,000-user Entra sync about 15% faster, csv syncs
	// no slower, for about 40 MB more at the peak (BENCHMARKS.md). A SCIM
	// write may wait behind one batch: 5,000 users took 0.19 s (csv) to
	// 0.42 s (Entra, late in a 100,000-user first sync).
	batchSize int
	// changeLogCap bounds the per-run change log.
	changeLogCap int
}

// defaultBatchSize is the engine's batch size unless the runner's
// options set one (see engine.batchSize).
const defaultBatchSize = 5000

// newEngine returns an engine writing to store in batches of batchSize
// records (defaultBatchSize when not positive).
func newEngine(store EngineStore, log *slog.Logger, batchSize int) *engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	return &engine{store: store, log: log, now: store.Now, batchSize: batchSize, changeLogCap: 10000}
}

// runJob is one run to execute.
type runJob struct {
	Source  storage.Source
	Run     storage.Run // already stored, status running
	Opened  sources.Source
	Mapping sources.CompiledMapping
	Scope   Scope
	Link    linkTemplates
	// Linked is set by execute: the run writes contributions
	// (link_store.go); mergeSettings are what the merge reads of the
	// source, in the records' hash input.
	Linked        bool
	mergeSettings []byte
	Full          bool
	DryRun        bool
	// Precedence returns the precedence of another owner (lower wins);
	// ok is false for owners it does not know.
	Precedence func(owner string) (p int, ok bool)
}

// outcome is how a run ended. The caller stores it (FinishRun, or
// SetPending for a held run).
type outcome struct {
	Run        storage.Run
	Pending    []storage.PendingDeletion
	SaveCursor bool
}

// execute runs job to the end. Errors end up in the returned run (status
// failed), never half applied: what was written before the error stays
// (it is idempotent to write again), deletions are not computed and the
// cursor is not saved.
func (e *engine) execute(ctx context.Context, job runJob) outcome {
	le, isLinked, note, err := e.forSource(ctx, job.Source, job.DryRun)
	if err != nil {
		return newRunState(e, job).fail(ctx, err)
	}
	e, job.Linked = le, isLinked
	if isLinked {
		job.mergeSettings = mustJSON([]any{job.Source.Precedence, job.Source.Authoritative})
	}
	st := newRunState(e, job)
	if note != "" {
		st.run.Notes = append(st.run.Notes, note)
	}
	users, groups, err := e.store.CountOwned(ctx, st.owner)
	if err != nil {
		return st.fail(ctx, fmt.Errorf("count the source's objects: %w", err))
	}
	st.ownedBefore = users + groups
	req := sources.Request{Cursor: job.Source.Cursor, Full: job.Full}
	if job.Full {
		req.Cursor = nil
	}
	pipe := newPipeline(ctx, st, e.batchSize, e.log)
	res, err := e.sync(ctx, job, req, pipe)
	if perr := pipe.close(ctx, err == nil); perr != nil {
		err = perr // the writer's failure is the cause; the source only relayed it
	}
	if err != nil {
		return st.fail(ctx, err)
	}
	run := st.run
	run.Cursor = res.Cursor
	run.Notes = append(run.Notes, res.Notes...)
	run.Mode = "incremental"
	if res.Complete {
		run.Mode = "full"
	}
	st.run = run
	if err := st.finishReferences(ctx); err != nil {
		return st.fail(ctx, err)
	}
	candidates, err := st.deletions(ctx, res.Complete)
	if err != nil {
		return st.fail(ctx, err)
	}
	if reason := st.guard(st.guarded(candidates)); reason != "" && len(candidates) > 0 {
		st.run.Status = storage.RunHeld
		st.run.Counts.Pending = len(candidates)
		st.run.Notes = append(st.run.Notes, reason)
		if err := st.flushChanges(ctx); err != nil {
			return st.fail(ctx, err)
		}
		return outcome{Run: st.run, Pending: candidates}
	}
	if err := st.applyDeletions(ctx, candidates); err != nil {
		return st.fail(ctx, err)
	}
	if err := st.flushChanges(ctx); err != nil {
		return st.fail(ctx, err)
	}
	st.run.Status = storage.RunSucceeded
	st.run.Finished = e.now()
	return outcome{Run: st.run, SaveCursor: !job.DryRun}
}

// sync runs the source. A connector that panics, in Sync or in a
// goroutine it ran through Recover, fails its run instead of taking the
// whole server, and its SCIM service, down with it.
func (e *engine) sync(ctx context.Context, job runJob, req sources.Request, out sources.Sink) (sources.Result, error) {
	var res sources.Result
	err := sources.Recover(func() (err error) {
		res, err = job.Opened.Sync(ctx, req, out)
		return err
	})
	if pe := (*sources.PanicError)(nil); errors.As(err, &pe) {
		e.log.Error("source crashed", "source", job.Source.Name, "kind", job.Source.Kind, "panic", pe.Value, "stack", string(pe.Stack))
		return sources.Result{}, fmt.Errorf("the %s source crashed (a bug in scimgate; the server log has the details): %v", job.Source.Kind, pe.Value)
	}
	return res, err
}

// applyHeld applies the deletions of an approved held run.
func (e *engine) applyHeld(ctx context.Context, src storage.Source, run storage.Run, pending []storage.PendingDeletion) (storage.Run, error) {
	le, isLinked, _, err := e.forSource(ctx, src, false)
	if err != nil {
		return run, err
	}
	e = le
	st := newRunState(e, runJob{Source: src, Run: run, Linked: isLinked})
	st.changeSeq = run.ChangeLogN
	if err := st.applyDeletions(ctx, pending); err != nil {
		return run, err
	}
	if err := st.flushChanges(ctx); err != nil {
		return run, err
	}
	st.run.Counts.Pending = 0
	return st.run, nil
}

// runState is the engine's Sink for one run.
type runState struct {
	e     *engine
	job   runJob
	owner string
	run   storage.Run

	ownedBefore int
	explicit    []sources.Deletion
	problems    int

	// seenUsers and seenGroups map the source keys this run received (in
	// scope) to our ids; they are the run's view of what still exists.
	seenUsers  map[string]string
	seenGroups map[string]string
	// namesInRun catches two records of one run claiming one userName.
	namesInRun map[string]string
	// linkKeysInRun names the record of this run that first carried each
	// link key (a linked source: two records on one key are a conflict).
	linkKeysInRun map[storage.LinkKey]string

	// reserved names users that were referenced as managers before they
	// arrived; refsTo lists who referenced them.
	reserved map[string]string       // source key -> id
	refsTo   map[string][]managerRef // source key -> reports
	// renamed maps the id a record was given to the id it was written
	// under when it took another owner's user over.
	renamed        map[string]string
	pendingMembers []pendingMember

	changes      []storage.Change
	changeSeq    int
	lastProgress time.Time

	// committed are the counts of the work that is done: every write
	// transaction stores the counts it completes with its rows (see
	// progressAt), and a call that wrote nothing is done when it returns.
	// st.run.Counts run ahead of them while a batch is in flight; a failed
	// run reports committed, so its counts say what the database holds.
	// committedSeq is the change log's position at the same point.
	committed    storage.RunCounts
	committedSeq int
}

// managerRef is a user whose manager was named before it arrived.
type managerRef struct {
	userID  string
	partial []byte // hash input without the manager id
	// written says the user was written pointing at the reserved id;
	// otherwise it was left as it was, without a manager.
	written bool
}

type pendingMember struct {
	groupID, groupName, key string
}

func newRunState(e *engine, job runJob) *runState {
	return &runState{
		e: e, job: job, owner: job.Source.Owner(), run: job.Run,
		seenUsers: map[string]string{}, seenGroups: map[string]string{}, namesInRun: map[string]string{},
		linkKeysInRun: map[storage.LinkKey]string{},
		reserved:      map[string]string{}, refsTo: map[string][]managerRef{}, renamed: map[string]string{},
	}
}

func (st *runState) fail(ctx context.Context, err error) outcome {
	cleanup := context.Background()
	if !st.job.DryRun {
		// Users written pointing at managers that were named but never
		// written must not keep those ids.
		if ferr := st.finishManagers(cleanup, false); ferr != nil {
			st.e.log.Error("cannot correct manager references of a failed run", "run", st.run.ID, "error", ferr)
		}
	}
	// What the batch in flight counted and logged was never committed.
	st.run.Counts = st.committed
	st.dropChangesAfter(st.committedSeq)
	st.flushChanges(cleanup)
	st.run.Status = storage.RunFailed
	st.run.Error = err.Error()
	st.run.Finished = st.e.now()
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		// The database driver may report a canceled statement in its own
		// words; the run was canceled (shutdown) either way.
		st.run.Error = "canceled: " + err.Error()
	}
	return outcome{Run: st.run}
}

// Groups writes a batch of groups; the pipeline sends a group only after
// the users before it, so its members resolve.
func (st *runState) Groups(ctx context.Context, page []sources.GroupRecord) error {
	return inBatches(page, st.e.batchSize, func(b []sources.GroupRecord) error { return st.writeGroups(ctx, b) })
}

// inBatches calls write for consecutive slices of at most size records.
func inBatches[T any](recs []T, size int, write func([]T) error) error {
	for len(recs) > 0 {
		n := min(len(recs), max(size, 1))
		if err := write(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// Deletions are applied at the end of the run, through the guard.
func (st *runState) Deletions(_ context.Context, d []sources.Deletion) error {
	st.explicit = append(st.explicit, d...)
	return nil
}

// Problem records an unreadable record; the enumeration is then not
// complete enough to delete anything.
func (st *runState) Problem(_ context.Context, p sources.Problem) error {
	st.problems++
	st.run.Counts.Errors++
	st.change(storage.Change{Action: storage.ChangeError, Detail: p.Where + ": " + p.Message})
	st.settle()
	return nil
}

// settle marks the work counted so far as done (see runState.committed).
func (st *runState) settle() {
	st.committed, st.committedSeq = st.run.Counts, st.changeSeq
}

// progressAt is the progress a write stores in its transaction: the
// run's counts as they are once it commits.
func (st *runState) progressAt(c storage.RunCounts) *storage.RunProgress {
	return &storage.RunProgress{RunID: st.run.ID, Counts: c}
}

// committedAt records that a write carrying counts c committed, with
// the change log entries so far.
func (st *runState) committedAt(c storage.RunCounts) {
	st.run.Counts = c
	st.settle()
}

// dropChangesAfter forgets buffered change log entries past seq.
func (st *runState) dropChangesAfter(seq int) {
	kept := st.changes[:0]
	for _, c := range st.changes {
		if c.Seq <= seq {
			kept = append(kept, c)
		}
	}
	st.changes = kept
	st.changeSeq = min(st.changeSeq, seq)
}

// change appends to the change log, up to the cap.
func (st *runState) change(c storage.Change) {
	if st.changeSeq >= st.e.changeLogCap {
		return
	}
	st.changeSeq++
	c.Seq = st.changeSeq
	c.Name = clipName(c.Name)
	st.changes = append(st.changes, c)
}

// clipName bounds the name a change entry carries: a record refused for
// a 900 KB userName must not put the 900 KB into the change log.
func clipName(s string) string {
	const max = storage.MaxUserNameChars
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}

func (st *runState) logFull() bool { return st.changeSeq >= st.e.changeLogCap }

// flushChanges stores the buffered change log and the progress so far.
func (st *runState) flushChanges(ctx context.Context) error {
	st.run.ChangeLogN = st.changeSeq
	if len(st.changes) > 0 {
		if err := st.e.store.AddChanges(ctx, st.run.ID, st.changes); err != nil {
			return fmt.Errorf("record changes: %w", err)
		}
		st.changes = st.changes[:0]
	}
	return nil
}

// progress settles the work done so far and publishes the counts while
// the run goes on, at most once a second (writes publish theirs with
// their rows).
func (st *runState) progress(ctx context.Context) error {
	st.settle()
	if err := st.flushChanges(ctx); err != nil {
		return err
	}
	if now := st.e.now(); now.Sub(st.lastProgress) >= time.Second {
		st.lastProgress = now
		counts, n := st.run.Counts, st.run.ChangeLogN
		_, err := st.e.store.UpdateRun(ctx, st.run.ID, func(r *storage.Run) error {
			r.Counts, r.ChangeLogN = counts, n
			return nil
		})
		if err != nil {
			return fmt.Errorf("record progress: %w", err)
		}
	}
	return nil
}

// hashOf hashes a record's mapped form: equal hashes mean nothing to write.
func hashOf(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sources: marshal %T: %v", v, err))
	}
	return b
}

// newID names a new resource; the engine names them itself so that
// references to them resolve within the run.
func newID() string { return storage.NewID() }
