package outbound_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// TestPushDeletionGuard: a run that would remove more than the app's
// limits is held with the pending list and removes nothing; a run with
// the approved list applies exactly those.
func TestPushDeletionGuard(t *testing.T) {
	tests := []struct {
		name   string
		limits storage.DeletionLimits
		leave  int
		held   bool
	}{
		{name: "over maxCount", limits: storage.DeletionLimits{MaxCount: 3}, leave: 5, held: true},
		{name: "over maxPercent", limits: storage.DeletionLimits{MaxPercent: 20}, leave: 3, held: true},
		{name: "within limits", limits: storage.DeletionLimits{MaxCount: 3, MaxPercent: 50}, leave: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 10 users and the scope group are managed objects.
			f := newPushFixture(t, fixtureOptions{scoped: true, push: storage.PushConfig{Deletion: tt.limits}})
			us := f.users(10, "fay")
			f.mustRun(outbound.PushJob{})
			var leavers []string
			for _, u := range us[:tt.leave] {
				leavers = append(leavers, u.ID)
			}
			f.removeMembers(f.scope, leavers...)
			out := f.run(outbound.PushJob{})
			active := func() int {
				n := 0
				for _, r := range f.target.Users() {
					if r["active"] == true {
						n++
					}
				}
				return n
			}
			if !tt.held {
				if out.Run.Status != storage.RunSucceeded || out.Run.Counts.Deactivated != tt.leave || active() != 10-tt.leave {
					t.Fatalf("status %s, counts %s, %d active", out.Run.Status, counts(out.Run.Counts), active())
				}
				return
			}
			if out.Run.Status != storage.RunHeld || out.SaveCursor || out.Run.Counts.Pending != tt.leave {
				t.Fatalf("status %s (save cursor %v, pending %d), want held", out.Run.Status, out.SaveCursor, out.Run.Counts.Pending)
			}
			if n := active(); n != 10 {
				t.Errorf("%d active users in the target while held, want 10", n)
			}
			var pendingIDs []string
			for _, p := range out.Pending {
				pendingIDs = append(pendingIDs, p.ID)
				if p.Kind != "User" || p.Action != storage.ChangeDeactivate || p.Key == "" || !strings.HasPrefix(p.Name, "fay") {
					t.Errorf("pending %+v", p)
				}
			}
			slices.Sort(pendingIDs)
			slices.Sort(leavers)
			if !slices.Equal(pendingIDs, leavers) {
				t.Errorf("pending %v, want the leavers %v", pendingIDs, leavers)
			}
			// Approved: exactly the pending list is applied, though it is
			// over the limits.
			approved := f.mustRun(outbound.PushJob{Approved: out.Pending})
			if approved.Run.Counts.Deactivated != tt.leave || active() != 10-tt.leave {
				t.Errorf("approved run: counts %s, %d active", counts(approved.Run.Counts), active())
			}
		})
	}
}

// TestPushDryRun: a dry run sends only reads and logs every request it
// would send.
func TestPushDryRun(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{})
	us := f.users(3, "gus")
	f.group("Team", us[0].ID, us[1].ID)
	f.target.AddUser(t, map[string]any{"userName": "GUS002", "active": true})
	out := f.mustRun(outbound.PushJob{DryRun: true})
	for _, r := range f.target.Requests() {
		if r.Method != "GET" {
			t.Errorf("a dry run sent %s %s", r.Method, r.Path)
		}
	}
	var details []string
	for _, c := range f.changes(out.Run) {
		details = append(details, c.Action+" "+c.Detail)
		if c.Action == storage.ChangeCreate && len(c.After) == 0 {
			t.Errorf("create without its body: %+v", c)
		}
	}
	want := []string{"create POST /Users", "create POST /Users", "update PATCH /Users/", "create POST /Groups", "update PATCH /Groups/dry-run:"}
	if len(details) != len(want) {
		t.Fatalf("change log %q, want %q", details, want)
	}
	for i := range want {
		if !strings.HasPrefix(details[i], want[i]) {
			t.Errorf("change %d: %q, want %q...", i, details[i], want[i])
		}
	}
	if out.SaveCursor || !out.Run.DryRun {
		t.Errorf("dry run: save cursor %v, dry %v", out.SaveCursor, out.Run.DryRun)
	}
	// Nothing was recorded either: a real run does all of it.
	f.target.ResetLog()
	real := f.mustRun(outbound.PushJob{})
	if c := real.Run.Counts; c.Created != 3 || c.Updated != 1 || len(f.target.Users()) != 3 {
		t.Errorf("real run after the dry run: %s", counts(c))
	}
}

// TestPushGroupsLeaving: a group that leaves the view is deleted from the
// target only if scimgate created it; a claimed one is left there.
func TestPushGroupsLeaving(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{})
	us := f.users(2, "ivy")
	ours := f.group("Ours", us[0].ID)
	theirs := f.group("Theirs", us[1].ID)
	f.target.AddGroup(t, map[string]any{"displayName": "theirs"})
	first := f.mustRun(outbound.PushJob{})
	if first.Run.Counts.Created != 3 {
		t.Fatalf("first run: %s", counts(first.Run.Counts))
	}
	for _, g := range []storage.Group{ours, theirs} {
		if err := f.store.DeleteGroup(t.Context(), g.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.target.ResetLog()
	out := f.mustRun(outbound.PushJob{})
	if w := f.writes(); w["DELETE"] != 1 || len(w) != 1 {
		t.Errorf("writes %v, want one DELETE", w)
	}
	if out.Run.Counts.Deleted != 1 {
		t.Errorf("counts %s", counts(out.Run.Counts))
	}
	if _, ok := f.target.GroupByName("Ours"); ok {
		t.Error("the group scimgate created is still in the target")
	}
	if _, ok := f.target.GroupByName("theirs"); !ok {
		t.Error("the claimed group was deleted from the target")
	}
	if objs, _ := f.store.PushObjects(t.Context(), f.app.ID, "Group", []string{ours.ID, theirs.ID}); len(objs) != 0 {
		t.Errorf("bookkeeping kept %v", objs)
	}
}
