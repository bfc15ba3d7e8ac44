package storetest

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

var concurrencyTests = []subtest{
	{"CreateUsers", testConcurrentCreate},
	{"UpdateSameUser", testConcurrentUpdate},
	{"GroupMembers", testConcurrentMembers},
}

const (
	workers   = 8
	perWorker = 25
)

// runWorkers runs fn(w, i) for perWorker values of i in each of workers
// goroutines and reports every error (errors, not t.Fatal, since
// t.Fatal must not be called off the test goroutine).
func runWorkers(t *testing.T, fn func(w, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				if err := fn(w, i); err != nil {
					errs <- fmt.Errorf("worker %d, op %d: %w", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Errorf("%v", err)
		}
	}
	if n > 10 {
		t.Errorf("... and %d more errors", n-10)
	}
}

func testConcurrentCreate(t *testing.T, s storage.Store) {
	runWorkers(t, func(w, i int) error {
		_, err := s.CreateUser(ctx(t), user(fmt.Sprintf("w%d-u%d", w, i)))
		return err
	})
	names, total := listUserNames(t, s, storage.Query{Limit: 1000})
	if total != workers*perWorker || len(names) != workers*perWorker {
		t.Errorf("after concurrent creates: total %d, %d listed, want %d", total, len(names), workers*perWorker)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("user %q listed twice", n)
		}
		seen[n] = true
	}
}

func testConcurrentUpdate(t *testing.T, s storage.Store) {
	u := user("counter")
	u.Title = "0"
	u = mustCreateUser(t, s, u)
	runWorkers(t, func(w, i int) error {
		_, err := s.UpdateUser(ctx(t), u.ID, func(u *storage.User) error {
			n, err := strconv.Atoi(u.Title)
			if err != nil {
				return err
			}
			u.Title = strconv.Itoa(n + 1)
			return nil
		})
		return err
	})
	got := mustGetUser(t, s, u.ID)
	if got.Title != strconv.Itoa(workers*perWorker) {
		t.Errorf("counter = %s, want %d (lost updates)", got.Title, workers*perWorker)
	}
	if got.Meta.Version != 1+workers*perWorker {
		t.Errorf("Version = %d, want %d", got.Meta.Version, 1+workers*perWorker)
	}
}

// testConcurrentMembers adds members to one group from many goroutines.
func testConcurrentMembers(t *testing.T, s storage.Store) {
	const n = workers * 5
	ids := make([]string, n)
	for i := range ids {
		ids[i] = mustCreateUser(t, s, user(fmt.Sprintf("m%d", i))).ID
	}
	g := mustCreateGroup(t, s, storage.Group{DisplayName: "crowd"})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				_, err := s.UpdateGroup(ctx(t), g.ID, false, func(*storage.Group) (storage.MemberChange, error) {
					return storage.MemberChange{Add: []storage.Member{um(ids[i])}}, nil
				})
				if err != nil {
					errs <- fmt.Errorf("add %s: %w", ids[i], err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("%v", err)
	}
	got := mustGetGroup(t, s, g.ID, true)
	if !sameSet(memberValues(got.Members), ids) {
		t.Errorf("after concurrent adds: %d members, want %d", len(got.Members), n)
	}
	if got.Meta.Version != 1+n {
		t.Errorf("Version = %d, want %d", got.Meta.Version, 1+n)
	}
}
