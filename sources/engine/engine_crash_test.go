package engine_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

func TestACrashingSourceFailsItsRunNotTheServer(t *testing.T) {
	tests := []struct {
		name  string
		crash func(d *sourcetest.Dataset, v any)
	}{
		{"panic in Sync", (*sourcetest.Dataset).Panic},
		{"panic in a goroutine the source started", (*sourcetest.Dataset).PanicAside},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storage.DeletionPolicy{})
			e.ds.SetUsers(sourcetest.User("k1", "ann@example.com"), sourcetest.User("k2", "bob@example.com"))
			tt.crash(e.ds, "index out of range [3] with length 3")
			r := e.run(t, engine.Trigger{})
			if r.Status != storage.RunFailed || !strings.Contains(r.Error, "the fake source crashed") || !strings.Contains(r.Error, "index out of range") {
				t.Fatalf("run %s: %q", r.Status, r.Error)
			}
			if len(r.Cursor) != 0 {
				t.Errorf("a crashed run kept cursor %q", r.Cursor)
			}

			// The runner goes on: the next run of the fixed source succeeds.
			// The crashed run may have committed the page it was sent before
			// the panic reached the engine (batches commit as they fill), so
			// the two users are created by one run or the other, never lost.
			tt.crash(e.ds, nil)
			r = e.run(t, engine.Trigger{})
			if r.Status != storage.RunSucceeded || r.Counts.Fetched != 2 || r.Counts.Created+r.Counts.Unchanged != 2 {
				t.Fatalf("run after the crash: %s %+v %s", r.Status, r.Counts, r.Error)
			}
			if users, _ := owned(t, e); users != 2 {
				t.Fatalf("%d users stored after the fixed run, want 2", users)
			}
		})
	}
}

// injectFault makes SQLite refuse a statement, as a full disk or a lost
// connection would, from inside the database: a trigger on the run's
// tables, so the engine meets the failure in the middle of a real write.
func injectFault(t *testing.T, e *env, trigger string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(trigger); err != nil {
		t.Fatal(err)
	}
}

// owned counts the source's users and groups in the database.
func owned(t *testing.T, e *env) (users, groups int) {
	t.Helper()
	users, groups, err := e.store.CountOwned(context.Background(), e.src.Owner())
	if err != nil {
		t.Fatal(err)
	}
	return users, groups
}

// TestAFailedRunCountsWhatItCommitted: a write fails in the middle of a
// run; the counts stored with the failed run are those of the batches
// that committed, not of the batch that was rolled back.
func TestAFailedRunCountsWhatItCommitted(t *testing.T) {
	tests := []struct {
		name    string
		trigger string
		groups  bool
	}{
		{"a user batch fails", `CREATE TRIGGER fault BEFORE INSERT ON users WHEN NEW.user_name = 'user7@example.com'
			BEGIN SELECT RAISE(ABORT, 'injected: disk I/O error'); END`, false},
		{"a group batch fails", `CREATE TRIGGER fault BEFORE INSERT ON groups WHEN NEW.display_name LIKE 'ops'
			BEGIN SELECT RAISE(ABORT, 'injected: disk I/O error'); END`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storage.DeletionPolicy{})
			e.ds.SetUsers(tenUsers()...)
			e.ds.SetGroups(sourcetest.Group("g1", "Engineering", "k1"), sourcetest.Group("g2", "Platform", "k2"),
				sourcetest.Group("g3", "Sales", "k3"), sourcetest.Group("g4", "Ops", "k4"))
			injectFault(t, e, tt.trigger)
			r := e.run(t, engine.Trigger{})
			wantStatus(t, r, storage.RunFailed)
			if !strings.Contains(r.Error, "injected") {
				t.Errorf("run error %q does not name the fault", r.Error)
			}
			users, groups := owned(t, e)
			if tt.groups && users != 10 {
				t.Fatalf("%d users written before the groups, want 10", users)
			}
			// Every record fetched was new, so each committed one is a create.
			wantCounts(t, r, storage.RunCounts{Fetched: users + groups, Created: users + groups})
			changes, _, err := e.store.ListChanges(context.Background(), r.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != users+groups || r.ChangeLogN != len(changes) {
				t.Errorf("change log has %d entries (ChangeLogN %d), want one per committed create: %d", len(changes), r.ChangeLogN, users+groups)
			}
		})
	}
}

// TestRunCountsAreStoredWithTheirWrites: what a run's stored counts say
// while it goes on is what the database holds, so a process that dies at
// any point leaves a run whose counts match its writes (the run is then
// failed as it stands at the next start, see RecoverInterrupted).
func TestRunCountsAreStoredWithTheirWrites(t *testing.T) {
	e := newEnvBatch(t, storage.DeletionPolicy{}, 1) // one transaction per user
	e.ds.SetUsers(tenUsers()...)
	e.ds.Block = make(chan struct{}) // the source stops after its first page of two
	ctx := context.Background()
	run, err := e.runner.Start(ctx, e.src.ID, engine.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if users, _ := owned(t, e); users == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first page was never written")
		}
	}
	mid, err := e.store.GetRun(ctx, e.src.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mid.Status != storage.RunRunning || mid.Counts.Created != 2 || mid.Counts.Fetched != 2 {
		t.Errorf("run in progress with 2 users written = %s, counts %+v; want running, fetched 2, created 2", mid.Status, mid.Counts)
	}
	close(e.ds.Block)
	r := e.wait(t, run.ID)
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Fetched: 10, Created: 10})
}

// TestAFailedRemovalCountsWhatItCommitted: the users' removals commit, the
// groups' fail; the failed run counts the deactivations that are stored.
func TestAFailedRemovalCountsWhatItCommitted(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 100})
	e.ds.SetUsers(tenUsers()...)
	e.ds.SetGroups(sourcetest.Group("g1", "Engineering", "k1"), sourcetest.Group("g2", "Platform", "k2"))
	wantStatus(t, e.run(t, engine.Trigger{}), storage.RunSucceeded)

	e.ds.SetUsers(tenUsers()[:7]...)
	e.ds.SetGroups(sourcetest.Group("g1", "Engineering", "k1"))
	injectFault(t, e, `CREATE TRIGGER fault BEFORE DELETE ON groups BEGIN SELECT RAISE(ABORT, 'injected: disk I/O error'); END`)
	r := e.run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunFailed)
	inactive := 0
	for _, u := range e.users(t) {
		if !u.Active {
			inactive++
		}
	}
	if inactive != 3 {
		t.Fatalf("%d users deactivated, want the 3 removed ones (their transaction committed)", inactive)
	}
	wantCounts(t, r, storage.RunCounts{Fetched: 8, Unchanged: 8, Deactivated: 3})
}
