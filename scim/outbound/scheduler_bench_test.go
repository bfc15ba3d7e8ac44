package outbound_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// BenchmarkSchedulerTick is the cost of a tick that starts nothing, with
// 200 pushing apps (each pushed once, so each has a push state): the
// price of ticking every second.
func BenchmarkSchedulerTick(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, storage.PushConfig{Schedule: "1h", AfterChangeSeconds: 30, Enabled: true})
	for i := range 199 {
		push := *e.app.Push
		app, err := e.store.CreateApp(ctx, storage.App{Name: fmt.Sprintf("app-%03d", i), Groups: storage.GroupsAll, Push: &push})
		if err != nil {
			b.Fatal(err)
		}
		run, err := e.store.PushRuns().CreateRun(ctx, storage.Run{SourceID: app.ID, Status: storage.RunRunning, Queued: epoch, Started: epoch})
		if err != nil {
			b.Fatal(err)
		}
		run.Status, run.Finished = storage.RunSucceeded, epoch
		if _, err := e.store.PushRuns().FinishRun(ctx, run, false, func(h *storage.SourceHealth) { h.LastRunAt = epoch }); err != nil {
			b.Fatal(err)
		}
	}
	s := e.scheduler()
	s.Tick(ctx) // the first app, never pushed, starts now
	for _, id := range []string{e.app.ID} {
		if runs, _ := e.store.PushRuns().ListRuns(ctx, id, 1); len(runs) == 1 {
			e.wait(b, e.runner, runs[0].ID)
		}
	}
	e.clock.Advance(time.Minute)
	b.ResetTimer()
	for range b.N {
		if got := s.Tick(ctx); got != nil {
			b.Fatalf("started %v", got)
		}
	}
}
