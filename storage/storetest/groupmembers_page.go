package storetest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// testGroupMembersPage pages through a group's members: the pages put
// together are GetGroup's members in GetGroup's order, with displays, and
// every page knows the total.
func testGroupMembersPage(t *testing.T, s storage.Store) {
	f := newGroupFixture(t, s)
	members := []storage.Member{gm(f.inner.ID)}
	for i := range 6 {
		members = append(members, um(mustCreateUser(t, s, user(fmt.Sprint("member", i))).ID))
	}
	big := mustCreateGroup(t, s, storage.Group{DisplayName: "Big", Members: members})
	empty := mustCreateGroup(t, s, storage.Group{DisplayName: "Empty"})
	all := mustGetGroup(t, s, big.ID, true).Members

	for _, tc := range []struct {
		group         string
		offset, limit int
		want          []storage.Member
		total         int
	}{
		{big.ID, 0, 3, all[:3], 7},
		{big.ID, 3, 3, all[3:6], 7},
		{big.ID, 6, 3, all[6:], 7},
		{big.ID, 7, 3, []storage.Member{}, 7},
		{big.ID, 0, 0, []storage.Member{}, 7},
		{big.ID, 0, 100, all, 7},
		{f.outer.ID, 1, 5, mustGetGroup(t, s, f.outer.ID, true).Members[1:], 3},
		{empty.ID, 0, 10, []storage.Member{}, 0},
	} {
		got, total, err := s.GroupMembers(ctx(t), tc.group, tc.offset, tc.limit)
		if err != nil || total != tc.total || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GroupMembers(%s, %d, %d) = %+v, %d, %v; want %+v, %d", tc.group, tc.offset, tc.limit, got, total, err, tc.want, tc.total)
		}
	}
	if len(all) != 7 || all[0].Display == "" {
		t.Errorf("GetGroup members: %+v", all)
	}
	_, _, err := s.GroupMembers(ctx(t), "no-such-group", 0, 10)
	wantErr(t, "GroupMembers of an unknown group", err, storage.ErrNotFound)
}
