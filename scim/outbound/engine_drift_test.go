package outbound_test

import (
	"slices"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
)

// A full run reads what the target holds: a group whose members were
// edited in the target by hand gets the view's membership back (the
// managed member removed there is added again, the managed member added
// there is removed), and a member scimgate does not manage is left alone.
// An incremental run after it sends nothing. Against a target that hides
// group members (aws) nothing can be read, and the full run trusts what
// it pushed.
func TestPushFullRunRepairsMembershipDrift(t *testing.T) {
	for _, tc := range []struct {
		profile  string
		repaired bool
	}{{"generic", true}, {"aws", false}} {
		t.Run(tc.profile, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{profile: tc.profile})
			ann, bob := f.user("ann"), f.user("bob")
			f.user("cat")
			f.group("Crew", ann.ID, bob.ID)
			f.mustRun(outbound.PushJob{Full: true})
			crew, _ := f.target.GroupByName("Crew")
			annT, bobT, catT := f.targetUser("ann").ID(), f.targetUser("bob").ID(), f.targetUser("cat").ID()
			stranger := f.target.AddUser(t, map[string]any{"userName": "stranger"})
			// By hand in the target: bob out; cat and a stranger in.
			if err := f.client.Patch(t.Context(), outbound.KindGroups, crew.ID(), []outbound.PatchOp{
				{Op: "remove", Path: `members[value eq "` + bobT + `"]`},
				{Op: "add", Path: "members", Value: []any{map[string]any{"value": catT}, map[string]any{"value": stranger}}},
			}); err != nil {
				t.Fatalf("edit the target by hand: %v", err)
			}
			f.mustRun(outbound.PushJob{Full: true})
			got, _ := f.target.GroupByName("Crew")
			members := got.MemberIDs()
			slices.Sort(members)
			want := []string{annT, catT, stranger}
			if tc.repaired {
				want = []string{annT, bobT, stranger}
			}
			slices.Sort(want)
			if !slices.Equal(members, want) {
				t.Errorf("Crew in the target after the full run = %v, want %v (ann %s, bob %s, cat %s, stranger %s)", members, want, annT, bobT, catT, stranger)
			}
			f.target.ResetLog()
			f.mustRun(outbound.PushJob{})
			if w := f.writes(); len(w) != 0 {
				t.Errorf("the incremental run after it wrote %v, want nothing", w)
			}
		})
	}
}
