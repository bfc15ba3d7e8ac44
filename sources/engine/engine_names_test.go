package engine_test

import (
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// A userName given up by one user and taken by another later in the same
// run changes hands, whatever the batches: the pipeline looks up who holds
// a batch's userNames while the batch before is still being written.
func TestAUserNameFreedEarlierInARunCanBeTakenLater(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	fillers := func() []sources.UserRecord {
		var out []sources.UserRecord
		for i := range 7 {
			out = append(out, sourcetest.User(fmt.Sprintf("f%d", i), fmt.Sprintf("filler%d@example.com", i)))
		}
		return out
	}
	first := append([]sources.UserRecord{sourcetest.User("k1", "ann@example.com")}, fillers()...)
	first = append(first, sourcetest.User("k2", "bob@example.com"))
	e.ds.SetUsers(first...)
	if r := e.run(t, engine.Trigger{}); r.Status != storage.RunSucceeded || r.Counts.Created != 9 {
		t.Fatalf("first run: %s %+v %s", r.Status, r.Counts, r.Error)
	}

	// k1 leaves ann@ in the first batch; k2 takes it three batches later.
	second := append([]sources.UserRecord{sourcetest.User("k1", "ann.old@example.com")}, fillers()...)
	second = append(second, sourcetest.User("k2", "ann@example.com"))
	e.ds.SetUsers(second...)
	r := e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 9, Updated: 2, Unchanged: 7})
	users := e.users(t)
	if users["ann@example.com"].ExternalID != "k2" || users["ann.old@example.com"].ExternalID != "k1" {
		t.Errorf("ann@ is held by %q, ann.old@ by %q", users["ann@example.com"].ExternalID, users["ann.old@example.com"].ExternalID)
	}
}

// TestAGroupNameTakenIsAConflictOfThatGroupOnly: group displayNames are
// unique across the directory; when a batch meets a taken one, the batch
// is written again one group at a time and only the colliding group is a
// conflict, with the rest of the batch written.
func TestAGroupNameTakenIsAConflictOfThatGroupOnly(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	if _, err := e.store.CreateGroup(t.Context(), storage.Group{DisplayName: "Sales"}); err != nil {
		t.Fatal(err)
	}
	e.ds.SetUsers(sourcetest.User("k1", "ann@example.com"))
	e.ds.SetGroups(sourcetest.Group("g1", "Engineering", "k1"), sourcetest.Group("g2", "SALES", "k1"),
		sourcetest.Group("g3", "Ops", "k1"))
	r := e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 4, Created: 3, Conflicts: 1})
	changes, _, err := e.store.ListChanges(t.Context(), r.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var conflicts []string
	for _, c := range changes {
		if c.Action == storage.ChangeConflict {
			conflicts = append(conflicts, c.Key+": "+c.Detail)
		}
	}
	if len(conflicts) != 1 || conflicts[0] != "g2: another group already has this displayName" {
		t.Errorf("conflicts = %q", conflicts)
	}
}
