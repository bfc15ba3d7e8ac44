package outbound_test

import (
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// BenchmarkPushFirstRun pushes a view of 1000 users and 10 groups of 50
// into an empty emulated target; the users/s metric is what BENCHMARKS.md
// compares with the target's own ingest.
func BenchmarkPushFirstRun(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		f := newPushFixture(b, fixtureOptions{})
		us := f.users(1000, "bench")
		for g := range 10 {
			ids := make([]string, 50)
			for i := range ids {
				ids[i] = us[g*50+i].ID
			}
			f.group("Group"+string(rune('A'+g)), ids...)
		}
		f.engine = outbound.NewEngine(f.store, outbound.EngineOptions{})
		b.StartTimer()
		f.mustRun(outbound.PushJob{})
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkPushIncremental: 1% of 2000 users changed since the last push;
// the run sends one PATCH per changed user and nothing else.
func BenchmarkPushIncremental(b *testing.B) {
	f := newPushFixture(b, fixtureOptions{})
	us := f.users(2000, "inc")
	for g := range 20 {
		ids := make([]string, 50)
		for i := range ids {
			ids[i] = us[g*50+i].ID
		}
		f.group("Group"+string(rune('A'+g)), ids...)
	}
	f.engine = outbound.NewEngine(f.store, outbound.EngineOptions{})
	f.mustRun(outbound.PushJob{})
	b.ResetTimer()
	for round := 1; round <= b.N; round++ {
		b.StopTimer()
		for i := range 20 {
			f.editUser(us[i*100].ID, func(u *storage.User) { u.Title = fmt.Sprintf("round %d", round) })
		}
		f.target.ResetLog()
		b.StartTimer()
		out := f.mustRun(outbound.PushJob{})
		if w := f.writes(); w["PATCH"] != 20 || len(w) != 1 || out.Run.Counts.Updated != 20 {
			b.Fatalf("writes %v, counts %s", w, counts(out.Run.Counts))
		}
	}
}
