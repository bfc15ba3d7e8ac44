package outbound_test

import (
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// TestPushFirstRun: a first run creates what the target lacks and claims
// what it has (matching userName case-insensitively), never duplicating,
// and leaves the target's own objects alone.
func TestPushFirstRun(t *testing.T) {
	tests := []struct {
		name string
		seed func(f *pushFixture) // the target before the run
		// want: users in the target after, the run's counts, writes by method
		wantUsers int
		counts    string
		writes    map[string]int
		note      string
	}{
		{name: "empty target", seed: func(*pushFixture) {},
			wantUsers: 10, counts: "created 11 updated 0 unchanged 0 deactivated 0 deleted 0 errors 0",
			writes: map[string]int{"POST": 11, "PATCH": 1}},
		{name: "target holds some users", seed: func(f *pushFixture) {
			f.target.AddUser(t, map[string]any{"userName": "ALICE000", "active": true})
			f.target.AddUser(t, map[string]any{"userName": "alice001", "active": true, "externalId": "someone-else"})
			f.target.AddUser(t, map[string]any{"userName": "stranger", "active": true})
		}, wantUsers: 11, counts: "created 9 updated 2 unchanged 0 deactivated 0 deleted 0 errors 0",
			writes: map[string]int{"POST": 9, "PATCH": 3}, note: "unmanaged: 1 Users"},
		{name: "target holds the group and other groups", seed: func(f *pushFixture) {
			f.target.AddGroup(t, map[string]any{"displayName": "TEAM"})
			f.target.AddGroup(t, map[string]any{"displayName": "Their own"})
		}, wantUsers: 10, counts: "created 10 updated 1 unchanged 0 deactivated 0 deleted 0 errors 0",
			writes: map[string]int{"POST": 10, "PATCH": 2}, note: "unmanaged: 1 Groups"},
	}
	for _, tt := range tests {
		for _, profile := range []string{"generic", "aws"} {
			t.Run(profile+": "+tt.name, func(t *testing.T) {
				f := newPushFixture(t, fixtureOptions{profile: profile})
				us := f.users(10, "alice")
				f.group("Team", us[0].ID, us[1].ID, us[2].ID)
				tt.seed(f)
				out := f.mustRun(outbound.PushJob{})
				if got := counts(out.Run.Counts); got != tt.counts {
					t.Errorf("counts: %s, want %s", got, tt.counts)
				}
				if got := f.target.Users(); len(got) != tt.wantUsers {
					t.Errorf("target users: %d, want %d", len(got), tt.wantUsers)
				}
				for _, u := range us {
					r := f.targetUser(u.UserName)
					if r.Str("externalId") != u.ID {
						t.Errorf("%s: externalId %q, want the scimgate id %s", u.UserName, r.Str("externalId"), u.ID)
					}
				}
				if got := f.writes(); !equalCounts(got, tt.writes) {
					t.Errorf("writes %v, want %v", got, tt.writes)
				}
				g, ok := f.target.GroupByName("Team")
				if !ok || len(g.MemberIDs()) != 3 {
					t.Errorf("group Team in the target: %v, want 3 members", g)
				}
				if n := len(f.target.Groups()); n > 2 || (n == 2 && !strings.Contains(tt.name, "group")) {
					t.Errorf("%d groups in the target", n)
				}
				if out.Run.Mode != "full" {
					t.Errorf("mode %q, want full", out.Run.Mode)
				}
				if tt.note != "" && !strings.Contains(strings.Join(out.Run.Notes, "\n"), tt.note) {
					t.Errorf("notes %q, want one with %q", out.Run.Notes, tt.note)
				}
				// A second push of an unchanged view sends nothing.
				f.target.ResetLog()
				again := f.mustRun(outbound.PushJob{})
				if w := f.writes(); len(w) != 0 {
					t.Errorf("second run wrote %v, want nothing", w)
				}
				if again.Run.Mode != "incremental" {
					t.Errorf("second run mode %q, want incremental", again.Run.Mode)
				}
				// Nor does a full one, which compares with what the target has.
				full := f.mustRun(outbound.PushJob{Full: true})
				if w := f.writes(); len(w) != 0 || full.Run.Mode != "full" || full.Run.Counts.Unchanged != 11 {
					t.Errorf("full run of an unchanged view: mode %s, counts %s, wrote %v", full.Run.Mode, counts(full.Run.Counts), w)
				}
			})
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

var _ = storage.RunSucceeded
