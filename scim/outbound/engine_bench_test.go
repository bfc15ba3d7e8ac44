package outbound_test

import (
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
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
