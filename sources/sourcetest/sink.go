package sourcetest

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/scimgate/scimgate/sources"
)

// Sent is what a run handed to a Recorder, in the order it came.
type Sent struct {
	Users     []sources.UserRecord
	Groups    []sources.GroupRecord
	Deletions []sources.Deletion
	Problems  []sources.Problem
}

// Recorder is a Sink that keeps everything a run sends, for assertions:
// the connectors' tests and the conformance suite share it. Read its
// fields once Sync has returned.
type Recorder struct {
	mu  sync.Mutex
	Got Sent
	// UserPages is the size of every users page, in order.
	UserPages []int
	// Calls names each Sink call in order ("users", "groups", "deletions",
	// "problem"), to check what comes first.
	Calls []string
	// OnUsers, when set, runs after each users page with its number
	// (from 1), e.g. to change the upstream mid-run; its error is the
	// Sink's.
	OnUsers func(page int) error
}

var _ sources.Sink = (*Recorder)(nil)

// Users keeps a page of users.
func (r *Recorder) Users(_ context.Context, page []sources.UserRecord) error {
	r.mu.Lock()
	r.Got.Users = append(r.Got.Users, page...)
	r.UserPages = append(r.UserPages, len(page))
	r.Calls = append(r.Calls, "users")
	n, hook := len(r.UserPages), r.OnUsers
	r.mu.Unlock()
	if hook != nil {
		return hook(n)
	}
	return nil
}

// Groups keeps a page of groups.
func (r *Recorder) Groups(_ context.Context, page []sources.GroupRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Got.Groups = append(r.Got.Groups, page...)
	r.Calls = append(r.Calls, "groups")
	return nil
}

// Deletions keeps explicit deletions.
func (r *Recorder) Deletions(_ context.Context, d []sources.Deletion) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Got.Deletions = append(r.Got.Deletions, d...)
	r.Calls = append(r.Calls, "deletions")
	return nil
}

// Problem keeps an unreadable record's report.
func (r *Recorder) Problem(_ context.Context, p sources.Problem) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Got.Problems = append(r.Got.Problems, p)
	r.Calls = append(r.Calls, "problem")
	return nil
}

// User returns the last record sent for key.
func (r *Recorder) User(key string) (sources.UserRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return last(r.Got.Users, userKey, key)
}

// Group returns the last record sent for key.
func (r *Recorder) Group(key string) (sources.GroupRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return last(r.Got.Groups, groupKey, key)
}

// UsersByKey maps each user key sent to its last record.
func (r *Recorder) UsersByKey() map[string]sources.UserRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return byKey(r.Got.Users, userKey)
}

// GroupsByKey maps each group key sent to its last record.
func (r *Recorder) GroupsByKey() map[string]sources.GroupRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return byKey(r.Got.Groups, groupKey)
}

// UserKeys lists the user keys sent, sorted, each once.
func (r *Recorder) UserKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(byKey(r.Got.Users, userKey)))
}

// GroupKeys lists the group keys sent, sorted, each once.
func (r *Recorder) GroupKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(byKey(r.Got.Groups, groupKey)))
}

func userKey(u sources.UserRecord) string   { return u.Key }
func groupKey(g sources.GroupRecord) string { return g.Key }

func last[T any](recs []T, keyOf func(T) string, key string) (T, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if keyOf(recs[i]) == key {
			return recs[i], true
		}
	}
	var zero T
	return zero, false
}

func byKey[T any](recs []T, keyOf func(T) string) map[string]T {
	m := make(map[string]T, len(recs))
	for _, rec := range recs {
		m[keyOf(rec)] = rec
	}
	return m
}

// Duplicates lists the keys sent more than once in the run, users and
// groups apart (the engine refuses a key it sees twice in a run).
func (r *Recorder) Duplicates() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(repeated(r.Got.Users, userKey), repeated(r.Got.Groups, groupKey)...)
}

func repeated[T any](recs []T, keyOf func(T) string) []string {
	var dups []string
	seen := map[string]bool{}
	for _, rec := range recs {
		if k := keyOf(rec); seen[k] {
			dups = append(dups, k)
		} else {
			seen[k] = true
		}
	}
	return dups
}

// Discard is a Sink that keeps nothing but counts, and measures the live
// heap while the run streams: after a collection, on every users page.
// The memory case of the conformance suite uses it.
type Discard struct {
	mu                              sync.Mutex
	users, groups, deletions, probs int
	peakHeap                        uint64
	pages                           int
}

var _ sources.Sink = (*Discard)(nil)

// Users counts a page and samples the heap.
func (d *Discard) Users(_ context.Context, page []sources.UserRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users += len(page)
	d.pages++
	d.sample()
	return nil
}

// Groups counts a page and samples the heap.
func (d *Discard) Groups(_ context.Context, page []sources.GroupRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.groups += len(page)
	d.sample()
	return nil
}

// Deletions counts.
func (d *Discard) Deletions(_ context.Context, del []sources.Deletion) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deletions += len(del)
	return nil
}

// Problem counts.
func (d *Discard) Problem(context.Context, sources.Problem) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.probs++
	return nil
}

func (d *Discard) sample() {
	d.peakHeap = max(d.peakHeap, LiveHeap())
}

// Counts returns how many users and groups were sent.
func (d *Discard) Counts() (users, groups int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.users, d.groups
}

// PeakHeap is the largest live heap a sample saw.
func (d *Discard) PeakHeap() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.peakHeap
}

// LiveHeap collects garbage and returns the bytes of live heap objects.
// Two collections: the first moves what sync.Pools hold (TLS and LDAP
// buffers, encoders) to their victim caches, the second frees it, so
// pooled buffers, which come and go with scheduling and the race
// detector, do not count as held by the source.
func LiveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
