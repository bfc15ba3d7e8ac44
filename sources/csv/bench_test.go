package csv_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/apitest"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// The figures in BENCHMARKS.md come from these benchmarks:
//
//	go test ./sources/csv -run '^$' -bench 'Sync100k' -benchtime 1x
//
// Each iteration builds a fresh SQLite database, writes a users file of
// 100,000 rows, and runs the csv source through the runner exactly as
// POST /api/v1/sources/{id}/sync does. peak-rss-MB is the process's
// high-water mark (VmHWM), which includes the file generation.

const benchUsers = 100_000

func writeUsersFile(b *testing.B, path string, n int, changed func(i int) bool) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("externalId,userName,givenName,familyName,displayName,email,active,title,department,employeeNumber,manager\n")
	for i := range n {
		title := "Engineer"
		if changed != nil && changed(i) {
			title = "Senior Engineer"
		}
		mgr := ""
		if i%100 != 0 {
			mgr = strconv.Itoa(i - i%100)
		}
		fmt.Fprintf(w, "%d,user%06d@example.com,Given%d,Family%d,User %d,user%06d@example.com,true,%s,dept%02d,E%06d,%s\n",
			i, i, i, i, i, i, title, i%50, i, mgr)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

type benchEnv struct {
	store  *sqlstore.Store
	runner *engine.Runner
	src    storage.Source
}

func newBenchEnv(b *testing.B, usersPath string) *benchEnv {
	b.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, benchDB(b), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	sealer, _ := engine.NewSealer(make([]byte, 32))
	runner := engine.NewRunner(store, sources.Registry{"csv": csv.Kind()}, sealer, engine.RunnerOptions{})
	b.Cleanup(func() { runner.Shutdown(context.Background()) })
	src, err := store.CreateSource(ctx, storage.Source{Name: "bench", Kind: "csv", Enabled: true,
		Settings: []byte(`{"usersPath":"` + usersPath + `"}`),
		Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 20}})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{store: store, runner: runner, src: src}
}

func (e *benchEnv) run(b *testing.B) storage.Run {
	b.Helper()
	r, err := e.runner.Start(context.Background(), e.src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		b.Fatal(err)
	}
	for {
		got, err := e.store.GetRun(context.Background(), e.src.ID, r.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, busy := e.runner.Running(e.src.ID); !busy && got.Status.Finished() {
			if got.Status != storage.RunSucceeded {
				b.Fatalf("run %s: %s", got.Status, got.Error)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkFullSync100k syncs 100,000 users into an empty directory, with
// no applications and with 20 whose views the sync maintains.
func BenchmarkFullSync100k(b *testing.B) {
	for _, apps := range []int{0, 20} {
		b.Run(fmt.Sprintf("apps=%d", apps), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				path := filepath.Join(b.TempDir(), "users.csv")
				writeUsersFile(b, path, benchUsers, nil)
				e := newBenchEnv(b, path)
				createBenchApps(b, e, apps)
				b.StartTimer()
				start := time.Now()
				r := e.run(b)
				el := time.Since(start)
				if r.Counts.Created != benchUsers {
					b.Fatalf("created %d", r.Counts.Created)
				}
				b.ReportMetric(float64(benchUsers)/el.Seconds(), "users/s")
			}
			b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
		})
	}
}

// BenchmarkResync100kOnePercent re-runs the same source after 1% of the
// users changed (the scheduled sync of a directory already in place),
// with no applications and with 20.
func BenchmarkResync100kOnePercent(b *testing.B) {
	for _, apps := range []int{0, 20} {
		b.Run(fmt.Sprintf("apps=%d", apps), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				path := filepath.Join(b.TempDir(), "users.csv")
				writeUsersFile(b, path, benchUsers, nil)
				e := newBenchEnv(b, path)
				createBenchApps(b, e, apps)
				e.run(b)
				writeUsersFile(b, path, benchUsers, func(i int) bool { return i%100 == 7 })
				b.StartTimer()
				start := time.Now()
				r := e.run(b)
				el := time.Since(start)
				if r.Counts.Updated != benchUsers/100 || r.Counts.Unchanged != benchUsers-benchUsers/100 {
					b.Fatalf("counts %+v", r.Counts)
				}
				b.ReportMetric(el.Seconds(), "resync-s")
				b.ReportMetric(float64(benchUsers)/el.Seconds(), "users/s")
			}
			b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
		})
	}
}

// createBenchApps creates n applications of the kinds an installation has
// side by side: a department by filter, a title (which the resync
// changes) within a department, the whole source, the source's active
// users only, and scope groups (which a csv of users alone never fills).
func createBenchApps(b *testing.B, e *benchEnv, n int) {
	b.Helper()
	for i := range n {
		a := storage.App{Name: fmt.Sprintf("app-%02d", i), LeaveGraceDays: 7, Scope: storage.AppScope{IncludeInactive: true}}
		dept := storage.Compare{Attr: storage.AttrDepartment, Op: storage.OpEq, Value: fmt.Sprintf("dept%02d", i)}
		switch i % 5 {
		case 0:
			a.Scope.FilterExpr = dept
		case 1:
			a.Scope.FilterExpr = storage.And{Left: dept, Right: storage.Compare{Attr: storage.AttrTitle, Op: storage.OpSw, Value: "Senior"}}
		case 2:
			a.Scope.Owners = []string{e.src.Owner()}
		case 3:
			a.Scope.Owners, a.Scope.IncludeInactive = []string{e.src.Owner()}, false
		case 4:
			a.Scope.Groups = []string{fmt.Sprintf("GG-App-%02d", i)}
		}
		if _, err := e.store.CreateApp(context.Background(), a); err != nil {
			b.Fatalf("CreateApp: %v", err)
		}
	}
}

// benchDB is a fresh SQLite file, or with SCIMGATE_BENCH_POSTGRES=1 a fresh
// schema on the PostgreSQL server of SCIMGATE_TEST_POSTGRES.
func benchDB(b *testing.B) string {
	if os.Getenv("SCIMGATE_BENCH_POSTGRES") == "1" {
		return pgtest.FreshSchema(b)
	}
	return filepath.Join(b.TempDir(), "bench.db")
}
