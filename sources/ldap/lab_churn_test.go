package ldap

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// TestLabIncrementalChurn changes a directory the way people do (edits,
// disables, membership changes, an OU move with a rename, deletions) and
// checks that an incremental run brings exactly those changes, that a
// full run finds what left the scope, and that a run removing too much
// is held by the guard. It works in a scratch OU of its own.
func TestLabIncrementalChurn(t *testing.T) {
	l := needLab(t)
	c := l.admin(t)
	root := l.scratchOU(t, c, "churn")
	outside := l.scratchOU(t, c, "outside")
	tag := strings.TrimPrefix(strings.SplitN(root, ",", 2)[0], "OU=churn-")
	add(t, c, "OU=A,"+root, "organizationalUnit", nil)
	add(t, c, "OU=B,"+root, "organizationalUnit", nil)
	userDN := func(n int) string { return fmt.Sprintf("CN=c%d,OU=A,%s", n, root) }
	upn := func(name string) string { return fmt.Sprintf("%s-%s@churn.example.test", name, tag) }
	for n := 1; n <= 6; n++ {
		add(t, c, userDN(n), "user", map[string][]string{
			"sAMAccountName": {fmt.Sprintf("c%d-%s", n, tag)}, "userPrincipalName": {upn(fmt.Sprintf("c%d", n))},
			"givenName": {fmt.Sprintf("C%d", n)}, "sn": {"Churn"}, "title": {"Engineer"}, "userAccountControl": {"512"},
		})
	}
	groupDN := func(n int) string { return fmt.Sprintf("CN=CG-%d,OU=A,%s", n, root) }
	group := func(n int, members ...string) {
		add(t, c, groupDN(n), "group", map[string][]string{"sAMAccountName": {fmt.Sprintf("CG-%d-%s", n, tag)}, "member": members})
	}
	group(1, userDN(1), userDN(2), userDN(3))
	group(2, groupDN(1), userDN(4))
	group(3, userDN(5))

	e := newAPIEnv(t)
	id := e.createSource(t, "churn", map[string]any{
		"url": l.url, "bindDN": l.bindDN, "bindPassword": l.password, "baseDN": root, "caFile": l.ca,
	}, map[string]any{"policy": "deactivate", "maxPercent": 30})
	first := e.sync(t, id, "")
	wantCounts(t, "first run", first, "full", map[string]int{"fetched": 9, "created": 9})
	user := func(name string) map[string]any {
		return e.scimOne(t, "Users", fmt.Sprintf(`userName eq "%s"`, upn(name)))
	}
	c3Before := user("c3")

	// The changes.
	modify(t, c, userDN(1), func(m *goldap.ModifyRequest) { m.Replace("title", []string{"Principal"}) })
	modify(t, c, userDN(2), func(m *goldap.ModifyRequest) { m.Replace("userAccountControl", []string{"514"}) })
	if err := c.ModifyDN(goldap.NewModifyDNRequest(userDN(3), "CN=c3-renamed", true, "OU=B,"+root)); err != nil {
		t.Fatal(err)
	}
	modify(t, c, "CN=c3-renamed,OU=B,"+root, func(m *goldap.ModifyRequest) { m.Replace("userPrincipalName", []string{upn("c3-renamed")}) })
	modify(t, c, groupDN(1), func(m *goldap.ModifyRequest) {
		m.Delete("member", []string{userDN(1)})
		m.Add("member", []string{userDN(4)})
	})
	modify(t, c, userDN(6), func(m *goldap.ModifyRequest) { m.Replace("accountExpires", []string{"130000000000000000"}) })
	for _, dn := range []string{userDN(5), groupDN(3)} {
		if err := c.Del(goldap.NewDelRequest(dn, nil)); err != nil {
			t.Fatal(err)
		}
	}

	inc := e.sync(t, id, "")
	wantCounts(t, "incremental run", inc, "incremental", map[string]int{"fetched": 5, "updated": 5, "deactivated": 1, "deleted": 1})
	for _, tc := range []struct {
		user, field string
		want        any
	}{
		{"c1", "title", "Principal"},
		{"c2", "active", false},
		{"c4", "active", true},
		{"c6", "active", false}, // accountExpires in the past
	} {
		if got := user(tc.user)[tc.field]; got != tc.want {
			t.Errorf("%s %s = %v, want %v", tc.user, tc.field, got, tc.want)
		}
	}
	// The move and rename kept the identity: same id, new userName, no copy.
	c3 := user("c3-renamed")
	if c3["id"] != c3Before["id"] || c3["externalId"] != c3Before["externalId"] {
		t.Errorf("c3 after the move: %v, before %v", c3, c3Before)
	}
	if _, n := e.scimList(t, "Users", fmt.Sprintf(`userName eq "%s"`, upn("c3"))); n != 0 {
		t.Error("the old userName of c3 is still there")
	}
	if _, n := e.scimList(t, "Users", fmt.Sprintf(`externalId eq "%s"`, c3Before["externalId"])); n != 1 {
		t.Errorf("%d users with c3's objectGUID", n)
	}
	if u := user("c5"); u["active"] != false {
		t.Errorf("deleted c5 is still active: %v", u)
	}
	cg1 := e.scimOne(t, "Groups", fmt.Sprintf(`displayName eq "CG-1-%s"`, tag))
	var members []string
	for _, m := range asList(cg1["members"]) {
		members = append(members, fmt.Sprint(path(m.(map[string]any), "value")))
	}
	want := []string{fmt.Sprint(user("c2")["id"]), fmt.Sprint(c3["id"]), fmt.Sprint(user("c4")["id"])}
	slices.Sort(members)
	slices.Sort(want)
	if !slices.Equal(members, want) {
		t.Errorf("CG-1 members %v, want c2, c3, c4 %v", members, want)
	}
	if _, n := e.scimList(t, "Groups", fmt.Sprintf(`displayName eq "CG-3-%s"`, tag)); n != 0 {
		t.Error("deleted group CG-3 is still there")
	}

	// Moving c4 out of the base DN is invisible to an incremental run; the
	// full run that the reconcile interval (or an admin) starts finds it.
	if err := c.ModifyDN(goldap.NewModifyDNRequest(userDN(4), "CN=c4", true, outside)); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "incremental run after a move out", e.sync(t, id, ""), "incremental", map[string]int{})
	if user("c4")["active"] != true {
		t.Error("c4 deactivated by an incremental run")
	}
	full := e.sync(t, id, "full") // c1, c2, c3, c6, CG-1, CG-2 remain
	wantCounts(t, "full run", full, "full", map[string]int{"fetched": 6, "unchanged": 6, "deactivated": 1})
	if user("c4")["active"] != false {
		t.Error("c4 left the base DN but is still active after a full run")
	}

	// Deleting 3 of the 8 objects is more than the 30% guard: held.
	for _, dn := range []string{userDN(1), userDN(2), "CN=c3-renamed,OU=B," + root} {
		if err := c.Del(goldap.NewDelRequest(dn, nil)); err != nil {
			t.Fatal(err)
		}
	}
	held := e.sync(t, id, "")
	if held["status"] != "held" || counts(held)["pending"] != 3 {
		t.Fatalf("run deleting 3 of 8: %v", held)
	}
	if user("c1")["active"] != true {
		t.Error("a held run deactivated c1")
	}
	approved := e.call(t, "POST", "/api/v1/sources/"+id+"/runs/"+held["id"].(string)+"/approve", e.admin, nil, http.StatusOK)
	if counts(approved)["deactivated"] != 3 || user("c1")["active"] != false {
		t.Errorf("approved: %v", approved)
	}
}

// wantCounts checks a run's status, mode and counts (absent ones are 0).
func wantCounts(t *testing.T, what string, run map[string]any, mode string, want map[string]int) {
	t.Helper()
	if run["status"] != "succeeded" || run["mode"] != mode {
		t.Fatalf("%s: %v, want a succeeded %s run", what, run, mode)
	}
	got := counts(run)
	for _, k := range []string{"fetched", "created", "updated", "unchanged", "deactivated", "deleted", "conflicts", "errors"} {
		if got[k] != want[k] {
			t.Errorf("%s: %s = %d, want %d (all: %v)", what, k, got[k], want[k], got)
		}
	}
}
