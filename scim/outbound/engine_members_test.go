package outbound_test

import (
	"slices"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// TestPushMembersFollowTheView: a group's members in the target are its
// members in the view, whichever way a member joins or leaves it.
func TestPushMembersFollowTheView(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *pushFixture, us []storage.User)
		want   []int // indexes of the users the group holds in the target after
	}{
		{name: "a member joins the view through the filter", want: []int{0, 1, 2},
			change: func(f *pushFixture, us []storage.User) {
				f.editUser(us[2].ID, func(u *storage.User) { u.Title = "in" })
			}},
		{name: "a member leaves the view through the filter", want: []int{1},
			change: func(f *pushFixture, us []storage.User) {
				f.editUser(us[0].ID, func(u *storage.User) { u.Title = "out" })
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{filter: storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: "in"}})
			us := []storage.User{
				f.user("jo0", func(u *storage.User) { u.Title = "in" }),
				f.user("jo1", func(u *storage.User) { u.Title = "in" }),
				f.user("jo2", func(u *storage.User) { u.Title = "out" }),
			}
			f.group("Crew", us[0].ID, us[1].ID, us[2].ID)
			f.mustRun(outbound.PushJob{})
			if g, _ := f.target.GroupByName("Crew"); len(g.MemberIDs()) != 2 {
				t.Fatalf("first run: Crew has %v", g.MemberIDs())
			}
			tt.change(f, us)
			f.mustRun(outbound.PushJob{})
			var want []string
			for _, i := range tt.want {
				want = append(want, f.targetUser(us[i].UserName).ID())
			}
			g, _ := f.target.GroupByName("Crew")
			got := g.MemberIDs()
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("Crew in the target has %v, want %v", got, want)
			}
		})
	}
}
