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

// TestPushNestedGroups: a group that holds a group created later (on a
// later page) names it in the target in the same run.
func TestPushNestedGroups(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{})
	us := f.users(2, "pat")
	parent := f.group("Parent", us[0].ID)
	for i := range 8 { // more than a page (the fixture's engine pages by 7)
		f.group("Filler"+string(rune('A'+i)), us[1].ID)
	}
	child := f.group("Child", us[1].ID)
	f.editMembers(parent, storage.MemberChange{Add: []storage.Member{{Value: child.ID, Type: storage.MemberGroup}}})
	out := f.mustRun(outbound.PushJob{})
	if out.Run.Counts.Errors != 0 {
		t.Fatalf("counts %s", counts(out.Run.Counts))
	}
	p, _ := f.target.GroupByName("Parent")
	c, _ := f.target.GroupByName("Child")
	got := p.MemberIDs()
	want := []string{f.targetUser(us[0].UserName).ID(), c.ID()}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Parent in the target has %v, want %v", got, want)
	}
	objs, err := f.store.PushObjects(t.Context(), f.app.ID, "Group", []string{parent.ID})
	if err != nil || objs[parent.ID].Error != "" {
		t.Errorf("Parent's bookkeeping: %+v, %v", objs[parent.ID], err)
	}
}
