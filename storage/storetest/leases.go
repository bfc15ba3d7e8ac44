package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// leaseTests run when the store is also a storage.LeaseStore. Expiry is
// tested without waiting: a lease taken for a nanosecond has expired by
// the time anyone else asks.
var leaseTests = []subtest{
	{"HolderExcludesOthers", testLeaseExcludes},
	{"ExpiredLeaseIsTakenOver", testLeaseTakeover},
	{"ReleaseOnlyByHolder", testLeaseRelease},
	{"KeysAreIndependent", testLeaseKeys},
	{"ConcurrentAcquireHasOneWinner", testLeaseRace},
}

func leases(t *testing.T, s storage.Store) storage.LeaseStore {
	t.Helper()
	ls, ok := s.(storage.LeaseStore)
	if !ok {
		t.Skip("the store has no leases")
	}
	return ls
}

// acquire asserts the outcome of one AcquireLease.
func acquire(t *testing.T, ls storage.LeaseStore, key, holder string, ttl time.Duration, wantOK bool, wantHolder string) {
	t.Helper()
	ok, current, err := ls.AcquireLease(ctx(t), key, holder, ttl)
	if err != nil {
		t.Fatalf("AcquireLease(%s, %s): %v", key, holder, err)
	}
	if ok != wantOK || current != wantHolder {
		t.Fatalf("AcquireLease(%s, %s) = %v, %q; want %v, %q", key, holder, ok, current, wantOK, wantHolder)
	}
}

func testLeaseExcludes(t *testing.T, s storage.Store) {
	ls := leases(t, s)
	acquire(t, ls, "src1", "a", time.Hour, true, "a")
	acquire(t, ls, "src1", "b", time.Hour, false, "a")
	acquire(t, ls, "src1", "a", time.Hour, true, "a") // renewal
	if err := ls.ReleaseLease(ctx(t), "src1", "a"); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	acquire(t, ls, "src1", "b", time.Hour, true, "b")
}

func testLeaseTakeover(t *testing.T, s storage.Store) {
	ls := leases(t, s)
	acquire(t, ls, "src1", "a", time.Nanosecond, true, "a")
	acquire(t, ls, "src1", "b", time.Hour, true, "b")
	acquire(t, ls, "src1", "a", time.Hour, false, "b") // a's renewal comes too late
}

func testLeaseRelease(t *testing.T, s storage.Store) {
	ls := leases(t, s)
	acquire(t, ls, "src1", "a", time.Hour, true, "a")
	if err := ls.ReleaseLease(ctx(t), "src1", "b"); err != nil {
		t.Fatalf("ReleaseLease by a non-holder: %v", err)
	}
	acquire(t, ls, "src1", "b", time.Hour, false, "a")
	if err := ls.ReleaseLease(ctx(t), "never-taken", "a"); err != nil {
		t.Fatalf("ReleaseLease of a free key: %v", err)
	}
}

func testLeaseKeys(t *testing.T, s storage.Store) {
	ls := leases(t, s)
	acquire(t, ls, "src1", "a", time.Hour, true, "a")
	acquire(t, ls, "src2", "b", time.Hour, true, "b")
}

func testLeaseRace(t *testing.T, s storage.Store) {
	ls := leases(t, s)
	const n = 8
	var wg sync.WaitGroup
	wins := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := string(rune('a' + i))
			ok, _, err := ls.AcquireLease(ctx(t), "src1", holder, time.Hour)
			if err != nil {
				errs <- err
			}
			if ok {
				wins <- holder
			}
		}()
	}
	wg.Wait()
	close(wins)
	close(errs)
	for err := range errs {
		t.Errorf("AcquireLease: %v", err)
	}
	var winners []string
	for w := range wins {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("winners = %v, want exactly one", winners)
	}
}
