package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var runTests = []subtest{
	{"CreateGetList", testCreateGetRuns},
	{"CreateUnknownSource", testCreateRunUnknownSource},
	{"Update", testUpdateRun},
	{"Changes", testRunChanges},
	{"ResourceChanges", testResourceChanges},
	{"Pending", testRunPending},
	{"FinishRunCursor", testFinishRunCursor},
	{"FinishRunPending", testFinishRunPending},
	{"FinishRunNotFound", testFinishRunNotFound},
}

func mustCreateRun(t *testing.T, s storage.Store, r storage.Run) storage.Run {
	t.Helper()
	got, err := s.CreateRun(ctx(t), r)
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	return got
}

// checkRun compares runs; times may be kept at millisecond resolution.
func checkRun(t *testing.T, what string, got, want storage.Run) {
	t.Helper()
	for _, tt := range [][2]time.Time{{got.Queued, want.Queued}, {got.Started, want.Started}, {got.Finished, want.Finished}} {
		if d := tt[0].Sub(tt[1]); d <= -time.Millisecond || d >= time.Millisecond || tt[0].IsZero() != tt[1].IsZero() {
			t.Errorf("%s: times (queued, started, finished) = %v %v %v, want %v %v %v", what,
				got.Queued, got.Started, got.Finished, want.Queued, want.Started, want.Finished)
			break
		}
	}
	if !bytes.Equal(got.Cursor, want.Cursor) {
		t.Errorf("%s: cursor = %v, want %v", what, got.Cursor, want.Cursor)
	}
	got.Queued, got.Started, got.Finished, got.Cursor = want.Queued, want.Started, want.Finished, want.Cursor
	if len(got.Notes) == 0 && len(want.Notes) == 0 {
		got.Notes = want.Notes
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got: %+v\nwant: %+v", what, got, want)
	}
}

func testCreateGetRuns(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	other := mustCreateSource(t, s, fullSource("Entra"))
	base := time.Now().Add(-time.Hour).UTC()
	full := storage.Run{
		SourceID: src.ID, Status: storage.RunSucceeded, Trigger: "schedule", Mode: "full", DryRun: true,
		Queued: base, Started: base.Add(time.Second), Finished: base.Add(time.Minute),
		Counts: storage.RunCounts{Fetched: 10, Created: 3, Updated: 2, Unchanged: 4, Deactivated: 1, Deleted: 1,
			Conflicts: 1, Errors: 1, Unresolved: 2, Pending: 0},
		Error: "", Notes: []string{"delta token expired: full resync"}, Cursor: []byte("cursor-1"),
		DecidedBy: "admin", ChangeLogN: 12,
	}
	var runs []storage.Run
	for i, r := range []storage.Run{
		full,
		{SourceID: src.ID, Trigger: "manual", Queued: base.Add(2 * time.Minute)},
		{SourceID: src.ID, Trigger: "retry", Queued: base.Add(time.Minute)},
		{SourceID: other.ID, Trigger: "manual", Queued: base.Add(time.Hour)},
	} {
		got := mustCreateRun(t, s, r)
		if got.ID == "" {
			t.Fatalf("CreateRun %d: empty id", i)
		}
		want := r
		want.ID = got.ID
		if want.Status == "" {
			want.Status = storage.RunQueued
		}
		checkRun(t, fmt.Sprintf("CreateRun %d", i), got, want)
		runs = append(runs, got)
	}
	got, err := s.GetRun(ctx(t), src.ID, runs[0].ID)
	if err != nil {
		t.Fatalf("GetRun: %v", err)
	}
	checkRun(t, "GetRun", got, runs[0])
	_, err = s.GetRun(ctx(t), other.ID, runs[0].ID)
	wantErr(t, "GetRun under another source", err, storage.ErrNotFound)
	_, err = s.GetRun(ctx(t), src.ID, "00000000-0000-4000-8000-00000000dead")
	wantErr(t, "GetRun(unknown)", err, storage.ErrNotFound)

	list, err := s.ListRuns(ctx(t), src.ID, 2)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListRuns(limit 2) = %v, %v; want 2 runs", list, err)
	}
	checkRun(t, "ListRuns[0] (newest)", list[0], runs[1])
	checkRun(t, "ListRuns[1]", list[1], runs[2])
	if all, _ := s.ListRuns(ctx(t), src.ID, 10); len(all) != 3 {
		t.Errorf("ListRuns(limit 10): %d runs, want 3", len(all))
	}
}

func testCreateRunUnknownSource(t *testing.T, s storage.Store) {
	_, err := s.CreateRun(ctx(t), storage.Run{SourceID: "00000000-0000-4000-8000-00000000dead", Trigger: "manual"})
	wantErr(t, "CreateRun for an unknown source", err, storage.ErrNotFound)
}

func testUpdateRun(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	run := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual"})
	started := time.Now().UTC()
	got, err := s.UpdateRun(ctx(t), run.ID, func(r *storage.Run) error {
		r.Status, r.Started, r.Counts.Fetched = storage.RunRunning, started, 500
		r.ID, r.SourceID = "forged", "forged" // ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateRun: %v", err)
	}
	want := run
	want.Status, want.Started, want.Counts.Fetched = storage.RunRunning, started, 500
	checkRun(t, "UpdateRun result", got, want)
	stored, _ := s.GetRun(ctx(t), src.ID, run.ID)
	checkRun(t, "GetRun after UpdateRun", stored, want)

	_, err = s.UpdateRun(ctx(t), run.ID, func(r *storage.Run) error { r.Status = storage.RunFailed; return errTest })
	wantErr(t, "UpdateRun with a failing closure", err, errTest)
	stored, _ = s.GetRun(ctx(t), src.ID, run.ID)
	checkRun(t, "GetRun after a failed UpdateRun", stored, want)
	_, err = s.UpdateRun(ctx(t), "00000000-0000-4000-8000-00000000dead", func(*storage.Run) error { return nil })
	wantErr(t, "UpdateRun(unknown)", err, storage.ErrNotFound)
}

func testRunChanges(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	run := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual"})
	var all []storage.Change
	for i := range 250 {
		c := storage.Change{Seq: i + 1, Action: storage.ChangeUpdate, Kind: "User", ResourceID: fmt.Sprint("id-", i),
			Key: fmt.Sprint("key-", i), Name: fmt.Sprint("user", i), Detail: "title changed"}
		if i%2 == 0 {
			c.Before, c.After = json.RawMessage(`{"title":"a"}`), json.RawMessage(`{"title":"b"}`)
		}
		all = append(all, c)
	}
	for _, part := range [][]storage.Change{all[:100], all[100:]} {
		if err := s.AddChanges(ctx(t), run.ID, part); err != nil {
			t.Fatalf("AddChanges: %v", err)
		}
	}
	page, total, err := s.ListChanges(ctx(t), run.ID, 100, 50)
	if err != nil || total != 250 || len(page) != 50 {
		t.Fatalf("ListChanges(100, 50) = %d entries, total %d, %v; want 50 of 250", len(page), total, err)
	}
	for i, c := range page {
		want := all[100+i]
		if !jsonEqual(c.Before, want.Before) || !jsonEqual(c.After, want.After) {
			t.Errorf("change %d: before/after = %s/%s, want %s/%s", want.Seq, c.Before, c.After, want.Before, want.After)
		}
		c.Before, c.After, want.Before, want.After = nil, nil, nil, nil
		if !reflect.DeepEqual(c, want) {
			t.Errorf("change %d = %+v, want %+v", want.Seq, c, want)
		}
	}
	if tail, total, _ := s.ListChanges(ctx(t), run.ID, 240, 50); len(tail) != 10 || total != 250 || tail[9].Seq != 250 {
		t.Errorf("ListChanges(240, 50): %d entries, total %d; want the last 10 of 250", len(tail), total)
	}
	err = s.AddChanges(ctx(t), run.ID, []storage.Change{{Seq: 1, Action: storage.ChangeCreate, Kind: "User"}})
	wantErr(t, "AddChanges with a logged Seq", err, storage.ErrConflict)
}

// jsonEqual compares JSON values; absent equals absent.
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

func pendingList(n int) []storage.PendingDeletion {
	var out []storage.PendingDeletion
	for i := range n {
		out = append(out, storage.PendingDeletion{Kind: "User", ID: fmt.Sprint("id-", i), Key: fmt.Sprint("key-", i),
			Name: fmt.Sprint("user", i), Action: storage.ChangeDeactivate})
	}
	return out
}

func mustListPending(t *testing.T, s storage.Store, runID string, offset, limit int) ([]storage.PendingDeletion, int) {
	t.Helper()
	page, total, err := s.ListPending(ctx(t), runID, offset, limit)
	if err != nil {
		t.Fatalf("ListPending: %v", err)
	}
	return page, total
}

func testRunPending(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	run := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual", Status: storage.RunHeld})
	want := pendingList(30)
	if err := s.SetPending(ctx(t), run.ID, want); err != nil {
		t.Fatalf("SetPending: %v", err)
	}
	page, total := mustListPending(t, s, run.ID, 10, 5)
	if total != 30 || !reflect.DeepEqual(page, want[10:15]) {
		t.Errorf("ListPending(10, 5) = %+v, total %d; want %+v of 30", page, total, want[10:15])
	}
	// SetPending replaces, it does not append.
	if err := s.SetPending(ctx(t), run.ID, want[:2]); err != nil {
		t.Fatalf("SetPending again: %v", err)
	}
	if page, total := mustListPending(t, s, run.ID, 0, 10); total != 2 || !reflect.DeepEqual(page, want[:2]) {
		t.Errorf("after replacing: %+v, total %d; want %+v", page, total, want[:2])
	}
}

func testFinishRunCursor(t *testing.T, s storage.Store) {
	in := fullSource("AD")
	in.Cursor, in.Health = []byte("old"), storage.SourceHealth{}
	src := mustCreateSource(t, s, in)
	now := time.Now().UTC()
	countFailure := func(h *storage.SourceHealth) { h.ConsecutiveFailures++; h.LastRunAt = now }

	failed := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual"})
	failed.Status, failed.Error, failed.Cursor, failed.Finished = storage.RunFailed, "boom", []byte("new-1"), now
	got, err := s.FinishRun(ctx(t), failed, false, countFailure)
	if err != nil {
		t.Fatalf("FinishRun(saveCursor=false): %v", err)
	}
	checkRun(t, "FinishRun result", got, failed)
	stored, _ := s.GetSource(ctx(t), src.ID)
	if string(stored.Cursor) != "old" || stored.Health.ConsecutiveFailures != 1 || !stored.Health.LastRunAt.Equal(now) {
		t.Errorf("after a failed run: cursor %q, health %+v; want old cursor, 1 failure at %v", stored.Cursor, stored.Health, now)
	}

	ok := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual"})
	ok.Status, ok.Cursor, ok.Finished = storage.RunSucceeded, []byte("new-2"), now
	if _, err := s.FinishRun(ctx(t), ok, true, func(h *storage.SourceHealth) { h.ConsecutiveFailures = 0 }); err != nil {
		t.Fatalf("FinishRun(saveCursor=true): %v", err)
	}
	stored, _ = s.GetSource(ctx(t), src.ID)
	if string(stored.Cursor) != "new-2" || stored.Health.ConsecutiveFailures != 0 || !stored.Health.LastRunAt.Equal(now) {
		t.Errorf("after a good run: cursor %q, health %+v; want new-2, no failures, last run kept", stored.Cursor, stored.Health)
	}
	checkSource(t, "source configuration after runs", stored, func() storage.Source {
		want := in
		want.Cursor, want.Health = stored.Cursor, stored.Health
		return want
	}())

	// A nil health func leaves the health alone.
	again := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual"})
	again.Status, again.Cursor = storage.RunSucceeded, []byte("new-3")
	if _, err := s.FinishRun(ctx(t), again, true, nil); err != nil {
		t.Fatalf("FinishRun(health nil): %v", err)
	}
	if last, _ := s.GetSource(ctx(t), src.ID); string(last.Cursor) != "new-3" || !sameHealth(last.Health, stored.Health) {
		t.Errorf("after FinishRun(health nil): cursor %q, health %+v", last.Cursor, last.Health)
	}
}

func testFinishRunPending(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	run := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual", Status: storage.RunRunning})
	if err := s.SetPending(ctx(t), run.ID, pendingList(3)); err != nil {
		t.Fatalf("SetPending: %v", err)
	}
	run.Status = storage.RunHeld
	if _, err := s.FinishRun(ctx(t), run, false, nil); err != nil {
		t.Fatalf("FinishRun(held): %v", err)
	}
	if _, total := mustListPending(t, s, run.ID, 0, 10); total != 3 {
		t.Errorf("held run: %d pending, want 3 kept", total)
	}
	run.Status, run.DecidedBy = storage.RunRejected, "admin"
	got, err := s.FinishRun(ctx(t), run, false, nil)
	if err != nil {
		t.Fatalf("FinishRun(rejected): %v", err)
	}
	if got.Status != storage.RunRejected || got.DecidedBy != "admin" {
		t.Errorf("FinishRun(rejected) = status %q, decided by %q", got.Status, got.DecidedBy)
	}
	if _, total := mustListPending(t, s, run.ID, 0, 10); total != 0 {
		t.Errorf("finished run: %d pending, want none", total)
	}
}

func testFinishRunNotFound(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	_, err := s.FinishRun(ctx(t), storage.Run{ID: "00000000-0000-4000-8000-00000000dead", SourceID: src.ID,
		Status: storage.RunSucceeded, Cursor: []byte("x")}, true, nil)
	wantErr(t, "FinishRun(unknown run)", err, storage.ErrNotFound)
	if got, _ := s.GetSource(ctx(t), src.ID); !bytes.Equal(got.Cursor, src.Cursor) {
		t.Errorf("FinishRun of an unknown run saved cursor %q", got.Cursor)
	}
}
