package runset_test

import (
	"context"
	"errors"
	"testing"

	"github.com/scimgate/scimgate/sources/runset"
)

type busyError struct{ runID string }

func (e *busyError) Error() string { return "busy with " + e.runID }

var errClosed = errors.New("closed")

func newSet(max int) *runset.Set {
	return runset.New(max, func(id string) error { return &busyError{runID: id} }, errClosed)
}

func TestBegin(t *testing.T) {
	errBegin := errors.New("begin refused")
	tests := []struct {
		name     string
		before   func(s *runset.Set)
		begin    func() (string, error)
		wantErr  error
		wantBusy string
		running  string // the run Running reports for "k" afterwards
	}{
		{name: "free key", begin: func() (string, error) { return "r1", nil }, running: "r1"},
		{name: "busy key", before: func(s *runset.Set) { s.Begin("k", func() (string, error) { return "r0", nil }) },
			begin: func() (string, error) { return "r1", nil }, wantBusy: "r0", running: "r0"},
		{name: "begin refuses", begin: func() (string, error) { return "", errBegin }, wantErr: errBegin},
		{name: "ended key is free again", before: func(s *runset.Set) {
			s.Begin("k", func() (string, error) { return "r0", nil })
			s.End("k")
		}, begin: func() (string, error) { return "r1", nil }, running: "r1"},
		{name: "other key does not block", before: func(s *runset.Set) { s.Begin("j", func() (string, error) { return "r0", nil }) },
			begin: func() (string, error) { return "r1", nil }, running: "r1"},
		{name: "shutting down", before: func(s *runset.Set) { s.Shutdown(context.Background()) },
			begin: func() (string, error) { return "r1", nil }, wantErr: errClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSet(2)
			if tt.before != nil {
				tt.before(s)
			}
			called := false
			err := s.Begin("k", func() (string, error) { called = true; return tt.begin() })
			var busy *busyError
			switch {
			case tt.wantBusy != "":
				if !errors.As(err, &busy) || busy.runID != tt.wantBusy || called {
					t.Fatalf("Begin = %v (begin called: %v), want busy with %s and begin not called", err, called, tt.wantBusy)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Begin = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Begin = %v", err)
			}
			id, ok := s.Running("k")
			if id != tt.running || ok != (tt.running != "") {
				t.Fatalf("Running = %q, %v; want %q", id, ok, tt.running)
			}
		})
	}
}

func TestSlotsBoundRunsAtOnce(t *testing.T) {
	s := newSet(2)
	var releases []func()
	for i := range 2 {
		release, ok := s.Slot(context.Background())
		if !ok {
			t.Fatalf("slot %d refused", i)
		}
		releases = append(releases, release)
	}
	full, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := s.Slot(full); ok {
		t.Fatal("a third slot was handed out while two are taken")
	}
	releases[0]()
	if _, ok := s.Slot(context.Background()); !ok {
		t.Fatal("a released slot was not handed out again")
	}
}

func TestShutdownWaitsThenCancels(t *testing.T) {
	s := newSet(1)
	if err := s.Begin("k", func() (string, error) { return "r1", nil }); err != nil {
		t.Fatal(err)
	}
	// The run ends only when the set's context is canceled: Shutdown, its
	// own ctx already over, must cancel it and then wait for it.
	ended := make(chan struct{})
	go func() {
		<-s.Context().Done()
		s.End("k")
		close(ended)
	}()
	over, cancel := context.WithCancel(context.Background())
	cancel()
	s.Shutdown(over)
	// End frees the key before it lets Shutdown go: a run still reported
	// means Shutdown did not wait for it.
	if id, ok := s.Running("k"); ok {
		t.Fatalf("run %s still reported running after Shutdown", id)
	}
	<-ended
	if err := s.Begin("k", func() (string, error) { return "r2", nil }); !errors.Is(err, errClosed) {
		t.Fatalf("Begin after Shutdown = %v, want %v", err, errClosed)
	}
}
