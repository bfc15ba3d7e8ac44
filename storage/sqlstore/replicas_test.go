package sqlstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// openReplicas opens n stores on one fresh PostgreSQL schema at the same
// time, as replicas starting together do: the migration lock lets one
// migrate while the others wait.
func openReplicas(t *testing.T, n int) []*sqlstore.Store {
	t.Helper()
	dsn := pgtest.FreshSchema(t)
	stores := make([]*sqlstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	return stores
}

func TestPostgresReplicasMigrateOnce(t *testing.T) {
	stores := openReplicas(t, 4)
	// A second round finds the schema current.
	openReplicas(t, 1)
	u, err := stores[0].CreateUser(t.Context(), storage.User{UserName: "Ada", Active: true, Owner: "test"})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	for i, s := range stores {
		got, err := s.GetUser(t.Context(), u.ID)
		if err != nil || got.UserName != "Ada" {
			t.Errorf("replica %d: GetUser = %q, %v; want Ada", i, got.UserName, err)
		}
	}
}

// TestPostgresReplicasCollidingCreates creates the same userNames (in
// different case) through two replicas at once: exactly one create per
// name succeeds, the others get ErrConflict and nothing else.
func TestPostgresReplicasCollidingCreates(t *testing.T) {
	stores := openReplicas(t, 2)
	const names, tries = 20, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := map[string]int{}
	var unexpected []error
	for n := range names {
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("user%d@example.com", n)
				if i%2 == 1 {
					name = fmt.Sprintf("USER%d@Example.com", n)
				}
				_, err := stores[i%2].CreateUser(t.Context(), storage.User{UserName: name, Active: true, Owner: "test"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins[fmt.Sprint(n)]++
				case !errors.Is(err, storage.ErrConflict):
					unexpected = append(unexpected, err)
				}
			}()
		}
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("CreateUser: %v, want nil or ErrConflict", err)
	}
	for n := range names {
		if got := wins[fmt.Sprint(n)]; got != 1 {
			t.Errorf("user%d: %d creates succeeded, want 1", n, got)
		}
	}
}

// TestPostgresReplicasLeaseRace: holders on two replicas race for one
// lease; exactly one gets it.
func TestPostgresReplicasLeaseRace(t *testing.T) {
	stores := openReplicas(t, 2)
	var wg sync.WaitGroup
	results := make([]bool, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := stores[i%2].AcquireLease(t.Context(), "src", fmt.Sprintf("holder%d", i), time.Hour)
			if err != nil {
				t.Errorf("AcquireLease: %v", err)
			}
			results[i] = ok
		}()
	}
	wg.Wait()
	won := 0
	for _, ok := range results {
		if ok {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d racers got the lease, want 1", won)
	}
}
