package okta_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/apitest"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// The figures in BENCHMARKS.md come from these benchmarks, one per
// process so that peak RSS (VmHWM) is each one's own:
//
//	go test ./sources/okta -run '^$' -bench 'OktaSync50k' -benchtime 1x
//	go test ./sources/okta -run '^$' -bench 'OktaSource50k' -benchtime 1x
//
// The org has 50,000 users and 2,000 groups; every user is in 3 groups
// (150,000 memberships, 75 per group), and rate limits are Okta's
// Workforce Identity figures. Time spent waiting for rate limits passes
// on the emulator's fake clock and is reported as okta-min: how long the
// same run would take against a real org because of its limits alone.
// peak-rss-MB includes the emulator, which holds the whole org.

const (
	benchUsers  = 50_000
	benchGroups = 2_000
)

func benchOrg(b *testing.B) (*oktatest.Server, []string, []string) {
	b.Helper()
	srv := newOrg(b, oktatest.Options{})
	users, groups := srv.Seed(benchUsers, benchGroups, func(i int) oktatest.UserSpec { return person(i) }, func(i int) []int { return []int{i % benchGroups, (i + 7) % benchGroups, (i + 331) % benchGroups} })
	for i, id := range users { // every hundredth user manages the next 99
		if i%100 != 0 {
			srv.UpdateUser(id, map[string]any{"managerId": users[i-i%100]})
		}
	}
	later(srv, time.Hour)
	return srv, users, groups
}

// change1Percent updates 1% of the users and the membership of 1% of the
// groups (no user is touched by those).
func change1Percent(srv *oktatest.Server, users, groups []string) {
	later(srv, 10*time.Minute)
	for i := 0; i < len(users); i += 100 {
		srv.UpdateUser(users[i+50], map[string]any{"title": "Senior Engineer"})
	}
	for i := 0; i < len(groups); i += 100 {
		srv.AddMember(groups[i], users[i+1])
	}
}

// BenchmarkOktaSync50k runs the okta kind through the runner into SQLite,
// as POST /api/v1/sources/{id}/sync does: a full run, then a delta.
func BenchmarkOktaSync50k(b *testing.B) {
	for range b.N {
		srv, users, groups := benchOrg(b)
		ctx := context.Background()
		store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		sealer, _ := engine.NewSealer(make([]byte, 32))
		runner := engine.NewRunner(store, sources.Registry{"okta": okta.Kind()}, sealer, engine.RunnerOptions{Env: orgEnv(srv)})
		src, err := store.CreateSource(ctx, storage.Source{Name: "bench", Kind: "okta", Enabled: true,
			Settings: []byte(fmt.Sprintf(`{"orgURL":%q,"apiToken":%q}`, srv.URL, testToken)),
			Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 20}})
		if err != nil {
			b.Fatal(err)
		}

		srv.ResetStats()
		okta0, start := srv.Clock().Now(), time.Now()
		full := waitRun(b, store, runner, src.ID)
		wall := time.Since(start)
		if full.Mode != "full" || full.Counts.Created != benchUsers+benchGroups {
			b.Fatalf("full run: mode %s, counts %+v", full.Mode, full.Counts)
		}
		st := srv.Stats()
		b.ReportMetric(float64(benchUsers)/wall.Seconds(), "users/s")
		b.ReportMetric(wall.Seconds(), "full-s")
		b.ReportMetric(float64(st.Requests), "full-requests")
		b.ReportMetric(srv.Clock().Now().Sub(okta0).Minutes(), "full-okta-min")

		change1Percent(srv, users, groups)
		srv.ResetStats()
		start = time.Now()
		delta := waitRun(b, store, runner, src.ID)
		if delta.Mode != "incremental" || delta.Counts.Updated != benchUsers/100+benchGroups/100 {
			b.Fatalf("delta run: mode %s, counts %+v", delta.Mode, delta.Counts)
		}
		b.ReportMetric(time.Since(start).Seconds(), "delta-s")
		b.ReportMetric(float64(srv.Stats().Requests), "delta-requests")
		b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
		runner.Shutdown(ctx)
		store.Close()
	}
}

// BenchmarkOktaSource50k is the source alone (emulator, HTTP, JSON,
// paging, rate limiting) with a sink that drops the records.
func BenchmarkOktaSource50k(b *testing.B) {
	for range b.N {
		srv, users, groups := benchOrg(b)
		src := open(b, srv, nil)
		srv.ResetStats()
		start := time.Now()
		sink := &countingSink{}
		res, err := src.Sync(context.Background(), sources.Request{}, sink)
		if err != nil || sink.users != benchUsers || sink.groups != benchGroups {
			b.Fatalf("full: %v, %d users, %d groups", err, sink.users, sink.groups)
		}
		wall := time.Since(start)
		b.ReportMetric(float64(benchUsers)/wall.Seconds(), "users/s")
		b.ReportMetric(float64(srv.Stats().Requests), "full-requests")

		change1Percent(srv, users, groups)
		srv.ResetStats()
		sink = &countingSink{}
		if _, err := src.Sync(context.Background(), sources.Request{Cursor: res.Cursor}, sink); err != nil {
			b.Fatal(err)
		}
		if sink.users != benchUsers/100 || sink.groups != benchGroups/100 {
			b.Fatalf("delta: %d users, %d groups", sink.users, sink.groups)
		}
		b.ReportMetric(float64(srv.Stats().Requests), "delta-requests")
		b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
	}
}

type countingSink struct{ users, groups int }

func (s *countingSink) Users(_ context.Context, p []sources.UserRecord) error {
	s.users += len(p)
	return nil
}
func (s *countingSink) Groups(_ context.Context, p []sources.GroupRecord) error {
	s.groups += len(p)
	return nil
}
func (s *countingSink) Deletions(context.Context, []sources.Deletion) error { return nil }
func (s *countingSink) Problem(context.Context, sources.Problem) error      { return nil }

func waitRun(b *testing.B, store *sqlstore.Store, runner *engine.Runner, sourceID string) storage.Run {
	b.Helper()
	r, err := runner.Start(context.Background(), sourceID, engine.Trigger{Reason: "manual"})
	if err != nil {
		b.Fatal(err)
	}
	for {
		got, err := store.GetRun(context.Background(), sourceID, r.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, busy := runner.Running(sourceID); !busy && got.Status.Finished() {
			if got.Status != storage.RunSucceeded {
				b.Fatalf("run %s: %s", got.Status, got.Error)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}
