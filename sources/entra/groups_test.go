package entra_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
)

func TestGroupOf20000MembersIsMergedAcrossPages(t *testing.T) {
	tn := newTenant(t, graphtest.Options{MemberBudget: 1000, UserPageSize: 999})
	seed := tn.Seed(graphtest.SeedOptions{Users: 21000, Groups: 0})
	big := tn.AddGroup(graphtest.Group{DisplayName: "Everyone", Members: seed.Users[:20000]})
	small := tn.AddGroup(graphtest.Group{DisplayName: "Few", Members: seed.Users[:3]})
	src := tn.open(t, tn.config())
	rec, first := mustSync(t, src, nil)
	want := slices.Clone(seed.Users[:20000])
	slices.Sort(want)
	if g := rec.GroupsByKey()[big]; !g.MembersComplete || !reflect.DeepEqual(g.Members, want) {
		t.Fatalf("big group has %d members (complete=%v), want 20000", len(g.Members), g.MembersComplete)
	}
	if len(rec.GroupsByKey()[small].Members) != 3 {
		t.Errorf("small group = %v", rec.GroupsByKey()[small].Members)
	}
	if pages := tn.GraphRequests("/groups/delta"); pages < 20 {
		t.Errorf("the group came in %d pages; the emulator should have split it", pages)
	}
	// 1,000 join and 1,500 leave: the changes are split over pages too.
	tn.AddMembers(big, seed.Users[20000:21000]...)
	tn.RemoveMembers(big, seed.Users[:1500]...)
	rec, _ = mustSync(t, src, first.Cursor)
	g := rec.GroupsByKey()[big]
	if len(g.AddMembers) != 1000 || len(g.RemoveMembers) != 1500 || g.MembersComplete || g.Attrs["displayName"] != "Everyone" {
		t.Errorf("change: +%d -%d complete=%v attrs=%v", len(g.AddMembers), len(g.RemoveMembers), g.MembersComplete, g.Attrs)
	}
	if _, ok := rec.GroupsByKey()[small]; ok {
		t.Errorf("an unchanged group was sent")
	}
}

func TestScopeGroupsLimitUsersToTransitiveMembers(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	u := make([]string, 6)
	for i := range u {
		u[i] = tn.AddUser(graphtest.User{UserPrincipalName: upn(i)})
	}
	inner := tn.AddGroup(graphtest.Group{DisplayName: "Inner", Members: []string{u[2]}})
	root := tn.AddGroup(graphtest.Group{DisplayName: "Root", Members: []string{u[0], u[1], inner}})
	tn.AddMembers(inner, root) // a cycle must not loop
	other := tn.AddGroup(graphtest.Group{DisplayName: "Other", Members: []string{u[3], u[4]}})
	cfg := tn.config()
	cfg.ScopeGroups = []string{strings.ToUpper(root)}
	src := tn.open(t, cfg)
	rec, first := mustSync(t, src, nil)
	if got := slices.Sorted(mapsKeys(rec.UsersByKey())); !reflect.DeepEqual(got, sorted(u[0], u[1], u[2])) {
		t.Errorf("users = %v", got)
	}
	if got := slices.Sorted(mapsKeys(rec.GroupsByKey())); !reflect.DeepEqual(got, sorted(root, inner)) {
		t.Errorf("groups = %v", got)
	}

	// An attribute change inside the scope stays incremental; one outside
	// is not sent.
	tn.UpdateUser(u[1], map[string]any{"jobTitle": "Lead"})
	tn.UpdateUser(u[3], map[string]any{"jobTitle": "Lead"})
	tn.AddMembers(other, u[5])
	rec, second := mustSync(t, src, first.Cursor)
	if second.Complete || len(rec.UsersByKey()) != 1 || rec.UsersByKey()[u[1]].Attrs["jobTitle"] != "Lead" || len(rec.GroupsByKey()) != 0 {
		t.Errorf("complete=%v users=%v groups=%v", second.Complete, rec.UsersByKey(), rec.GroupsByKey())
	}

	// A user added to a scope group joins the scope incrementally: the
	// round reads that user's whole record and sends the membership.
	before := tn.GraphRequests("")
	tn.AddMembers(inner, u[5])
	rec, joined := mustSync(t, src, second.Cursor)
	if joined.Complete || len(joined.Notes) != 0 {
		t.Fatalf("a joiner made the run complete=%v notes=%v", joined.Complete, joined.Notes)
	}
	if got := rec.UsersByKey()[u[5]]; len(rec.UsersByKey()) != 1 || got.Attrs["userPrincipalName"] != upn(5) {
		t.Errorf("users sent for the joiner = %v", rec.UsersByKey())
	}
	if g := rec.GroupsByKey()[inner]; len(rec.GroupsByKey()) != 1 || !reflect.DeepEqual(g.AddMembers, []string{u[5]}) || len(g.RemoveMembers) != 0 {
		t.Errorf("groups sent for the joiner = %+v", rec.GroupsByKey())
	}
	if n := tn.GraphRequests("") - before; n != 3 {
		t.Errorf("joining took %d Graph requests, want 3 (groups, users, the joiner's record)", n)
	}
	// The joiner stays in scope for later rounds.
	tn.UpdateUser(u[5], map[string]any{"jobTitle": "Lead"})
	rec, later := mustSync(t, src, joined.Cursor)
	if later.Complete || rec.UsersByKey()[u[5]].Attrs["jobTitle"] != "Lead" {
		t.Errorf("after joining: complete=%v users=%v", later.Complete, rec.UsersByKey())
	}

	// A member leaving a scope group may still be in scope through another
	// (or not): a full resync works it out, told in the run.
	tn.AddMembers(inner, u[4])
	tn.RemoveMembers(root, u[0])
	rec, third := mustSync(t, src, later.Cursor)
	if !third.Complete || !reflect.DeepEqual(third.Notes, []string{"membership of the scope groups changed: full resync"}) {
		t.Fatalf("result = %+v", third)
	}
	if got := slices.Sorted(mapsKeys(rec.UsersByKey())); !reflect.DeepEqual(got, sorted(u[1], u[2], u[4], u[5])) {
		t.Errorf("users after the move = %v", got)
	}

	// Changing scopeGroups itself restarts from scratch.
	cfg.ScopeGroups = []string{other}
	_, res := mustSync(t, tn.open(t, cfg), third.Cursor)
	if !res.Complete || !reflect.DeepEqual(res.Notes, []string{"scopeGroups changed: full resync"}) {
		t.Errorf("result = %+v", res)
	}
}

func TestScopeGroupThatDoesNotExistFailsTheRun(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	tn.AddUser(graphtest.User{UserPrincipalName: "a@contoso.example"})
	cfg := tn.config()
	cfg.ScopeGroups = []string{"77777777-7777-4777-8777-777777777777"}
	_, _, err := syncOnce(t, tn.open(t, cfg), nil)
	if err == nil || !strings.Contains(err.Error(), "scope group 77777777-7777-4777-8777-777777777777 was not found") {
		t.Fatalf("err = %v", err)
	}
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func TestLinksToAnotherHostAreNotFollowed(t *testing.T) {
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"t"}`)
			return
		}
		fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"http://198.51.100.7/v1.0/groups/delta?$skiptoken=x"}`)
	}))
	defer srv.Close()
	base = srv.URL
	cfg := &entra.Config{TenantID: "contoso.onmicrosoft.com", ClientID: "11111111-1111-4111-8111-111111111111",
		ClientSecret: "s", LoginURL: base, GraphURL: base}
	_, _, err := syncOnce(t, open(t, cfg), nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to follow a link to http://198.51.100.7") {
		t.Fatalf("err = %v", err)
	}
}
