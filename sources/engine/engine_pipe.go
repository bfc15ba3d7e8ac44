package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/scimgate/scimgate/sources"
)

// pipeline is the Sink a source streams into. It gathers records into the
// engine's batches and hands each batch to one writer goroutine, so the
// source reads its next pages (network, directory, file) while the last
// batch is written to the database; with a synchronous sink the two took
// turns and a run lasted the sum of both. One goroutine applies every
// call, so the engine's own state needs no locks; records reach it in the
// order the source sent them, users before the groups sent after them.
//
// Batches are as large as the engine's batch size when the writer is the
// slower side, which keeps commits few (each commit rewrites the index
// pages it touched, so with keys in random order, such as directory GUIDs,
// fewer and larger transactions cost far less). When the writer is idle,
// waiting on a directory slower than itself, what has been gathered goes
// at once, so a run ends soon after its last page arrives.
//
// At most one batch waits while another is written, which bounds memory
// at about three batches. After the writer fails, every call returns its
// error so the source stops.
type pipeline struct {
	next   batchWriter
	size   int
	calls  chan call
	done   chan struct{}
	users  []sources.UserRecord
	groups []sources.GroupRecord

	log *slog.Logger

	// idle is set while the writer waits for a call.
	idle atomic.Bool

	mu  sync.Mutex
	err error
}

type call func(ctx context.Context) error

func newPipeline(ctx context.Context, next batchWriter, size int, log *slog.Logger) *pipeline {
	p := &pipeline{next: next, size: max(size, 1), calls: make(chan call, 1), done: make(chan struct{}), log: log}
	go p.write(ctx)
	return p
}

func (p *pipeline) write(ctx context.Context) {
	defer close(p.done)
	for {
		p.idle.Store(true)
		c, ok := <-p.calls
		p.idle.Store(false)
		if !ok {
			return
		}
		if p.failure() != nil {
			continue // drain: the source learns of the failure on its next call
		}
		if err := p.apply(ctx, c); err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
		}
	}
}

// apply runs one call; a panic fails the run rather than the process (the
// write it interrupted was rolled back with its transaction).
func (p *pipeline) apply(ctx context.Context, c call) error {
	var err error
	if perr := p.guard(func() { err = c(ctx) }); perr != nil {
		return perr
	}
	return err
}

// guard runs fn and turns a panic into an error.
func (p *pipeline) guard(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("sync engine crashed", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("the sync engine crashed (a bug in scimgate; the server log has the details): %v", r)
		}
	}()
	fn()
	return nil
}

func (p *pipeline) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// send queues c unless the writer has failed.
func (p *pipeline) send(ctx context.Context, c call) error {
	if err := p.failure(); err != nil {
		return err
	}
	select {
	case p.calls <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batchWriter is what the pipeline hands its batches to: the run
// (*runState) in production, recording fakes in tests. It is a
// sources.Sink whose Users are split in two steps, so that the part of
// handling users that depends on the records alone is done ahead of
// writing them, on the source's goroutine, and the one writer does less:
//   - prepareUsers is called on the source's goroutine with a batch; it
//     must take all it needs from the records' Attrs, because the
//     pipeline then drops them from the batch it queues (a tenth of the
//     run's peak memory in the csv benchmark);
//   - writeUsers is called on the writer goroutine with the same batch
//     and what prepareUsers returned for it.
//
// Groups, Deletions and Problem are called on the writer goroutine, as
// the Sink contract says.
type batchWriter interface {
	prepareUsers(recs []sources.UserRecord) []preparedUser
	writeUsers(ctx context.Context, recs []sources.UserRecord, prep []preparedUser) error
	Groups(ctx context.Context, page []sources.GroupRecord) error
	Deletions(ctx context.Context, d []sources.Deletion) error
	Problem(ctx context.Context, p sources.Problem) error
}

func (p *pipeline) sendUsers(ctx context.Context) error {
	if len(p.users) == 0 {
		return nil
	}
	batch := p.users
	p.users = nil // the writer owns batch now
	var prep []preparedUser
	if err := p.guard(func() { prep = p.next.prepareUsers(batch) }); err != nil {
		return err
	}
	for i := range batch {
		batch[i].Attrs = nil
	}
	return p.send(ctx, func(ctx context.Context) error { return p.next.writeUsers(ctx, batch, prep) })
}

func (p *pipeline) sendGroups(ctx context.Context) error {
	if len(p.groups) == 0 {
		return nil
	}
	batch := p.groups
	p.groups = nil
	return p.send(ctx, func(ctx context.Context) error { return p.next.Groups(ctx, batch) })
}

// flush queues what is gathered, users before groups, as the source sent
// them (a source sends a group only after the users it names).
func (p *pipeline) flush(ctx context.Context) error {
	if err := p.sendUsers(ctx); err != nil {
		return err
	}
	return p.sendGroups(ctx)
}

func (p *pipeline) Users(ctx context.Context, page []sources.UserRecord) error {
	if err := p.failure(); err != nil {
		return err
	}
	if err := p.sendGroups(ctx); err != nil {
		return err
	}
	return gather(ctx, &p.users, page, p.size, p.writerIdle, p.sendUsers)
}

func (p *pipeline) Groups(ctx context.Context, page []sources.GroupRecord) error {
	if err := p.failure(); err != nil {
		return err
	}
	if err := p.sendUsers(ctx); err != nil {
		return err
	}
	return gather(ctx, &p.groups, page, p.size, p.writerIdle, p.sendGroups)
}

// writerIdle reports whether the writer waits with nothing queued.
func (p *pipeline) writerIdle() bool { return p.idle.Load() && len(p.calls) == 0 }

// gather copies page into buf, sending buf each time it holds size
// records, and what is left when the writer has nothing to do.
func gather[T any](ctx context.Context, buf *[]T, page []T, size int, idle func() bool, send func(context.Context) error) error {
	for len(page) > 0 {
		if *buf == nil {
			*buf = make([]T, 0, size)
		}
		n := min(size-len(*buf), len(page))
		*buf = append(*buf, page[:n]...)
		page = page[n:]
		if len(*buf) == size {
			if err := send(ctx); err != nil {
				return err
			}
		}
	}
	if len(*buf) > 0 && idle() {
		return send(ctx)
	}
	return nil
}

// Deletions and problems go ahead of records still being gathered: the
// engine only notes them (deletions are applied at the end of the run),
// and flushing for each would cut a file with many bad rows into many
// small transactions.
func (p *pipeline) Deletions(ctx context.Context, d []sources.Deletion) error {
	d = append([]sources.Deletion(nil), d...)
	return p.send(ctx, func(ctx context.Context) error { return p.next.Deletions(ctx, d) })
}

func (p *pipeline) Problem(ctx context.Context, pr sources.Problem) error {
	return p.send(ctx, func(ctx context.Context) error { return p.next.Problem(ctx, pr) })
}

// close queues what is left when the source completed, waits for the
// writer, and returns its error. It is called exactly once, whether the
// source succeeded or not; after a source error nothing more is queued,
// but what was queued before it is still written, as a synchronous sink
// would have written it.
func (p *pipeline) close(ctx context.Context, sourceOK bool) error {
	var err error
	if sourceOK {
		err = p.flush(ctx)
	}
	close(p.calls)
	<-p.done
	if werr := p.failure(); werr != nil {
		return werr
	}
	return err
}
