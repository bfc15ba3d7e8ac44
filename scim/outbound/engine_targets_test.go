package outbound_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
	"github.com/scimgate/scimgate/storage"
)

// TestPushMembershipBatches: a 250-member group reaches an AWS-like
// target in membership PATCHes of at most 100; the generic target, with
// no such bound, gets one.
func TestPushMembershipBatches(t *testing.T) {
	tests := []struct {
		profile string
		patches []int // members per group PATCH
	}{
		{profile: "aws", patches: []int{100, 100, 50}},
		{profile: "generic", patches: []int{250}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{profile: tt.profile})
			us := f.users(250, "member")
			ids := make([]string, len(us))
			for i, u := range us {
				ids[i] = u.ID
			}
			f.group("Big", ids...)
			f.mustRun(outbound.PushJob{})
			var got []int
			for _, r := range f.target.Requests() {
				if r.Method != "PATCH" || !strings.HasPrefix(r.Path, "/Groups/") {
					continue
				}
				var req struct {
					Operations []struct {
						Value []any `json:"value"`
					}
				}
				if err := json.Unmarshal([]byte(r.Body), &req); err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, op := range req.Operations {
					n += len(op.Value)
				}
				got = append(got, n)
			}
			if !equalInts(got, tt.patches) {
				t.Errorf("members per PATCH %v, want %v", got, tt.patches)
			}
			g, ok := f.target.GroupByName("Big")
			if !ok || len(g.MemberIDs()) != 250 {
				t.Fatalf("group in the target has %d members, want 250", len(g.MemberIDs()))
			}
			// 120 leave the group: removals batched the same way.
			f.target.ResetLog()
			big, _ := f.store.ListGroups(t.Context(), storage.Query{Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpEq, Value: "Big"}, Limit: 1}, false)
			f.removeMembers(big.Groups[0], ids[:120]...)
			f.mustRun(outbound.PushJob{})
			g, _ = f.target.GroupByName("Big")
			if len(g.MemberIDs()) != 130 {
				t.Errorf("after 120 left: %d members in the target, want 130", len(g.MemberIDs()))
			}
			wantPatches := 2
			if tt.profile == "generic" {
				wantPatches = 1
			}
			if n := f.target.Count("PATCH", "/Groups"); n != wantPatches {
				t.Errorf("%d group PATCHes for 120 removals, want %d", n, wantPatches)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPushWithoutPatch: a target without PATCH gets PUTs, for edits,
// memberships and deactivations, each with the whole resource.
func TestPushWithoutPatch(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{target: targettest.Options{NoPatch: true}, scoped: true})
	us := f.users(3, "carol")
	f.mustRun(outbound.PushJob{})
	if n := f.target.Count("PATCH", ""); n != 0 {
		t.Fatalf("%d PATCHes sent to a target without PATCH", n)
	}
	scope, ok := f.target.GroupByName("Scope")
	if !ok || len(scope.MemberIDs()) != 3 {
		t.Fatalf("scope group in the target: %v, want 3 members", scope)
	}
	tests := []struct {
		name   string
		change func()
		check  func(t *testing.T)
		puts   int
	}{
		{name: "edit", change: func() { f.editUser(us[0].ID, func(u *storage.User) { u.Title = "Boss" }) }, puts: 1,
			check: func(t *testing.T) {
				r := f.targetUser(us[0].UserName)
				if r.Str("title") != "Boss" || r.Str("displayName") != us[0].DisplayName || r["active"] != true {
					t.Errorf("after PUT: %v", r)
				}
			}},
		{name: "leave", change: func() { f.removeMembers(f.scope, us[1].ID) }, puts: 2,
			check: func(t *testing.T) {
				r := f.targetUser(us[1].UserName)
				if r["active"] != false || r.Str("displayName") != us[1].DisplayName {
					t.Errorf("leaver after PUT: %v", r)
				}
				if g, _ := f.target.GroupByName("Scope"); len(g.MemberIDs()) != 2 {
					t.Errorf("scope group members %v, want 2", g.MemberIDs())
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.target.ResetLog()
			tt.change()
			f.mustRun(outbound.PushJob{})
			if w := f.writes(); w["PUT"] != tt.puts || len(w) != 1 {
				t.Errorf("writes %v, want %d PUTs only", w, tt.puts)
			}
			tt.check(t)
		})
	}
}
