package sourcetest

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// The conformance suite every connector passes. A connector's tests call
// Run with a Harness that starts a fresh upstream (an emulator, a fake
// directory, files) for each case:
//
//	func TestConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Harness{New: newUpstream, PageSize: 10, ...})
//	}
//
// Each case gets its own upstream, so cases never see each other's data.

// Harness is one connector's side of the suite.
type Harness struct {
	// New returns a fresh, empty upstream; it registers its cleanup with t.
	New func(t *testing.T) Upstream
	// Incremental says a run given the last cursor sends only what changed
	// since; false for kinds that enumerate everything every time (csv).
	Incremental bool
	// PageSize is the most users the source sends in one page, so the
	// suite can seed several pages.
	PageSize int
	// IsUnreachable and IsBadCredentials recognise Test's error when the
	// host does not answer and when the credentials are refused (with
	// errors.Is or errors.As on the kind's own errors). A kind without
	// credentials (csv: the host is the file system) leaves
	// IsBadCredentials nil.
	IsUnreachable, IsBadCredentials func(error) bool
	// MemoryUsers is the directory size of the memory case's small run
	// (default 200); the large one has ten times as many.
	MemoryUsers int
	// MaxBytesPerUser bounds the live heap the source may hold for each
	// user beyond the small run (default 256: a key or two, never the
	// record; measured with the emulator's own data subtracted).
	MaxBytesPerUser int
}

// Upstream is one fresh directory behind the source under test. Its
// methods fail the test themselves (they hold the t given to New).
type Upstream interface {
	// AddUser creates user i (its userName and other attributes derived
	// from i) and returns the key the source will report for it.
	AddUser(i int) string
	// AddGroup creates a group with the given member user keys and returns
	// its key.
	AddGroup(name string, members ...string) string
	// ChangeUser changes an attribute of the user that the source reports.
	// Upstreams with a clock move it on first, so the change is later than
	// anything a previous run saw.
	ChangeUser(key string)
	// DeleteUser deletes the user for good.
	DeleteUser(key string)
	// AddMalformed adds a user the source cannot read (no id, a value
	// out of range): the kind's notion of a malformed record.
	AddMalformed()
	// BreakCredentials makes sources opened from now on use credentials
	// the upstream refuses.
	BreakCredentials()
	// BreakHost makes sources opened from now on point at a host where
	// nothing answers.
	BreakHost()
	// Open opens the source with env, adding what the upstream needs
	// (its clock, its HTTP client) and keeping env's Upstream.
	Open(env sources.Env) sources.Source
}

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	if h.PageSize <= 0 {
		h.PageSize = 1
	}
	if h.MemoryUsers <= 0 {
		h.MemoryUsers = 200
	}
	if h.MaxBytesPerUser <= 0 {
		h.MaxBytesPerUser = 256
	}
	cases := []struct {
		name string
		run  func(t *testing.T, h Harness, up Upstream)
	}{
		{"FullEnumerationIsCompleteWithStableKeys", fullEnumeration},
		{"CursorRunSendsOnlyChanges", cursorRun},
		{"DeletionArrives", deletionArrives},
		{"CancelStopsTheRun", cancelStopsTheRun},
		{"MalformedRecordIsAProblem", malformedIsAProblem},
		{"TestTellsHostFromCredentials", testTellsHostFromCredentials},
		{"MemoryDoesNotGrowWithTheDirectory", memoryFlat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, h, h.New(t)) })
	}
}

// runOnce opens a source and runs it once into a fresh Recorder; the run
// must succeed and report its upstream requests.
func runOnce(t *testing.T, up Upstream, req sources.Request) (*Recorder, sources.Result) {
	t.Helper()
	seen := &UpstreamCounter{}
	rec := &Recorder{}
	res, err := up.Open(sources.Env{Upstream: seen}).Sync(t.Context(), req, rec)
	if err != nil {
		t.Fatalf("sync %+v: %v", req, err)
	}
	if seen.Total() == 0 {
		t.Errorf("the run reported no upstream request to Env.Upstream")
	}
	if dups := rec.Duplicates(); len(dups) > 0 {
		t.Errorf("keys sent twice in one run: %v", dups)
	}
	return rec, res
}

func seedUsers(up Upstream, from, n int) []string {
	keys := make([]string, 0, n)
	for i := from; i < from+n; i++ {
		keys = append(keys, up.AddUser(i))
	}
	return keys
}

func sorted(keys []string) []string {
	out := slices.Clone(keys)
	slices.Sort(out)
	return out
}

func fullEnumeration(t *testing.T, h Harness, up Upstream) {
	users := seedUsers(up, 0, 2*h.PageSize+1)
	g1 := up.AddGroup("Sales", users[0], users[1])
	g2 := up.AddGroup("Empty")
	rec, res := runOnce(t, up, sources.Request{})
	if !res.Complete {
		t.Errorf("a first run is not complete: %+v", res)
	}
	if got, want := rec.UserKeys(), sorted(users); !reflect.DeepEqual(got, want) {
		t.Fatalf("users sent %v\nwant %v", got, want)
	}
	if got, want := rec.GroupKeys(), sorted([]string{g1, g2}); !reflect.DeepEqual(got, want) {
		t.Errorf("groups sent %v, want %v", got, want)
	}
	for _, u := range rec.Got.Users {
		if u.Key == "" || len(u.Attrs) == 0 {
			t.Errorf("user without key or attributes: %+v", u)
		}
	}
	if g, ok := rec.Group(g1); !ok || !g.MembersComplete || !reflect.DeepEqual(sorted(g.Members), sorted(users[:2])) {
		t.Errorf("group %s: %+v, want the complete members %v", g1, g, users[:2])
	}
	if len(rec.Got.Problems) > 0 || len(rec.Got.Deletions) > 0 {
		t.Errorf("a clean first run sent problems %v, deletions %v", rec.Got.Problems, rec.Got.Deletions)
	}
	// Keys are stable: a second full enumeration names the same objects
	// the same way.
	again, res2 := runOnce(t, up, sources.Request{Cursor: res.Cursor, Full: true})
	if !res2.Complete || !reflect.DeepEqual(again.UserKeys(), rec.UserKeys()) || !reflect.DeepEqual(again.GroupKeys(), rec.GroupKeys()) {
		t.Errorf("a second full run sent users %v groups %v (complete %v), want the first run's keys", again.UserKeys(), again.GroupKeys(), res2.Complete)
	}
}

func cursorRun(t *testing.T, h Harness, up Upstream) {
	users := seedUsers(up, 0, 5)
	up.AddGroup("Sales", users[0])
	first, res := runOnce(t, up, sources.Request{})
	before, _ := first.User(users[1])
	up.ChangeUser(users[1])
	added := up.AddUser(5)
	rec, res2 := runOnce(t, up, sources.Request{Cursor: res.Cursor})
	after, ok := rec.User(users[1])
	if !ok || reflect.DeepEqual(before.Attrs, after.Attrs) {
		t.Errorf("the changed user %s came as %+v (sent: %v), before %+v", users[1], after, ok, before)
	}
	if !h.Incremental {
		if !res2.Complete || !reflect.DeepEqual(rec.UserKeys(), sorted(append(users, added))) {
			t.Errorf("a run of a kind without deltas must enumerate all: complete %v, users %v", res2.Complete, rec.UserKeys())
		}
		return
	}
	if got, want := rec.UserKeys(), sorted([]string{users[1], added}); res2.Complete || !reflect.DeepEqual(got, want) || len(rec.Got.Groups) > 0 {
		t.Errorf("the run with the cursor sent users %v, groups %d (complete %v); want only the changes %v", got, len(rec.Got.Groups), res2.Complete, want)
	}
	quiet, res3 := runOnce(t, up, sources.Request{Cursor: res2.Cursor})
	if n := len(quiet.Got.Users) + len(quiet.Got.Groups) + len(quiet.Got.Deletions); n > 0 || res3.Complete {
		t.Errorf("a run after no change sent users %v, groups %v, deletions %v (complete %v)", quiet.UserKeys(), quiet.GroupKeys(), quiet.Got.Deletions, res3.Complete)
	}
}

func deletionArrives(t *testing.T, h Harness, up Upstream) {
	users := seedUsers(up, 0, 3)
	_, res := runOnce(t, up, sources.Request{})
	up.DeleteUser(users[0])
	rec, res2 := runOnce(t, up, sources.Request{Cursor: res.Cursor})
	if deleted(rec, res2, users[0]) {
		return
	}
	if !h.Incremental || res2.Complete {
		t.Fatalf("the deleted user %s was neither a deletion nor absent from a complete run (complete %v, deletions %v, users %v)",
			users[0], res2.Complete, rec.Got.Deletions, rec.UserKeys())
	}
	// A delta may miss a hard deletion (Okta's); the full run must not.
	full, res3 := runOnce(t, up, sources.Request{Cursor: res2.Cursor, Full: true})
	if !res3.Complete || !deleted(full, res3, users[0]) || !slices.Contains(full.UserKeys(), users[1]) {
		t.Errorf("a full run after the deletion: complete %v, users %v, deletions %v; want %s gone", res3.Complete, full.UserKeys(), full.Got.Deletions, users[0])
	}
}

// deleted says whether the run told that key has gone.
func deleted(rec *Recorder, res sources.Result, key string) bool {
	for _, d := range rec.Got.Deletions {
		if d.Kind == sources.KindUser && d.Key == key {
			return true
		}
	}
	_, sent := rec.User(key)
	return res.Complete && !sent
}

// cancelingSink cancels the run at its first users page and counts what
// still arrives afterwards.
type cancelingSink struct {
	Recorder
	cancel context.CancelFunc
	after  int
}

func (s *cancelingSink) Users(ctx context.Context, page []sources.UserRecord) error {
	if s.cancel == nil {
		s.after++
		return nil
	}
	s.cancel()
	s.cancel = nil
	return s.Recorder.Users(ctx, page)
}

func (s *cancelingSink) Groups(context.Context, []sources.GroupRecord) error {
	s.after++
	return nil
}

func cancelStopsTheRun(t *testing.T, h Harness, up Upstream) {
	seedUsers(up, 0, 4*h.PageSize+1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := &cancelingSink{cancel: cancel}
	src := up.Open(sources.Env{})
	done := make(chan error, 1)
	go func() {
		_, err := src.Sync(ctx, sources.Request{}, sink)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang, not a timing bound
		t.Fatal("Sync did not return after its context was canceled")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Sync after cancel: err = %v, want context.Canceled", err)
	}
	if len(sink.UserPages) != 1 || sink.after > 1 {
		t.Errorf("after the cancel the source sent %d more pages (at most one already in flight may come)", sink.after)
	}
}

func malformedIsAProblem(t *testing.T, h Harness, up Upstream) {
	users := seedUsers(up, 0, 2)
	up.AddMalformed()
	rec, _ := runOnce(t, up, sources.Request{})
	if len(rec.Got.Problems) == 0 {
		t.Errorf("the malformed user was not reported as a Problem")
	}
	for _, p := range rec.Got.Problems {
		if p.Message == "" {
			t.Errorf("a problem without a message: %+v", p)
		}
	}
	if got := rec.UserKeys(); !reflect.DeepEqual(got, sorted(users)) {
		t.Errorf("users sent %v, want the readable ones %v", got, sorted(users))
	}
}

func testTellsHostFromCredentials(t *testing.T, h Harness, up Upstream) {
	up.AddUser(0)
	up.AddGroup("Sales")
	tester := func() sources.Tester {
		tr, ok := up.Open(sources.Env{}).(sources.Tester)
		if !ok {
			t.Fatal("the source does not implement sources.Tester")
		}
		return tr
	}
	if err := tester().Test(t.Context()); err != nil {
		t.Fatalf("Test against a healthy upstream: %v", err)
	}
	badCredentials := func(err error) bool { return h.IsBadCredentials != nil && h.IsBadCredentials(err) }
	if h.IsBadCredentials != nil {
		up.BreakCredentials()
		err := tester().Test(t.Context())
		if err == nil || !badCredentials(err) || h.IsUnreachable(err) {
			t.Errorf("Test with refused credentials: %v; want a bad-credentials error, not an unreachable one", err)
		}
	}
	up.BreakHost()
	err := tester().Test(t.Context())
	if err == nil || !h.IsUnreachable(err) || badCredentials(err) {
		t.Errorf("Test with an unreachable host: %v; want an unreachable error, not a bad-credentials one", err)
	}
}

func memoryFlat(t *testing.T, h Harness, small Upstream) {
	if testing.Short() {
		t.Skip("-short")
	}
	n := h.MemoryUsers
	low := heldHeap(t, seeded(small, n), n)
	big := seeded(h.New(t), 10*n)
	high := heldHeap(t, big, 10*n)
	// A source that keeps the directory holds it in every run; a peak
	// from buffers that filled while a loaded machine starved the reader
	// (the whole suite runs packages side by side on two cores) does not
	// come back every time. So a run that looks like growth is repeated,
	// and the least of three counts.
	for try := 1; try < 3 && grows(low, high, n, h.MaxBytesPerUser); try++ {
		high = min(high, heldHeap(t, big, 10*n))
	}
	t.Logf("live heap above the upstream's own: %d users %d KiB, %d users %d KiB", n, low>>10, 10*n, high>>10)
	if grows(low, high, n, h.MaxBytesPerUser) {
		t.Errorf("the source held %d KiB more for %d users than for %d: more than %d bytes a user; it keeps the directory in memory",
			(high-low)>>10, 10*n, n, h.MaxBytesPerUser)
	}
}

// seeded adds users users to up and returns it.
func seeded(up Upstream, users int) Upstream {
	seedUsers(up, 0, users)
	return up
}

// heldHeap returns the most live heap a full run of up (holding users)
// held while it streamed into a Discard: the live heap at the sink less
// the live heap once the run has ended. The upstream's own data (an
// in-process emulator's directory) is in both samples.
func heldHeap(t *testing.T, up Upstream, users int) uint64 {
	src := up.Open(sources.Env{})
	sink := &Discard{}
	res, err := src.Sync(t.Context(), sources.Request{}, sink)
	if err != nil {
		t.Fatalf("sync of %d users: %v", users, err)
	}
	after := LiveHeap()
	runtime.KeepAlive(up)
	if got, _ := sink.Counts(); got != users || !res.Complete {
		t.Fatalf("sync of %d users sent %d (complete %v)", users, got, res.Complete)
	}
	return max(sink.PeakHeap(), after) - after
}

// grows says whether going from n to 10n users cost more than perUser
// bytes for each user added.
func grows(low, high uint64, n, perUser int) bool {
	return high > low+uint64(perUser)*uint64(9*n)
}
