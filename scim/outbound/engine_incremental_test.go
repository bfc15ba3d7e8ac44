package outbound_test

import (
	"time"

	"cmp"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// TestPushIncremental: after a first run, each change to the view costs
// the requests of that change alone.
func TestPushIncremental(t *testing.T) {
	tests := []struct {
		name    string
		onLeave string
		mode    string // of the second run; default incremental
		change  func(f *pushFixture, us []storage.User)
		writes  map[string]int
		counts  string
		check   func(t *testing.T, f *pushFixture, us []storage.User, ch []storage.Change)
	}{
		{name: "nothing changed", change: func(*pushFixture, []storage.User) {},
			writes: map[string]int{}, counts: "created 0 updated 0 unchanged 0 deactivated 0 deleted 0 errors 0"},
		{name: "the app's allow-list changes: a full run updates everyone", change: func(f *pushFixture, _ []storage.User) {
			if _, err := f.store.UpdateApp(t.Context(), f.app.ID, func(a *storage.App) error { a.Attributes = []string{"userName", "active"}; return nil }); err != nil {
				t.Fatal(err)
			}
		}, mode: "full", writes: map[string]int{"PATCH": 5}, counts: "created 0 updated 5 unchanged 1 deactivated 0 deleted 0 errors 0",
			check: func(t *testing.T, f *pushFixture, us []storage.User, _ []storage.Change) {
				for _, u := range us {
					if r := f.targetUser(u.UserName); r["emails"] != nil || r["displayName"] != nil || r["active"] != true {
						t.Errorf("%s in the target after the allow-list shrank: %v", u.UserName, r)
					}
				}
			}},
		{name: "a user joins", change: func(f *pushFixture, _ []storage.User) { f.user("newcomer") },
			writes: map[string]int{"POST": 1, "PATCH": 1}, counts: "created 1 updated 1 unchanged 0 deactivated 0 deleted 0 errors 0",
			check: func(t *testing.T, f *pushFixture, _ []storage.User, ch []storage.Change) {
				r := f.targetUser("newcomer")
				if r["active"] != true {
					t.Errorf("newcomer in the target: %v", r)
				}
				if len(ch) != 2 || ch[0].Action != storage.ChangeCreate || ch[0].Key != r.ID() || ch[0].Name != "newcomer" ||
					ch[0].Detail != "POST /Users: HTTP 201" {
					t.Errorf("change log %+v", ch)
				}
			}},
		{name: "an attribute edit is one PATCH", change: func(f *pushFixture, us []storage.User) {
			f.editUser(us[2].ID, func(u *storage.User) { u.Title = "Engineer" })
		}, writes: map[string]int{"PATCH": 1}, counts: "created 0 updated 1 unchanged 1 deactivated 0 deleted 0 errors 0", // the user's group is looked at
			check: func(t *testing.T, f *pushFixture, us []storage.User, ch []storage.Change) {
				if got := f.targetUser(us[2].UserName).Str("title"); got != "Engineer" {
					t.Errorf("title in the target %q", got)
				}
				var req struct {
					Operations []outbound.PatchOp
				}
				_ = json.Unmarshal(ch[0].After, &req)
				if len(req.Operations) != 1 || req.Operations[0].Path != "title" {
					t.Errorf("PATCH sent %s, want one replace of title", ch[0].After)
				}
			}},
		{name: "leaving the scope group deactivates", change: func(f *pushFixture, us []storage.User) {
			f.removeMembers(f.scope, us[1].ID)
		}, writes: map[string]int{"PATCH": 2}, counts: "created 0 updated 1 unchanged 0 deactivated 1 deleted 0 errors 0",
			check: func(t *testing.T, f *pushFixture, us []storage.User, ch []storage.Change) {
				if got := f.targetUser(us[1].UserName)["active"]; got != false {
					t.Errorf("leaver active %v in the target, want false", got)
				}
				// The scope group is in the view too: the leaver leaves it first.
				if len(ch) != 2 || ch[0].Kind != "Group" || ch[1].Action != storage.ChangeDeactivate || ch[1].ResourceID != us[1].ID || ch[1].Name != us[1].UserName {
					t.Errorf("change log %+v", ch)
				}
			}},
		{name: "deleted user with onLeave delete", onLeave: storage.OnLeaveDelete, change: func(f *pushFixture, us []storage.User) {
			if err := f.store.DeleteUser(t.Context(), us[0].ID, nil); err != nil {
				t.Fatal(err)
			}
		}, writes: map[string]int{"DELETE": 1, "PATCH": 1}, counts: "created 0 updated 1 unchanged 0 deactivated 0 deleted 1 errors 0",
			check: func(t *testing.T, f *pushFixture, us []storage.User, _ []storage.Change) {
				if _, ok := f.target.UserByName(us[0].UserName); ok {
					t.Errorf("deleted user still in the target")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{scoped: true, push: storage.PushConfig{OnLeave: tt.onLeave}})
			us := f.users(5, "bob")
			f.mustRun(outbound.PushJob{})
			f.target.ResetLog()
			tt.change(f, us)
			out := f.mustRun(outbound.PushJob{})
			if want := cmp.Or(tt.mode, "incremental"); out.Run.Mode != want {
				t.Errorf("mode %q, want %q", out.Run.Mode, want)
			}
			if got := f.writes(); !equalCounts(got, tt.writes) {
				t.Errorf("writes %v, want %v; requests %v", got, tt.writes, f.target.Requests())
			}
			if got := counts(out.Run.Counts); got != tt.counts {
				t.Errorf("counts: %s, want %s", got, tt.counts)
			}
			if tt.check != nil {
				tt.check(t, f, us, f.changes(out.Run))
			}
			if n := len(f.target.Users()); n < 5 && !strings.Contains(tt.name, "delete") {
				t.Errorf("target has %d users", n)
			}
		})
	}
}

// TestPushLeaveGrace: a user who leaves a view with a leave grace is in
// it still, inactive: the target gets them deactivated (or deleted, with
// onLeave delete) at once, with the rest of their attributes as they are.
// A user deleted outright leaves the same way, also once the grace is
// over.
func TestPushLeaveGrace(t *testing.T) {
	removed := func(f *pushFixture, u storage.User) { f.removeMembers(f.scope, u.ID) }
	deleted := func(f *pushFixture, u storage.User) {
		if err := f.store.DeleteUser(f.t.Context(), u.ID, nil); err != nil {
			f.t.Fatal(err)
		}
	}
	tests := []struct {
		name, onLeave string
		leave         func(*pushFixture, storage.User)
		writes        map[string]int
	}{
		{"removed", storage.OnLeaveDeactivate, removed, map[string]int{"PATCH": 2}},
		{"removed", storage.OnLeaveDelete, removed, map[string]int{"PATCH": 1, "DELETE": 1}},
		{"deleted", storage.OnLeaveDeactivate, deleted, map[string]int{"PATCH": 2}},
		{"deleted", storage.OnLeaveDelete, deleted, map[string]int{"PATCH": 1, "DELETE": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.onLeave, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{scoped: true, push: storage.PushConfig{OnLeave: tt.onLeave}})
			us := f.users(3, "kim")
			if _, err := f.store.UpdateApp(t.Context(), f.app.ID, func(a *storage.App) error { a.LeaveGraceDays = 7; return nil }); err != nil {
				t.Fatal(err)
			}
			f.mustRun(outbound.PushJob{})
			f.target.ResetLog()
			tt.leave(f, us[0])
			out := f.mustRun(outbound.PushJob{})
			if w := f.writes(); !equalCounts(w, tt.writes) {
				t.Errorf("writes %v, want %v", w, tt.writes)
			}
			r, there := f.target.UserByName(us[0].UserName)
			switch tt.onLeave {
			case storage.OnLeaveDelete:
				if there || out.Run.Counts.Deleted != 1 {
					t.Errorf("deleted %d, in the target %v", out.Run.Counts.Deleted, there)
				}
			default:
				if r["active"] != false || out.Run.Counts.Deactivated != 1 {
					t.Errorf("deactivated %d, in the target %v", out.Run.Counts.Deactivated, r)
				}
			}
			// Nothing more to do while they stay departed.
			f.target.ResetLog()
			f.mustRun(outbound.PushJob{})
			if w := f.writes(); len(w) != 0 {
				t.Errorf("next run wrote %v", w)
			}
			// After the grace: deactivated they stay (onLeave deactivate),
			// deleted they stay gone, as for any departure.
			f.clock.Advance(8 * 24 * time.Hour)
			f.mustRun(outbound.PushJob{Full: true})
			r, there = f.target.UserByName(us[0].UserName)
			if want := tt.onLeave == storage.OnLeaveDeactivate; there != want || there && r["active"] != false {
				t.Errorf("after the grace the target holds %v (%v), want held %v and inactive", r, there, want)
			}
		})
	}
}
