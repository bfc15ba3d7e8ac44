package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
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

func (l *callLog) Users(_ context.Context, p []UserRecord) error {
	keys := make([]string, len(p))
	for i, u := range p {
		keys[i] = u.Key
	}
	return l.record(fmt.Sprint("users ", keys))
}

func (l *callLog) Groups(_ context.Context, p []GroupRecord) error {
	keys := make([]string, len(p))
	for i, g := range p {
		keys[i] = g.Key + fmt.Sprint(g.Members)
	}
	return l.record(fmt.Sprint("groups ", keys))
}

func (l *callLog) Deletions(_ context.Context, d []Deletion) error {
	return l.record(fmt.Sprint("deletions ", d))
}

func (l *callLog) Problem(_ context.Context, p Problem) error {
	return l.record("problem " + p.Where)
}

func TestPipelineKeepsOrderAndBatches(t *testing.T) {
	ctx := context.Background()
	log := &callLog{}
	p := newPipeline(ctx, log, 3, slog.New(slog.DiscardHandler))
	// One page slice reused for every call, as the csv source does: the
	// pipeline must have copied the records before the source overwrites.
	page := make([]UserRecord, 2)
	for i := range 4 {
		page[0], page[1] = UserRecord{Key: fmt.Sprint("u", 2*i)}, UserRecord{Key: fmt.Sprint("u", 2*i+1)}
		if err := p.Users(ctx, page); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Problem(ctx, Problem{Where: "line 9"}); err != nil {
		t.Fatal(err)
	}
	groups := []GroupRecord{{Key: "g1", Members: []string{"u1"}}, {Key: "g2"}}
	if err := p.Groups(ctx, groups); err != nil {
		t.Fatal(err)
	}
	if err := p.Deletions(ctx, []Deletion{{Kind: KindUser, Key: "u9"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Groups(ctx, []GroupRecord{{Key: "g3"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.close(ctx, true); err != nil {
		t.Fatal(err)
	}
	// Problems and deletions pass records still being gathered; users
	// always reach the sink before the groups sent after them.
	want := []string{
		"users [u0 u1 u2]",
		"users [u3 u4 u5]",
		"problem line 9",
		"users [u6 u7]",
		"deletions [{User u9 false}]",
		"groups [g1[u1] g2[] g3[]]",
	}
	if !reflect.DeepEqual(log.calls, want) {
		t.Fatalf("calls\n got %q\nwant %q", log.calls, want)
	}
}

func TestPipelineStopsTheSourceAfterAWriteFails(t *testing.T) {
	ctx := context.Background()
	log := &callLog{failOn: 1}
	p := newPipeline(ctx, log, 1, slog.New(slog.DiscardHandler))
	var err error
	sent := 0
	for i := 0; i < 100 && err == nil; i++ {
		err = p.Users(ctx, []UserRecord{{Key: fmt.Sprint("u", i)}})
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
	p := newPipeline(ctx, log, 2, slog.New(slog.DiscardHandler))
	for _, k := range []string{"u1", "u2", "u3"} {
		if err := p.Users(ctx, []UserRecord{{Key: k}}); err != nil {
			t.Fatal(err)
		}
	}
	// The source failed: u3, still gathering, is not written.
	if err := p.close(ctx, false); err != nil {
		t.Fatal(err)
	}
	if want := []string{"users [u1 u2]"}; !reflect.DeepEqual(log.calls, want) {
		t.Fatalf("calls %q, want %q", log.calls, want)
	}
}

func TestPipelineCanceledWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	block := make(chan struct{})
	p := newPipeline(ctx, blockingSink{block}, 1, slog.New(slog.DiscardHandler))
	// The writer is stuck, so the third page waits for room until the run
	// is canceled.
	time.AfterFunc(20*time.Millisecond, cancel)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = p.Users(ctx, []UserRecord{{Key: fmt.Sprint("u", i)}})
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Users on a canceled run: %v", err)
	}
	close(block)
	p.close(ctx, false)
}

type blockingSink struct{ block chan struct{} }

func (b blockingSink) Users(context.Context, []UserRecord) error {
	<-b.block
	return nil
}
func (blockingSink) Groups(context.Context, []GroupRecord) error { return nil }
func (blockingSink) Deletions(context.Context, []Deletion) error { return nil }
func (blockingSink) Problem(context.Context, Problem) error      { return nil }

func TestPipelineTurnsAWriterPanicIntoTheRunsError(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(ctx, panickingSink{}, 1, slog.New(slog.DiscardHandler))
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = p.Users(ctx, []UserRecord{{Key: fmt.Sprint("u", i)}})
	}
	if err == nil || !strings.Contains(err.Error(), "the sync engine crashed") || !strings.Contains(err.Error(), "nil map") {
		t.Fatalf("Users after the writer panicked: %v", err)
	}
	if cerr := p.close(ctx, false); cerr == nil || cerr.Error() != err.Error() {
		t.Fatalf("close: %v, want %v", cerr, err)
	}
}

type panickingSink struct{ blockingSink }

func (panickingSink) Users(context.Context, []UserRecord) error {
	var m map[string]int
	m["x"]++ // assignment to entry in nil map
	return nil
}
