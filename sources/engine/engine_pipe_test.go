package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// callLog is a Sink that records each call as a line.
type callLog struct {
	calls  []string
	failOn int // fail the nth call (1-based); 0 never
}

var errSinkFull = errors.New("sink full")

func (l *callLog) record(s string) error {
	l.calls = append(l.calls, s)
	if len(l.calls) == l.failOn {
		return errSinkFull
	}
	return nil
}

func (l *callLog) Users(_ context.Context, p []sources.UserRecord) error {
	keys := make([]string, len(p))
	for i, u := range p {
		keys[i] = u.Key
	}
	return l.record(fmt.Sprint("users ", keys))
}

func (l *callLog) Groups(_ context.Context, p []sources.GroupRecord) error {
	keys := make([]string, len(p))
	for i, g := range p {
		keys[i] = g.Key + fmt.Sprint(g.Members)
	}
	return l.record(fmt.Sprint("groups ", keys))
}

func (l *callLog) Deletions(_ context.Context, d []sources.Deletion) error {
	return l.record(fmt.Sprint("deletions ", d))
}

func (l *callLog) Problem(_ context.Context, p sources.Problem) error {
	return l.record("problem " + p.Where)
}

func TestPipelineKeepsOrderAndBatches(t *testing.T) {
	ctx := context.Background()
	log := &callLog{}
	p := newPipeline(ctx, sinkWriter{log}, 3, slog.New(slog.DiscardHandler))
	// One page slice reused for every call, as the csv source does: the
	// pipeline must have copied the records before the source overwrites.
	page := make([]sources.UserRecord, 2)
	for i := range 4 {
		page[0], page[1] = sources.UserRecord{Key: fmt.Sprint("u", 2*i)}, sources.UserRecord{Key: fmt.Sprint("u", 2*i+1)}
		if err := p.Users(ctx, page); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Problem(ctx, sources.Problem{Where: "line 9"}); err != nil {
		t.Fatal(err)
	}
	groups := []sources.GroupRecord{{Key: "g1", Members: []string{"u1"}}, {Key: "g2"}}
	if err := p.Groups(ctx, groups); err != nil {
		t.Fatal(err)
	}
	if err := p.Deletions(ctx, []sources.Deletion{{Kind: sources.KindUser, Key: "u9"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Groups(ctx, []sources.GroupRecord{{Key: "g3"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.close(ctx, true); err != nil {
		t.Fatal(err)
	}
	// How records are cut into batches depends on how busy the writer
	// was; their order, the batch size and users before groups do not.
	var users, groupsSeen, other []string
	for _, c := range log.calls {
		kind, list, _ := strings.Cut(c, " ")
		items := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(list, "["), "]"))
		switch kind {
		case "users":
			if len(groupsSeen) > 0 {
				t.Errorf("users after groups: %q", log.calls)
			}
			users = append(users, items...)
		case "groups":
			groupsSeen = append(groupsSeen, items...)
		default:
			other = append(other, c)
			continue
		}
		if len(items) == 0 || len(items) > 3 {
			t.Errorf("a batch of %d records (size 3): %q", len(items), c)
		}
	}
	if want := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}; !reflect.DeepEqual(users, want) {
		t.Errorf("users %q, want %q", users, want)
	}
	if want := []string{"g1[u1]", "g2[]", "g3[]"}; !reflect.DeepEqual(groupsSeen, want) {
		t.Errorf("groups %q, want %q", groupsSeen, want)
	}
	if want := []string{"problem line 9", "deletions [{User u9 false}]"}; !reflect.DeepEqual(other, want) {
		t.Errorf("other calls %q, want %q", other, want)
	}
}

// waitIdle waits until the writer waits for work.
func waitIdle(t *testing.T, p *pipeline) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !p.writerIdle() {
		if time.Now().After(deadline) {
			t.Fatal("the writer never became idle")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPipelineSendsAtOnceToAnIdleWriter(t *testing.T) {
	ctx := context.Background()
	arrived := make(chan []sources.UserRecord, 1)
	p := newPipeline(ctx, sinkWriter{notifySink{arrived}}, 1000, slog.New(slog.DiscardHandler))
	waitIdle(t, p)
	if err := p.Users(ctx, []sources.UserRecord{{Key: "u1"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-arrived:
		if len(got) != 1 || got[0].Key != "u1" {
			t.Errorf("writer got %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("one page waited for a batch of 1,000 while the writer had nothing to do")
	}
	if err := p.close(ctx, true); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineGathersWhileTheWriterIsBusy(t *testing.T) {
	ctx := context.Background()
	log := &callLog{}
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	p := newPipeline(ctx, sinkWriter{&gateSink{callLog: log, gate: release, entered: entered}}, 3, slog.New(slog.DiscardHandler))
	waitIdle(t, p)
	for i := range 5 {
		if err := p.Users(ctx, []sources.UserRecord{{Key: fmt.Sprint("u", i)}}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-entered // the writer is busy from here on
		}
	}
	close(release)
	if err := p.close(ctx, true); err != nil {
		t.Fatal(err)
	}
	// u0 went at once; the writer was busy with it while u1 to u3 filled a
	// batch; u4 was left for the end.
	if want := []string{"users [u0]", "users [u1 u2 u3]", "users [u4]"}; !reflect.DeepEqual(log.calls, want) {
		t.Fatalf("calls %q, want %q", log.calls, want)
	}
}

// notifySink passes users pages to a channel.
type notifySink struct{ ch chan []sources.UserRecord }

func (n notifySink) Users(_ context.Context, p []sources.UserRecord) error {
	n.ch <- p
	return nil
}
func (notifySink) Groups(context.Context, []sources.GroupRecord) error { return nil }
func (notifySink) Deletions(context.Context, []sources.Deletion) error { return nil }
func (notifySink) Problem(context.Context, sources.Problem) error      { return nil }

// gateSink records calls and holds each until gate closes; entered
// hears of the first.
type gateSink struct {
	*callLog
	gate    chan struct{}
	entered chan struct{}
}

func (g *gateSink) Users(ctx context.Context, p []sources.UserRecord) error {
	err := g.callLog.Users(ctx, p)
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.gate
	return err
}

func TestPipelineStopsTheSourceAfterAWriteFails(t *testing.T) {
	ctx := context.Background()
	log := &callLog{failOn: 1}
	p := newPipeline(ctx, sinkWriter{log}, 1, slog.New(slog.DiscardHandler))
	var err error
	sent := 0
	for i := 0; i < 100 && err == nil; i++ {
		err = p.Users(ctx, []sources.UserRecord{{Key: fmt.Sprint("u", i)}})
		sent++
	}
	if !errors.Is(err, errSinkFull) {
		t.Fatalf("Users after a failed write: %v, want %v", err, errSinkFull)
	}
	if cerr := p.close(ctx, false); !errors.Is(cerr, errSinkFull) {
		t.Fatalf("close: %v, want %v", cerr, errSinkFull)
	}
	// Nothing after the failure reached the store.
	if len(log.calls) != 1 {
		t.Fatalf("%d calls reached the sink after it failed: %q", len(log.calls), log.calls)
	}
	if sent > 4 {
		t.Fatalf("the source went on for %d pages after the first write failed", sent)
	}
}

func TestPipelineAfterASourceErrorWritesOnlyWhatWasQueued(t *testing.T) {
	ctx := context.Background()
	log := &callLog{}
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	p := newPipeline(ctx, sinkWriter{&gateSink{callLog: log, gate: release, entered: entered}}, 2, slog.New(slog.DiscardHandler))
	waitIdle(t, p)
	if err := p.Users(ctx, []sources.UserRecord{{Key: "u1"}}); err != nil {
		t.Fatal(err)
	}
	<-entered
	// u2 is still being gathered when the source fails: it is not written.
	if err := p.Users(ctx, []sources.UserRecord{{Key: "u2"}}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := p.close(ctx, false); err != nil {
		t.Fatal(err)
	}
	if want := []string{"users [u1]"}; !reflect.DeepEqual(log.calls, want) {
		t.Fatalf("calls %q, want %q", log.calls, want)
	}
}

func TestPipelineCanceledWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	block := make(chan struct{})
	p := newPipeline(ctx, sinkWriter{blockingSink{block}}, 1, slog.New(slog.DiscardHandler))
	// The writer is stuck, so the third page waits for room until the run
	// is canceled.
	time.AfterFunc(20*time.Millisecond, cancel)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = p.Users(ctx, []sources.UserRecord{{Key: fmt.Sprint("u", i)}})
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Users on a canceled run: %v", err)
	}
	close(block)
	p.close(ctx, false)
}

type blockingSink struct{ block chan struct{} }

func (b blockingSink) Users(context.Context, []sources.UserRecord) error {
	<-b.block
	return nil
}
func (blockingSink) Groups(context.Context, []sources.GroupRecord) error { return nil }
func (blockingSink) Deletions(context.Context, []sources.Deletion) error { return nil }
func (blockingSink) Problem(context.Context, sources.Problem) error      { return nil }

func TestPipelineTurnsAWriterPanicIntoTheRunsError(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(ctx, sinkWriter{panickingSink{}}, 1, slog.New(slog.DiscardHandler))
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = p.Users(ctx, []sources.UserRecord{{Key: fmt.Sprint("u", i)}})
	}
	if err == nil || !strings.Contains(err.Error(), "the sync engine crashed") || !strings.Contains(err.Error(), "nil map") {
		t.Fatalf("Users after the writer panicked: %v", err)
	}
	if cerr := p.close(ctx, false); cerr == nil || cerr.Error() != err.Error() {
		t.Fatalf("close: %v, want %v", cerr, err)
	}
}

type panickingSink struct{ blockingSink }

func (panickingSink) Users(context.Context, []sources.UserRecord) error {
	var m map[string]int
	m["x"]++ // assignment to entry in nil map
	return nil
}

// sinkWriter feeds a plain Sink from the pipeline: users are not prepared
// ahead, and the Sink gets them in writeUsers.
type sinkWriter struct{ sources.Sink }

func (sinkWriter) prepareUsers([]sources.UserRecord) []preparedUser { return nil }

func (w sinkWriter) writeUsers(ctx context.Context, recs []sources.UserRecord, _ []preparedUser) error {
	return w.Users(ctx, recs)
}

// preparingWriter records what the pipeline hands each step of a user
// batch: the attributes prepareUsers saw, and those writeUsers got.
type preparingWriter struct {
	sinkWriter
	prepared, written []string
	prepsWritten      int
}

func (w *preparingWriter) prepareUsers(recs []sources.UserRecord) []preparedUser {
	out := make([]preparedUser, len(recs))
	for i, r := range recs {
		w.prepared = append(w.prepared, r.Key+"="+r.Attrs["title"])
		out[i].managerKey = "prep of " + r.Key
	}
	return out
}

func (w *preparingWriter) writeUsers(_ context.Context, recs []sources.UserRecord, prep []preparedUser) error {
	for i, r := range recs {
		w.written = append(w.written, fmt.Sprint(r.Key, "=", r.Attrs["title"], ", ", prep[i].managerKey))
	}
	w.prepsWritten += len(prep)
	return nil
}

// TestPipelinePreparesUsersAheadOfWriting: each user batch is prepared
// with the records' attributes, then written with what preparing gave,
// the attributes dropped (the writer must not need them).
func TestPipelinePreparesUsersAheadOfWriting(t *testing.T) {
	ctx := context.Background()
	w := &preparingWriter{sinkWriter: sinkWriter{&callLog{}}}
	p := newPipeline(ctx, w, 2, slog.New(slog.DiscardHandler))
	page := []sources.UserRecord{
		{Key: "u1", Attrs: map[string]string{"title": "a"}},
		{Key: "u2", Attrs: map[string]string{"title": "b"}},
		{Key: "u3", Attrs: map[string]string{"title": "c"}},
	}
	if err := p.Users(ctx, page); err != nil {
		t.Fatal(err)
	}
	if err := p.close(ctx, true); err != nil {
		t.Fatal(err)
	}
	if want := []string{"u1=a", "u2=b", "u3=c"}; !reflect.DeepEqual(w.prepared, want) {
		t.Errorf("prepared %q, want %q", w.prepared, want)
	}
	if want := []string{"u1=, prep of u1", "u2=, prep of u2", "u3=, prep of u3"}; !reflect.DeepEqual(w.written, want) {
		t.Errorf("written %q, want %q", w.written, want)
	}
	if page[0].Attrs["title"] != "a" {
		// The pipeline copies records before dropping what it copied.
		t.Errorf("the source's own records lost their attributes: %v", page[0])
	}
}
