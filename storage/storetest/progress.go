package storetest

import (
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// testSyncProgress: a sync write that carries a run's progress stores it
// in its own transaction, so the counts a run shows never disagree with
// the rows that are there, and a write that fails stores neither.
func testSyncProgress(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	run := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Status: storage.RunRunning, Trigger: "manual"})
	counts := func() storage.RunCounts {
		t.Helper()
		got, err := s.GetRun(ctx(t), src.ID, run.ID)
		if err != nil {
			t.Fatalf("GetRun: %v", err)
		}
		return got.Counts
	}
	progress := func(c storage.RunCounts) *storage.RunProgress { return &storage.RunProgress{RunID: run.ID, Counts: c} }
	mustCreateUser(t, s, storage.User{Owner: "scim:hr", UserName: "taken", Active: true})

	two := storage.RunCounts{Fetched: 2, Created: 2}
	mustApplyUsers(t, s, ownerA, storage.UserBatch{Create: []storage.UserWrite{userWrite("ann"), userWrite("bob")}, Progress: progress(two)})
	if got := counts(); got != two {
		t.Errorf("after a committed user batch: counts %+v, want %+v", got, two)
	}

	err := s.ApplyUsers(ctx(t), ownerA, storage.UserBatch{Create: []storage.UserWrite{userWrite("TAKEN")},
		Progress: progress(storage.RunCounts{Fetched: 3, Created: 3})})
	wantErr(t, "ApplyUsers taking a held userName", err, storage.ErrConflict)
	if got := counts(); got != two {
		t.Errorf("after a rolled-back batch: counts %+v, want %+v still", got, two)
	}

	three := storage.RunCounts{Fetched: 3, Created: 3}
	if err := s.ApplyGroups(ctx(t), ownerA, storage.GroupBatch{Create: []storage.GroupWrite{{Group: storage.Group{DisplayName: "Team"}, Key: "g1", Hash: "h"}},
		Progress: progress(three)}); err != nil {
		t.Fatalf("ApplyGroups: %v", err)
	}
	if got := counts(); got != three {
		t.Errorf("after a committed group batch: counts %+v, want %+v", got, three)
	}

	// Progress for a run that is gone rolls the write back.
	err = s.ApplyUsers(ctx(t), ownerA, storage.UserBatch{Create: []storage.UserWrite{userWrite("carol")},
		Progress: &storage.RunProgress{RunID: "no-such-run", Counts: three}})
	wantErr(t, "ApplyUsers with the progress of an unknown run", err, storage.ErrNotFound)
	if got := mustSyncedUsers(t, s, ownerA, "key-carol"); len(got) != 0 {
		t.Errorf("the write with an unknown run's progress was kept: %v", got)
	}
}
