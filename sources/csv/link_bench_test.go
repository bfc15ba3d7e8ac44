package csv_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/apitest"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// Identity linking (issue 18) at scale, for BENCHMARKS.md:
//
//	go test ./sources/csv -run '^$' -bench 'LinkedSync100k' -benchtime 1x -count 3
//
// A directory where source "a" (100,000 users, link key employeeId) is
// already synced; then source "b", 100,000 users of which 80% share an
// employee number with a's, runs for the first time: with the same link
// key (80,000 records join a's people, 20,000 are new) and, to compare,
// without one (a plain source whose users are all new people; its
// userNames differ from a's, so it has no conflicts). The resync cases run
// b once, change 1% of its rows (title, which b wins: a has none) and
// measure the second run. Every case starts from a copy of one SQLite file
// holding a's synced directory (SQLite only).
//
// cpu-s is the process's CPU time over the measured run, which varies
// much less than its elapsed time on a shared machine.
//
// SCIMGATE_BENCH_CPUPROFILE=prefix writes a CPU profile of only each
// measured run to prefix-<case>.pprof.

const (
	linkUsers   = 100_000
	linkOverlap = 80_000 // b's rows 0 ... 79,999 carry a's employee numbers
)

// linkFile writes a users file of source prefix ("a" or "b"): userNames
// user%06d@<prefix>.example, employee numbers E%06d of row i (b's rows
// from linkOverlap on get numbers a never has), a title only in b's
// (changed rows "Senior Engineer"), managers within the source.
func linkFile(b *testing.B, path, prefix string, changed func(i int) bool) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("externalId,userName,givenName,familyName,displayName,email,active,title,department,employeeNumber,manager\n")
	for i := range linkUsers {
		number, title := i, ""
		if prefix == "b" {
			title = "Engineer"
			if changed != nil && changed(i) {
				title = "Senior Engineer"
			}
			if i >= linkOverlap {
				number = linkUsers + i
			}
		}
		mgr := ""
		if i%100 != 0 {
			mgr = fmt.Sprintf("%s%d", prefix, i-i%100)
		}
		fmt.Fprintf(w, "%s%d,user%06d@%s.example,Given%d,Family%d,User %d,user%06d@%s.example,true,%s,dept%02d,E%06d,%s\n",
			prefix, i, i, prefix, i, i, i, i, prefix, title, i%50, number, mgr)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// employeeLink is the one link key both sources declare.
var employeeLink = map[string]string{"employeeId": "{employeeNumber}"}

// linkEnv is one store and runner over the csv kind.
type linkEnv struct {
	store  *sqlstore.Store
	runner *engine.Runner
}

func openLinkEnv(b *testing.B, dbPath string) *linkEnv {
	b.Helper()
	store, err := sqlstore.Open(context.Background(), dbPath, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sealer, _ := engine.NewSealer(make([]byte, 32))
	runner := engine.NewRunner(store, sources.Registry{"csv": csv.Kind()}, sealer, engine.RunnerOptions{})
	e := &linkEnv{store: store, runner: runner}
	b.Cleanup(e.close)
	return e
}

// close stops the runner and closes the store; again is a no-op.
func (e *linkEnv) close() {
	if e.runner != nil {
		e.runner.Shutdown(context.Background())
		e.store.Close()
		e.runner = nil
	}
}

func (e *linkEnv) addSource(b *testing.B, name, usersPath string, precedence int, link map[string]string) storage.Source {
	b.Helper()
	src, err := e.store.CreateSource(context.Background(), storage.Source{Name: name, Kind: "csv", Enabled: true,
		Settings: []byte(`{"usersPath":"` + usersPath + `"}`), Precedence: precedence, Link: link,
		Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 20}})
	if err != nil {
		b.Fatal(err)
	}
	return src
}

// run runs src as POST /api/v1/sources/{id}/sync does and waits for it.
func (e *linkEnv) run(b *testing.B, src storage.Source) storage.Run {
	b.Helper()
	r, err := e.runner.Start(context.Background(), src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		b.Fatal(err)
	}
	for {
		got, err := e.store.GetRun(context.Background(), src.ID, r.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, busy := e.runner.Running(src.ID); !busy && got.Status.Finished() {
			if got.Status != storage.RunSucceeded {
				b.Fatalf("run of %s %s: %s", src.Name, got.Status, got.Error)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// linkedBase builds the starting point every case copies: a SQLite file
// where source a has run once. It returns the file's path.
func linkedBase(b *testing.B, dir string) string {
	b.Helper()
	db := filepath.Join(dir, "base.db")
	aPath := filepath.Join(dir, "a.csv")
	linkFile(b, aPath, "a", nil)
	e := openLinkEnv(b, db)
	r := e.run(b, e.addSource(b, "a", aPath, 10, employeeLink))
	if r.Counts.Created != linkUsers {
		b.Fatalf("a's first run: %+v", r.Counts)
	}
	e.close()
	return db
}

// copyDB copies a closed SQLite database (with its WAL, if one is left).
func copyDB(b *testing.B, from, to string) {
	b.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		src, err := os.Open(from + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		dst, err := os.Create(to + suffix)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinkedSync100k: see the comment at the top of this file.
func BenchmarkLinkedSync100k(b *testing.B) {
	base := linkedBase(b, b.TempDir())
	for _, c := range []struct {
		name   string
		link   map[string]string
		resync bool
		check  func(storage.RunCounts) bool
	}{
		{"full/link", employeeLink, false, func(c storage.RunCounts) bool {
			return c.Linked == linkOverlap && c.Conflicts == 0 && c.Errors == 0
		}},
		{"full/plain", nil, false, func(c storage.RunCounts) bool { return c.Created == linkUsers && c.Conflicts == 0 }},
		{"resync/link", employeeLink, true, func(c storage.RunCounts) bool {
			return c.Updated == linkUsers/100 && c.Unchanged == linkUsers-linkUsers/100 && c.Linked == 0 && c.Unlinked == 0
		}},
		{"resync/plain", nil, true, func(c storage.RunCounts) bool {
			return c.Updated == linkUsers/100 && c.Unchanged == linkUsers-linkUsers/100
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				dir := b.TempDir()
				db := filepath.Join(dir, "bench.db")
				copyDB(b, base, db)
				bPath := filepath.Join(dir, "b.csv")
				linkFile(b, bPath, "b", nil)
				e := openLinkEnv(b, db)
				src := e.addSource(b, "b", bPath, 20, c.link)
				if c.resync {
					e.run(b, src)
					linkFile(b, bPath, "b", func(i int) bool { return i%100 == 7 })
				}
				stop := startProfile(b, c.name)
				b.StartTimer()
				start, cpu := time.Now(), apitest.CPUSeconds()
				r := e.run(b, src)
				el, cpu := time.Since(start), apitest.CPUSeconds()-cpu
				b.StopTimer()
				stop()
				if !c.check(r.Counts) {
					b.Fatalf("counts %+v", r.Counts)
				}
				b.ReportMetric(el.Seconds(), "run-s")
				b.ReportMetric(cpu, "cpu-s")
				b.ReportMetric(float64(linkUsers)/el.Seconds(), "users/s")
				e.close()
			}
			b.ReportMetric(apitest.PeakRSSMB(), "peak-rss-MB")
		})
	}
}

// startProfile starts a CPU profile of the measured part when
// SCIMGATE_BENCH_CPUPROFILE is set, and returns what stops it.
func startProfile(b *testing.B, name string) func() {
	b.Helper()
	prefix := os.Getenv("SCIMGATE_BENCH_CPUPROFILE")
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "-" + strings.ReplaceAll(name, "/", "-") + ".pprof")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
