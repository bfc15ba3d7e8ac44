package outbound_test

import (
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
	"github.com/scimgate/scimgate/storage"
)

// TestPushLostCreates: a create whose answer was lost, in this run or in
// a run that died after sending it, is found by matching before it is
// sent again, so the target never holds a duplicate.
func TestPushLostCreates(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *pushFixture, us []storage.User)
		// created, updated: this run's counts (an adopted user is updated
		// to what the view has); posts: POST /Users sent.
		created, updated, posts int
	}{
		{name: "answer lost in this run", setup: func(f *pushFixture, _ []storage.User) { f.target.LoseCreateResponses(2) },
			created: 4, posts: 4},
		{name: "a run died after its POST", setup: func(f *pushFixture, us []storage.User) {
			// What the dead run left: the object on record as creating, and
			// the user in the target, which applied the POST.
			f.target.AddUser(t, map[string]any{"userName": us[1].UserName, "externalId": us[1].ID, "active": true})
			if err := f.store.SavePushObjects(t.Context(), []storage.PushObject{{AppID: f.app.ID, Kind: "User", LocalID: us[1].ID,
				Origin: storage.PushCreated, State: storage.PushCreating}}); err != nil {
				t.Fatal(err)
			}
		}, created: 3, updated: 1, posts: 3},
	}
	for _, tt := range tests {
		for _, full := range []bool{true, false} {
			name := tt.name + map[bool]string{true: ", full run", false: ", incremental run"}[full]
			t.Run(name, func(t *testing.T) {
				f := newPushFixture(t, fixtureOptions{})
				if !full {
					f.mustRun(outbound.PushJob{}) // an empty view: the next run is incremental
					f.target.ResetLog()
				}
				us := f.users(4, "dave")
				tt.setup(f, us)
				out := f.mustRun(outbound.PushJob{})
				if got := len(f.target.Users()); got != 4 {
					t.Errorf("%d users in the target, want 4", got)
				}
				if got := f.target.Count("POST", "/Users"); got != tt.posts {
					t.Errorf("%d POST /Users, want %d", got, tt.posts)
				}
				if c := out.Run.Counts; c.Created != tt.created || c.Updated != tt.updated || c.Errors != 0 {
					t.Errorf("counts %s, want %d created, %d updated", counts(out.Run.Counts), tt.created, tt.updated)
				}
				// And the next run converges: nothing to send.
				f.target.ResetLog()
				f.mustRun(outbound.PushJob{})
				if w := f.writes(); len(w) != 0 {
					t.Errorf("next run wrote %v", w)
				}
				if got := len(f.target.Users()); got != 4 {
					t.Errorf("%d users in the target after the next run, want 4", got)
				}
			})
		}
	}
}

// TestPushObjectErrors: the target refusing one object is recorded on it
// and the run goes on; the next run retries it.
func TestPushObjectErrors(t *testing.T) {
	tests := []struct {
		name   string
		first  bool // the refusal hits the first run (a create), else an update
		fault  targettest.Fault
		detail string
	}{
		{name: "create refused", first: true, fault: targettest.Fault{Times: 1, Status: 400, Method: "POST", PathPrefix: "/Users"},
			detail: "POST /Users: HTTP 400"},
		{name: "update refused", fault: targettest.Fault{Times: 1, Status: 403, Method: "PATCH", PathPrefix: "/Users"},
			detail: "PATCH /Users/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{})
			us := f.users(3, "erin")
			if !tt.first {
				f.mustRun(outbound.PushJob{})
				for _, u := range us {
					f.editUser(u.ID, func(u *storage.User) { u.Title = "Edited" })
				}
			}
			f.target.Inject(tt.fault)
			out := f.mustRun(outbound.PushJob{})
			if out.Run.Counts.Errors != 1 {
				t.Errorf("counts %s, want 1 error", counts(out.Run.Counts))
			}
			var errs []storage.Change
			for _, c := range f.changes(out.Run) {
				if c.Action == storage.ChangeError {
					errs = append(errs, c)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Detail, tt.detail) || errs[0].ResourceID == "" || errs[0].Name == "" {
				t.Fatalf("error changes %+v, want one with %q", errs, tt.detail)
			}
			failed := errs[0].ResourceID
			objs, err := f.store.PushObjects(t.Context(), f.app.ID, "User", []string{failed})
			if err != nil || !strings.Contains(objs[failed].Error, "HTTP") {
				t.Errorf("push object of the failed user: %+v, %v", objs[failed], err)
			}
			pushed := 0
			for _, u := range us {
				if r, ok := f.target.UserByName(u.UserName); ok && (tt.first || r.Str("title") == "Edited") {
					pushed++
				}
			}
			if pushed != 2 {
				t.Errorf("%d of the other users pushed, want 2", pushed)
			}
			// The next run retries the failed one, though the view did not
			// change it since.
			f.target.ResetLog()
			retry := f.mustRun(outbound.PushJob{})
			if retry.Run.Counts.Errors != 0 || retry.Run.Counts.Created+retry.Run.Counts.Updated != 1 {
				t.Errorf("retry counts %s, want the one object pushed", counts(retry.Run.Counts))
			}
			for _, u := range us {
				r := f.targetUser(u.UserName)
				if !tt.first && r.Str("title") != "Edited" {
					t.Errorf("%s not updated after the retry", u.UserName)
				}
			}
			if objs, _ := f.store.PushObjects(t.Context(), f.app.ID, "User", []string{failed}); objs[failed].Error != "" {
				t.Errorf("error kept after the retry: %q", objs[failed].Error)
			}
		})
	}
}

// TestPushThrottled: throttling the client waited out is invisible;
// throttling that outlasts its attempts fails the run, which the next
// run picks up from.
func TestPushThrottled(t *testing.T) {
	tests := []struct {
		name   string
		n      int // 429s in a row
		status storage.RunStatus
	}{
		{name: "waited out", n: 2, status: storage.RunSucceeded},
		{name: "outlasting the retries", n: 50, status: storage.RunFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{})
			f.users(3, "max")
			f.mustRun(outbound.PushJob{}) // reads the capabilities once: the faults hit writes
			f.users(3, "new")
			f.target.Inject(targettest.Fault{Times: tt.n, Status: 429, RetryAfter: "1", Method: "POST"})
			out := f.run(outbound.PushJob{})
			if out.Run.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", out.Run.Status, out.Run.Error, tt.status)
			}
			f.target.ResetFaults()
			f.mustRun(outbound.PushJob{})
			if got := len(f.target.Users()); got != 6 {
				t.Errorf("%d users in the target, want 6", got)
			}
		})
	}
}

// TestPushLostCreateOfALeaver: a create whose answer was lost, for a user
// who left the view before the next run, is found by its externalId and
// removed like any leaver, not left behind in the target.
func TestPushLostCreateOfALeaver(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{scoped: true})
	us := f.users(2, "oz")
	f.mustRun(outbound.PushJob{})
	late := f.user("late")
	f.target.AddUser(t, map[string]any{"userName": "late", "externalId": late.ID, "active": true})
	if err := f.store.SavePushObjects(t.Context(), []storage.PushObject{{AppID: f.app.ID, Kind: "User", LocalID: late.ID,
		Origin: storage.PushCreated, State: storage.PushCreating}}); err != nil {
		t.Fatal(err)
	}
	f.removeMembers(f.scope, late.ID)
	out := f.mustRun(outbound.PushJob{})
	if r := f.targetUser("late"); r["active"] != false || out.Run.Counts.Deactivated != 1 {
		t.Errorf("the leaver whose create was lost: %v, counts %s", r, counts(out.Run.Counts))
	}
	if r := f.targetUser(us[0].UserName); r["active"] != true {
		t.Errorf("a user in view: %v", r)
	}
}
