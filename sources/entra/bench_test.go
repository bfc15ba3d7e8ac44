package entra_test

import (
	"context"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/apitest"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/storage"
)

// The figures in BENCHMARKS.md come from these benchmarks:
//
//	go test ./sources/entra -run '^$' -bench 'Entra' -benchtime 1x
//
// Each iteration seeds an emulated tenant of 100,000 users and 5,000
// groups (two groups per user, a manager for 99 of every 100 users),
// then runs the entra source through the runner into a fresh SQLite
// database, as POST /api/v1/sources/{id}/sync does. requests counts the
// Graph requests of the measured run (the token request excluded).
// peak-rss-MB is the process's VmHWM, which includes the emulator's copy
// of the directory.

const (
	benchUsers  = 100_000
	benchGroups = 5_000
)

type benchEnv struct {
	tn  *graphtest.Server
	app *app
	id  string
	ids graphtest.Seeded
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	tn := graphtest.New(graphtest.Options{})
	b.Cleanup(tn.Close)
	ids := tn.Seed(graphtest.SeedOptions{Users: benchUsers, Groups: benchGroups})
	a := newApp(b, entra.Kind())
	return &benchEnv{tn: tn, app: a, id: a.createSource(b, tn, nil), ids: ids}
}

// measure runs the source once and reports its figures.
func (e *benchEnv) measure(b *testing.B, check func(storage.Run)) {
	before := e.tn.GraphRequests("")
	start := time.Now()
	r := e.app.run(b, e.id)
	el := time.Since(start)
	if r.Status != storage.RunSucceeded {
		b.Fatalf("run %s: %s", r.Status, r.Error)
	}
	check(r)
	b.ReportMetric(el.Seconds(), "run-s")
	b.ReportMetric(float64(benchUsers)/el.Seconds(), "users/s")
	b.ReportMetric(float64(e.tn.GraphRequests("")-before), "requests")
}

// BenchmarkEntraFullSync100k: the first run into an empty database, with
// the emulator in a child process (emulator_process_test.go); peak-rss-MB
// is then scimgate's alone.
func BenchmarkEntraFullSync100k(b *testing.B) {
	for range b.N {
		b.StopTimer()
		tn := startEmulatorProcess(b, benchUsers, benchGroups)
		a := newApp(b, entra.Kind())
		id := a.createSource(b, tn, nil)
		before := tn.GraphRequests(b)
		b.StartTimer()
		start, cpu := time.Now(), apitest.CPUSeconds()
		r := a.run(b, id)
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(apitest.CPUSeconds()-cpu, "cpu-s")
		if r.Status != storage.RunSucceeded || r.Counts.Created != benchUsers+benchGroups || r.Counts.Unresolved != 0 {
			b.Fatalf("run %s %+v: %s", r.Status, r.Counts, r.Error)
		}
		b.ReportMetric(el.Seconds(), "run-s")
		b.ReportMetric(float64(benchUsers)/el.Seconds(), "users/s")
		b.ReportMetric(float64(tn.GraphRequests(b)-before), "requests")
	}
	b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
}

// BenchmarkEntraFullSync100kSameProcess is the same run with the emulator
// in the benchmark's own process, as the figures before the child process
// were taken.
func BenchmarkEntraFullSync100kSameProcess(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := newBenchEnv(b)
		b.StartTimer()
		e.measure(b, func(r storage.Run) {
			if r.Counts.Created != benchUsers+benchGroups || r.Counts.Unresolved != 0 {
				b.Fatalf("counts %+v", r.Counts)
			}
		})
	}
	b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
}

// BenchmarkEntraIncremental1Percent: after a full run, 1% of the users
// change a property and 1% of them move to another group; the run that
// follows replays the deltaLinks.
func BenchmarkEntraIncremental1Percent(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := newBenchEnv(b)
		e.app.run(b, e.id)
		for i := 7; i < benchUsers; i += 100 {
			e.tn.UpdateUser(e.ids.Users[i], map[string]any{"jobTitle": "Senior Engineer"})
		}
		for i := 9; i < benchUsers; i += 100 {
			e.tn.RemoveMembers(e.ids.Groups[i%benchGroups], e.ids.Users[i])
			e.tn.AddMembers(e.ids.Groups[(i+1)%benchGroups], e.ids.Users[i])
		}
		b.StartTimer()
		e.measure(b, func(r storage.Run) {
			if r.Mode != "incremental" || r.Counts.Updated < benchUsers/100 || r.Counts.Errors != 0 {
				b.Fatalf("run %+v", r)
			}
		})
	}
	b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
}

// BenchmarkEntraSourceOnly100k measures the source alone against the
// emulator: a full round into a sink that only counts, no database.
func BenchmarkEntraSourceOnly100k(b *testing.B) {
	for range b.N {
		b.StopTimer()
		tn := graphtest.New(graphtest.Options{})
		tn.Seed(graphtest.SeedOptions{Users: benchUsers, Groups: benchGroups})
		cfg := &entra.Config{TenantID: tn.TenantID(), ClientID: tn.ClientID(), ClientSecret: tn.ClientSecret(), LoginURL: tn.URL(), GraphURL: tn.URL()}
		src := open(b, cfg)
		sink := &countingSink{}
		b.StartTimer()
		start := time.Now()
		res, err := src.Sync(context.Background(), sources.Request{}, sink)
		el := time.Since(start)
		b.StopTimer()
		if err != nil || !res.Complete || sink.users != benchUsers || sink.groups != benchGroups {
			b.Fatalf("err %v users %d groups %d", err, sink.users, sink.groups)
		}
		b.ReportMetric(el.Seconds(), "run-s")
		b.ReportMetric(float64(benchUsers)/el.Seconds(), "users/s")
		b.ReportMetric(float64(entra.Requests(src)), "requests")
		tn.Close()
	}
	b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
}

// countingSink drops what it is sent.
type countingSink struct{ users, groups int }

func (c *countingSink) Users(_ context.Context, p []sources.UserRecord) error {
	c.users += len(p)
	return nil
}

func (c *countingSink) Groups(_ context.Context, p []sources.GroupRecord) error {
	c.groups += len(p)
	return nil
}
func (c *countingSink) Deletions(context.Context, []sources.Deletion) error { return nil }
func (c *countingSink) Problem(context.Context, sources.Problem) error      { return nil }
