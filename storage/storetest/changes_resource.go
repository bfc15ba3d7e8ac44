package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// testResourceChanges checks a resource's history across runs and
// sources: only its own entries, newest run first and latest entry first
// within a run, bounded by limit, with each entry's run; push runs keep
// theirs apart.
func testResourceChanges(t *testing.T, s storage.Store) {
	ad := mustCreateSource(t, s, fullSource("AD"))
	okta := mustCreateSource(t, s, fullSource("Okta"))
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	older := mustCreateRun(t, s, storage.Run{SourceID: ad.ID, Trigger: "manual", Queued: base})
	newer := mustCreateRun(t, s, storage.Run{SourceID: okta.ID, Trigger: "schedule", Queued: base.Add(time.Minute)})
	add := func(run storage.Run, changes ...storage.Change) {
		t.Helper()
		if err := s.AddChanges(ctx(t), run.ID, changes); err != nil {
			t.Fatalf("AddChanges: %v", err)
		}
	}
	add(older,
		storage.Change{Seq: 1, Action: storage.ChangeCreate, Kind: "User", ResourceID: "u-1", Key: "k1", Name: "alice", After: json.RawMessage(`{"userName":"alice"}`)},
		storage.Change{Seq: 2, Action: storage.ChangeCreate, Kind: "User", ResourceID: "u-2", Key: "k2", Name: "bob"})
	add(newer,
		storage.Change{Seq: 1, Action: storage.ChangeUpdate, Kind: "User", ResourceID: "u-1", Name: "alice", Detail: "title changed",
			Before: json.RawMessage(`{"title":"a"}`), After: json.RawMessage(`{"title":"b"}`)},
		storage.Change{Seq: 2, Action: storage.ChangeDeactivate, Kind: "User", ResourceID: "u-1", Name: "alice"})

	got, err := s.ResourceChanges(ctx(t), "u-1", 10)
	if err != nil {
		t.Fatalf("ResourceChanges: %v", err)
	}
	type entry struct {
		run, source, action string
		seq                 int
	}
	want := []entry{{newer.ID, okta.ID, storage.ChangeDeactivate, 2}, {newer.ID, okta.ID, storage.ChangeUpdate, 1}, {older.ID, ad.ID, storage.ChangeCreate, 1}}
	if len(got) != len(want) {
		t.Fatalf("ResourceChanges(u-1) = %d entries %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if (entry{g.RunID, g.SourceID, g.Action, g.Seq}) != w || g.ResourceID != "u-1" || g.Name != "alice" {
			t.Errorf("entry %d = run %s source %s %s seq %d (%s %s), want %+v", i, g.RunID, g.SourceID, g.Action, g.Seq, g.ResourceID, g.Name, w)
		}
	}
	if d := got[0].Queued.Sub(newer.Queued); d != 0 || got[0].RunStatus != storage.RunQueued {
		t.Errorf("entry 0: run queued %v status %q, want %v %q", got[0].Queued, got[0].RunStatus, newer.Queued, storage.RunQueued)
	}
	if !jsonEqual(got[1].Before, json.RawMessage(`{"title":"a"}`)) || !jsonEqual(got[1].After, json.RawMessage(`{"title":"b"}`)) || got[1].Detail != "title changed" {
		t.Errorf("entry 1: before/after/detail = %s/%s/%q", got[1].Before, got[1].After, got[1].Detail)
	}
	if got[2].Key != "k1" || !jsonEqual(got[2].After, json.RawMessage(`{"userName":"alice"}`)) || got[2].Before != nil {
		t.Errorf("entry 2: key %q before/after = %s/%s", got[2].Key, got[2].Before, got[2].After)
	}

	for _, tc := range []struct {
		id    string
		limit int
		want  int
	}{
		{"u-1", 2, 2}, {"u-2", 10, 1}, {"u-1", 0, 0}, {"nobody", 10, 0}, {"", 10, 0},
	} {
		got, err := s.ResourceChanges(ctx(t), tc.id, tc.limit)
		if err != nil || len(got) != tc.want || got == nil {
			t.Errorf("ResourceChanges(%q, %d) = %d entries (nil %v), %v; want %d", tc.id, tc.limit, len(got), got == nil, err, tc.want)
		}
	}

	// The cap holds whatever limit asks for.
	var many []storage.Change
	for i := range storage.MaxResourceChanges + 5 {
		many = append(many, storage.Change{Seq: 10 + i, Action: storage.ChangeUpdate, Kind: "User", ResourceID: "u-2", Name: fmt.Sprint("bob", i)})
	}
	add(newer, many...)
	if got, err := s.ResourceChanges(ctx(t), "u-2", 10*storage.MaxResourceChanges); err != nil || len(got) != storage.MaxResourceChanges {
		t.Errorf("ResourceChanges over the cap = %d entries, %v; want %d", len(got), err, storage.MaxResourceChanges)
	}
}
