package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// TestRecoverInterruptedRuns: a process restarted on its SQLite file finds
// the runs it left queued or running. With SingleProcess they are failed at
// once and the source runs again without waiting for the old lease; on
// PostgreSQL (no SingleProcess), or when the lease belongs to a live
// process, they are left to the lease's expiry.
func TestRecoverInterruptedRuns(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name          string
		singleProcess bool
		holder        string
		wantRecovered bool
	}{
		{"sqlite, lease of a stopped process", true, "old-host/4242/deadbeef", true},
		{"sqlite, lease of this process's earlier life", true, fmt.Sprintf("%s/%d/deadbeef", host, os.Getpid()), true},
		{"sqlite, no lease left", true, "", true},
		{"postgresql: the lease decides", false, "old-host/4242/deadbeef", false},
		{"sqlite, lease of a live process on this host", true, fmt.Sprintf("%s/%d/deadbeef", host, os.Getppid()), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storage.DeletionPolicy{})
			ctx := context.Background()
			e.ds.SetUsers(tenUsers()...)
			var left []storage.Run
			for _, status := range []storage.RunStatus{storage.RunRunning, storage.RunQueued} {
				r, err := e.store.CreateRun(ctx, storage.Run{SourceID: e.src.ID, Status: status, Trigger: "schedule", Queued: e.now,
					Counts: storage.RunCounts{Fetched: 4, Created: 4}})
				if err != nil {
					t.Fatal(err)
				}
				left = append(left, r)
			}
			if tt.holder != "" {
				// The store's clock stands still: this lease never expires by itself.
				if ok, _, err := e.store.AcquireLease(ctx, e.src.ID, tt.holder, engine.DefaultLeaseTTL); err != nil || !ok {
					t.Fatalf("AcquireLease = %v, %v", ok, err)
				}
			}
			sealer, err := engine.NewSealer(make([]byte, 32))
			if err != nil {
				t.Fatal(err)
			}
			restarted := engine.NewRunner(e.store, sources.Registry{"fake": sourcetest.Kind(e.ds)}, sealer,
				engine.RunnerOptions{SingleProcess: tt.singleProcess})
			t.Cleanup(func() { restarted.Shutdown(ctx) })
			if err := restarted.RecoverInterrupted(ctx); err != nil {
				t.Fatalf("RecoverInterrupted: %v", err)
			}
			for _, r := range left {
				got, err := e.store.GetRun(ctx, e.src.ID, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case tt.wantRecovered && (got.Status != storage.RunFailed || !strings.Contains(got.Error, "scimgate stopped during the run") || got.Finished.IsZero()):
					t.Errorf("run left %s = %s (%q, finished %v), want failed as interrupted", r.Status, got.Status, got.Error, got.Finished)
				case !tt.wantRecovered && got.Status != r.Status:
					t.Errorf("run left %s = %s (%q), want it untouched", r.Status, got.Status, got.Error)
				case got.Counts != r.Counts:
					t.Errorf("run left %s has counts %+v, want the saved %+v", r.Status, got.Counts, r.Counts)
				}
			}
			run, err := restarted.Start(ctx, e.src.ID, engine.Trigger{Reason: "manual"})
			var busy *engine.BusyError
			if !tt.wantRecovered {
				if !errors.As(err, &busy) {
					t.Fatalf("Start = %v, want BusyError while the old lease holds", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start after recovery: %v", err)
			}
			for _, running := restarted.Running(e.src.ID); running; _, running = restarted.Running(e.src.ID) {
				time.Sleep(5 * time.Millisecond)
			}
			if got, _ := e.store.GetRun(ctx, e.src.ID, run.ID); got.Status != storage.RunSucceeded || got.Counts.Created != 10 {
				t.Fatalf("run after recovery = %s, %+v (%s)", got.Status, got.Counts, got.Error)
			}
		})
	}
}
