package ldap

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestLabFullSyncThroughTheAPI: an admin creates an ldap source with
// only url, bindDN, bindPassword, baseDN and caFile, tests it, runs it,
// and a SCIM client reads the seeded directory back.
func TestLabFullSyncThroughTheAPI(t *testing.T) {
	l := needLab(t)
	e := newAPIEnv(t)
	id := e.createSource(t, "corp-ad", map[string]any{
		"url": l.url, "bindDN": l.bindDN, "bindPassword": l.password, "baseDN": l.baseDN, "caFile": l.ca,
	}, nil)
	if r := e.call(t, "POST", "/api/v1/sources/"+id+"/test", e.admin, nil, http.StatusOK); r["ok"] != true {
		t.Fatalf("test: %v", r)
	}
	run := e.sync(t, id, "")
	c := counts(run)
	if run["status"] != "succeeded" || run["mode"] != "full" || c["errors"] != 0 || c["conflicts"] != 0 {
		t.Fatalf("first run: %v", run)
	}
	// Everything is new; the domain holds more than the seed (Administrator,
	// Guest, krbtgt, the built-in groups).
	if c["created"] != c["fetched"] || c["fetched"] < l.seededUsers+l.seededGroups+3 {
		t.Errorf("counts %v, want all created and at least %d", c, l.seededUsers+l.seededGroups+3)
	}

	// Counts of the seeded part, read back over SCIM.
	if _, n := e.scimList(t, "Users", `userName ew "@example.test"`); n != l.seededUsers {
		t.Errorf("%d seeded users over SCIM, want %d", n, l.seededUsers)
	}
	if _, n := e.scimList(t, "Users", `userName ew "@example.test" and active eq false`); n != l.disabledUsers {
		t.Errorf("%d inactive seeded users, want %d (disabled or expired)", n, l.disabledUsers)
	}

	u1 := e.scimOne(t, "Users", `userName eq "u00001@example.test"`)
	u2 := e.scimOne(t, "Users", `userName eq "u00002@example.test"`)
	for _, tc := range []struct {
		what string
		got  any
		want any
	}{
		{"givenName", path(u1, "name", "givenName"), "Given00001"},
		{"familyName", path(u1, "name", "familyName"), "Family00001"},
		{"displayName", u1["displayName"], "Given00001 Family00001"},
		{"work email", path(u1, "emails", 0, "value"), "u00001@example.test"},
		{"work phone", path(u1, "phoneNumbers", 0, "value"), "+1 555 0000001"},
		{"title", u1["title"], "Manager"},
		{"department", path(u1, enterpriseURN, "department"), "Engineering"},
		{"organization", path(u1, enterpriseURN, "organization"), "Example Corp"},
		{"employeeNumber", path(u1, enterpriseURN, "employeeNumber"), "E00001"},
		{"active", u1["active"], true},
		{"manager is u00001's scimgate id", path(u2, enterpriseURN, "manager", "value"), u1["id"]},
		{"externalId is a GUID", validGUID(fmt.Sprint(u1["externalId"])), true},
	} {
		if fmt.Sprint(tc.got) != fmt.Sprint(tc.want) {
			t.Errorf("%s = %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		user   string
		active bool
	}{
		{"u00020", false}, // userAccountControl 514
		{"u00050", false}, // accountExpires in 2012
		{"u00100", false}, // both
		{"u00047", true},  // accountExpires in 2104
		{"u00007", true},
	} {
		u := e.scimOne(t, "Users", fmt.Sprintf(`userName eq "%s@example.test"`, tc.user))
		if u["active"] != tc.active {
			t.Errorf("%s active = %v, want %v", tc.user, u["active"], tc.active)
		}
	}
	// A DN with an escaped comma and a UTF-8 name.
	fj := e.scimOne(t, "Users", `userName eq "fjackson@example.test"`)
	if path(fj, "name", "givenName") != "François" {
		t.Errorf("fjackson: %v", fj)
	}

	// Groups: the big one complete, nesting as group members, a cycle,
	// a distribution group, an empty one.
	groupID := map[string]string{}
	groups, _ := e.scimList(t, "Groups", `displayName sw "G"`)
	for _, g := range groups {
		groupID[g["displayName"].(string)] = g["id"].(string)
	}
	memberNames := func(name string) []string {
		g := e.call(t, "GET", "/scim/v2/Groups/"+groupID[name], e.reader, nil, http.StatusOK)
		var out []string
		for _, m := range asList(g["members"]) {
			out = append(out, fmt.Sprint(path(m.(map[string]any), "display")))
		}
		slices.Sort(out)
		return out
	}
	if got := memberNames("GG-Big"); len(got) != l.bigGroup {
		t.Errorf("GG-Big has %d members over SCIM, want %d", len(got), l.bigGroup)
	}
	for _, tc := range []struct {
		group string
		want  []string
	}{
		{"GG-Parent", []string{"GG-Child", "Given00001 Family00001"}},
		{"GG-Child", []string{"GG-Grandchild", "Given00002 Family00002", "Given00003 Family00003"}},
		{"GG-CycleA", []string{"GG-CycleB", "Given00005 Family00005"}},
		{"GG-CycleB", []string{"GG-CycleA", "Given00006 Family00006"}},
		{"GD-Newsletter", []string{"Given00007 Family00007", "Given00008 Family00008"}},
		{"GG-Empty", nil},
	} {
		if got := memberNames(tc.group); !slices.Equal(got, tc.want) {
			t.Errorf("%s members %v, want %v", tc.group, got, tc.want)
		}
	}

	// Nothing changed in the seed: an incremental run and a full run
	// leave its users alone. (Other test runs may be changing their own
	// scratch OUs in the same domain meanwhile, so run counts are not
	// compared here.)
	for _, mode := range []string{"", "full"} {
		again := e.sync(t, id, mode)
		want := map[string]string{"": "incremental", "full": "full"}[mode]
		if again["status"] != "succeeded" || again["mode"] != want || counts(again)["errors"] != 0 {
			t.Errorf("run (%s): %v", want, again)
		}
	}
	if u := e.scimOne(t, "Users", `userName eq "u00001@example.test"`); path(u, "meta", "version") != path(u1, "meta", "version") {
		t.Errorf("u00001 was rewritten by runs that found nothing new: %v -> %v", path(u1, "meta", "version"), path(u, "meta", "version"))
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
