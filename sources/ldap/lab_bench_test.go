package ldap

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// TestLabBenchmark measures the source against the lab seeded with
// 10,000 users and 500 groups (make bench-ldap), next to ldapsearch's
// export of the same entries with the same attributes in the same run.
// It only runs when SCIMGATE_LDAP_BENCH=1.
func TestLabBenchmark(t *testing.T) {
	if os.Getenv("SCIMGATE_LDAP_BENCH") != "1" {
		t.Skip("set SCIMGATE_LDAP_BENCH=1 (make bench-ldap) to run the LDAP benchmark")
	}
	l := needLab(t)
	if l.users < 10000 {
		t.Skipf("the lab has %d users; the benchmark wants 10,000 (make bench-ldap seeds them)", l.users)
	}
	ctx := background(t)
	cfg := l.config()
	cfg.PageSize = 1000 // as ldapsearch -E pr=1000
	set, _ := cfg.settings()
	groupAttrs := append(slices.Clone(set.groupAttrs), "member")
	const rounds = 3
	var ldapsearchTimes, sourceTimes []time.Duration
	var entries, streamed int
	var sourceHeap uint64
	for range rounds {
		d, n := ldapsearch(t, l, set.userFilter, set.userAttrs)
		dg, ng := ldapsearch(t, l, set.groupFilter, groupAttrs)
		ldapsearchTimes = append(ldapsearchTimes, d+dg)
		entries = n + ng

		src := l.open(t, cfg)
		sink := &countingSink{}
		stop := sampleHeap()
		start := time.Now()
		if _, err := src.Sync(ctx, sources.Request{}, sink); err != nil {
			t.Fatal(err)
		}
		sourceTimes = append(sourceTimes, time.Since(start))
		sourceHeap = max(sourceHeap, stop())
		streamed = int(sink.users.Load() + sink.groups.Load())
	}
	if streamed != entries {
		t.Errorf("the source streamed %d objects, ldapsearch exported %d", streamed, entries)
	}

	// End to end: through the engine into SQLite, as an admin runs it;
	// each round with a new store, so every first run creates everything.
	var firstRuns, againRuns []map[string]any
	var e2eHeap uint64
	var e *apiEnv
	var id string
	for range rounds {
		e = newAPIEnv(t)
		id = e.createSource(t, "bench", map[string]any{
			"url": l.url, "bindDN": l.bindDN, "bindPassword": l.password, "baseDN": l.baseDN, "caFile": l.ca, "pageSize": 1000,
		}, nil)
		stop := sampleHeap()
		firstRuns = append(firstRuns, e.sync(t, id, ""))
		e2eHeap = max(e2eHeap, stop())
		againRuns = append(againRuns, e.sync(t, id, "full"))
	}

	// 100 changes, then an incremental run; the titles are put back after.
	c := l.admin(t)
	change := func(title string) {
		for i := 101; i <= 200; i++ {
			dn := fmt.Sprintf("CN=User %05d,OU=%s,OU=Lab,%s", i, []string{"Sales", "Engineering", "Support"}[i%3], l.baseDN)
			modify(t, c, dn, func(m *goldap.ModifyRequest) { m.Replace("title", []string{title}) })
		}
	}
	change("Bench Engineer")
	t.Cleanup(func() { change("Engineer") })
	inc := e.sync(t, id, "")
	if counts(inc)["updated"] != 100 || inc["mode"] != "incremental" {
		t.Errorf("incremental run after 100 changes: %v", counts(inc))
	}

	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	ls, ss := med(ldapsearchTimes), med(sourceTimes)
	rate := func(n int, d time.Duration) string { return fmt.Sprintf("%.0f/s", float64(n)/d.Seconds()) }
	t.Logf("entries: %d users + groups (%d users seeded)", entries, l.users)
	t.Logf("ldapsearch -E pr=1000/noprompt, users then groups: median %v (%s) of %v", ls.Round(time.Millisecond), rate(entries, ls), ldapsearchTimes)
	t.Logf("source stream only, page 1000: median %v (%s) of %v = %.2fx ldapsearch; peak heap %d MiB",
		ss.Round(time.Millisecond), rate(entries, ss), sourceTimes, ss.Seconds()/ls.Seconds(), sourceHeap>>20)
	for _, r := range []struct {
		name string
		runs []map[string]any
	}{{"first full sync into SQLite", firstRuns}, {"second full sync (all unchanged)", againRuns}, {"incremental after 100 changes", []map[string]any{inc}}} {
		var ds []time.Duration
		for _, run := range r.runs {
			ds = append(ds, runDuration(t, run))
		}
		d := med(ds)
		t.Logf("%s: median %v (%s; %.2fx ldapsearch) of %v; counts %v", r.name, d.Round(time.Millisecond), rate(counts(r.runs[0])["fetched"], d),
			d.Seconds()/ls.Seconds(), ds, counts(r.runs[0]))
	}
	t.Logf("peak heap during the first full sync: %d MiB", e2eHeap>>20)
}

// ldapsearch exports the entries with OpenLDAP's client and counts them.
func ldapsearch(t *testing.T, l lab, filter string, attrs []string) (time.Duration, int) {
	t.Helper()
	args := append([]string{"-LLL", "-o", "ldif-wrap=no", "-x", "-H", l.url, "-D", l.bindDN, "-w", l.password,
		"-b", l.baseDN, "-E", "pr=1000/noprompt", filter}, attrs...)
	cmd := exec.Command("ldapsearch", args...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+l.ca)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("ldapsearch: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "dn:") {
			n++
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ldapsearch: %v", err)
	}
	return time.Since(start), n
}

func runDuration(t *testing.T, run map[string]any) time.Duration {
	t.Helper()
	started, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(run["started"]))
	finished, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(run["finished"]))
	if err1 != nil || err2 != nil {
		t.Fatalf("run times: %v %v", run["started"], run["finished"])
	}
	return finished.Sub(started)
}

// sampleHeap watches the heap until the returned func is called, which
// gives the peak in bytes.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		cancel()
		<-done
		return peak.Load()
	}
}

// countingSink counts what it is sent and keeps nothing.
type countingSink struct{ users, groups atomic.Int64 }

func (s *countingSink) Users(_ context.Context, p []sources.UserRecord) error {
	s.users.Add(int64(len(p)))
	return nil
}

func (s *countingSink) Groups(_ context.Context, p []sources.GroupRecord) error {
	s.groups.Add(int64(len(p)))
	return nil
}

func (s *countingSink) Deletions(context.Context, []sources.Deletion) error { return nil }
func (s *countingSink) Problem(context.Context, sources.Problem) error      { return nil }
