package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

func leaseStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "leases.db"), sqlstore.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func TestLeaseTakeAndRelease(t *testing.T) {
	ctx := t.Context()
	store := leaseStore(t)
	mine := storage.Lease{Store: store, Key: "push:a", Holder: "me/1/aa", TTL: time.Minute, Thing: "app"}
	theirs := mine
	theirs.Holder = "them/2/bb"
	steps := []struct {
		name    string
		do      func() (bool, string, error)
		wantOK  bool
		current string
	}{
		{"mine when free", func() (bool, string, error) { return mine.Take(ctx) }, true, ""},
		{"theirs refused while mine runs", func() (bool, string, error) { return theirs.Take(ctx) }, false, "me/1/aa"},
		{"mine again extends it", func() (bool, string, error) { return mine.Take(ctx) }, true, ""},
		{"theirs once mine is released", func() (bool, string, error) {
			if err := mine.Release(ctx); err != nil {
				return false, "", err
			}
			return theirs.Take(ctx)
		}, true, ""},
		{"another key is apart", func() (bool, string, error) {
			other := mine
			other.Key = "push:b"
			return other.Take(ctx)
		}, true, ""},
		{"no store: always taken", func() (bool, string, error) { return storage.Lease{Holder: "x"}.Take(ctx) }, true, ""},
	}
	for _, s := range steps {
		ok, current, err := s.do()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if ok != s.wantOK || (!ok && current != s.current) {
			t.Fatalf("%s: ok %v, current %q; want %v, %q", s.name, ok, current, s.wantOK, s.current)
		}
	}
}

func TestLeaseTakeOver(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name      string
		held      string // who holds the lease before TakeOver; "" nobody
		wantOK    bool
		wantAlive string
	}{
		{name: "free", wantOK: true},
		{name: "a holder on another host counts as dead", held: "elsewhere/1/aa", wantOK: true},
		{name: "an earlier incarnation of this process", held: fmt.Sprintf("%s/%d/aa", host, os.Getpid()), wantOK: true},
		{name: "a live process on this host keeps it", held: fmt.Sprintf("%s/%d/aa", host, os.Getppid()),
			wantAlive: fmt.Sprintf("%s/%d/aa", host, os.Getppid())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			store := leaseStore(t)
			l := storage.Lease{Store: store, Key: "src", Holder: storage.NewLeaseHolder(), TTL: time.Minute, Thing: "source"}
			if tt.held != "" {
				if ok, _, err := store.AcquireLease(ctx, l.Key, tt.held, time.Hour); err != nil || !ok {
					t.Fatalf("setup: %v %v", ok, err)
				}
			}
			ok, alive, err := l.TakeOver(ctx)
			if err != nil || ok != tt.wantOK || alive != tt.wantAlive {
				t.Fatalf("TakeOver = %v, %q, %v; want %v, %q", ok, alive, err, tt.wantOK, tt.wantAlive)
			}
			want := l.Holder
			if !tt.wantOK {
				want = tt.held
			}
			if _, current, _ := store.AcquireLease(ctx, l.Key, "probe/9/ff", time.Minute); current != want {
				t.Fatalf("lease held by %q after TakeOver, want %q", current, want)
			}
		})
	}
}

func TestLeaseHoldEndsTheRunWhenAnotherReplicaTakesOver(t *testing.T) {
	ctx := t.Context()
	store := leaseStore(t)
	mine := storage.Lease{Store: store, Key: "push:a", Holder: "me/1/aa", TTL: 30 * time.Millisecond, Thing: "app"}
	if ok, _, err := mine.Take(ctx); err != nil || !ok {
		t.Fatalf("Take = %v, %v", ok, err)
	}
	told := make(chan string, 1)
	run, stop := mine.Hold(ctx, nil, func(reason string) { told <- reason })
	defer stop()
	// Another replica gets the lease (here: it was released under us).
	if err := store.ReleaseLease(ctx, mine.Key, mine.Holder); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := store.AcquireLease(ctx, mine.Key, "them/2/bb", time.Hour); err != nil || !ok {
		t.Fatalf("their AcquireLease = %v, %v", ok, err)
	}
	<-run.Done()
	const want = "another replica (them/2/bb) took the app over"
	if got := context.Cause(run).Error(); got != want {
		t.Fatalf("cause %q, want %q", got, want)
	}
	if got := <-told; !strings.Contains(got, "them/2/bb") {
		t.Fatalf("lost was told %q", got)
	}
}

func TestLeaseHoldStopEndsTheContextWithoutCause(t *testing.T) {
	store := leaseStore(t)
	l := storage.Lease{Store: store, Key: "k", Holder: "me/1/aa", TTL: time.Minute, Thing: "source"}
	run, stop := l.Hold(t.Context(), nil, nil)
	stop()
	<-run.Done()
	if cause := context.Cause(run); !errors.Is(cause, context.Canceled) {
		t.Fatalf("cause %v, want context.Canceled", cause)
	}
}
