package outbound_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
)

// TestProfiles pins every profile's data; a new profile needs its row
// here (the test fails for a profile it does not know).
func TestProfiles(t *testing.T) {
	want := map[string]outbound.Profile{
		"generic": {Name: "generic", ReadSPC: true, Patch: outbound.PatchFromSPC, MaxMembersPerPatch: 1000,
			PathlessReplace: true, PageSize: 100, Paging: outbound.PagingIndex},
		"aws": {Name: "aws", Patch: outbound.PatchAlways, MaxMembersPerPatch: 100,
			FilterAttrs: map[string][]string{outbound.KindUsers: {"userName", "externalId"}, outbound.KindGroups: {"displayName", "externalId"}},
			PageSize:    100, Paging: outbound.PagingCursor, GroupMembersHidden: true,
			SingleValues: true, UnsupportedUserAttrs: []string{"password", "ims", "photos", "entitlements", "x509Certificates"}},
	}
	for name, p := range outbound.Profiles {
		w, ok := want[name]
		if !ok {
			t.Errorf("profile %q has no row in this test", name)
			continue
		}
		if p.Description == "" {
			t.Errorf("profile %q has no description for the admin choosing it", name)
		}
		p.Description = "" // prose; the rows above pin the behaviour
		if fmt.Sprint(p) != fmt.Sprint(w) {
			t.Errorf("profile %q = %+v, want %+v", name, p, w)
		}
		if p.Name != name || p.PageSize <= 0 || (p.Paging != outbound.PagingIndex && p.Paging != outbound.PagingCursor) ||
			!slices.Contains([]outbound.PatchPolicy{outbound.PatchFromSPC, outbound.PatchAlways, outbound.PatchNever}, p.Patch) {
			t.Errorf("profile %q is not well formed: %+v", name, p)
		}
		if p.Patch == outbound.PatchFromSPC && !p.ReadSPC {
			t.Errorf("profile %q takes PATCH support from an SPC it does not read", name)
		}
	}
	if len(outbound.Profiles) != len(want) {
		t.Errorf("profiles %v, want %d of them", outbound.ProfileNames(), len(want))
	}
	for _, tc := range []struct {
		name string
		want string
		ok   bool
	}{{"", "generic", true}, {"generic", "generic", true}, {"aws", "aws", true}, {"AWS", "", false}, {"okta", "", false}} {
		p, ok := outbound.ProfileByName(tc.name)
		if ok != tc.ok || p.Name != tc.want {
			t.Errorf("ProfileByName(%q) = %q, %v; want %q, %v", tc.name, p.Name, ok, tc.want, tc.ok)
		}
	}
	if got := outbound.ProfileNames(); !slices.Equal(got, []string{"aws", "generic"}) {
		t.Errorf("ProfileNames = %v", got)
	}
}
