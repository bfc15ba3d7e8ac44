package entra_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
)

func TestFullSyncReadsEveryMappedAttribute(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	boss := tn.AddUser(graphtest.User{UserPrincipalName: "boss@contoso.example", DisplayName: "Boss"})
	ann := tn.AddUser(graphtest.User{
		UserPrincipalName: "ann@contoso.example", DisplayName: "Ann Lee", GivenName: "Ann", Surname: "Lee",
		Mail: "ann.lee@contoso.example", JobTitle: "Engineer", Department: "R&D", EmployeeID: "E1",
		CompanyName: "Contoso", MobilePhone: "+1 555 0100", BusinessPhones: []string{"+1 555 0199", "+1 555 0198"},
		PreferredLanguage: "en-US", OnPremisesImmutableID: "b64guid==", Manager: boss, Disabled: true,
		Extra: map[string]any{"onPremisesExtensionAttributes": map[string]string{"extensionAttribute3": "cc-42"}, "city": "Oslo"},
	})
	sales := tn.AddGroup(graphtest.Group{DisplayName: "Sales", Description: "Sellers", Members: []string{ann, boss}})
	cfg := tn.config()
	cfg.ExtraAttributes = []string{"city", "onPremisesExtensionAttributes"}
	rec, res := mustSync(t, tn.open(t, cfg), nil)
	if !res.Complete || len(res.Cursor) == 0 || len(res.Notes) != 0 {
		t.Fatalf("result = %+v", res)
	}
	got := rec.UsersByKey()[ann].Attrs
	want := map[string]string{
		"id": ann, "userPrincipalName": "ann@contoso.example", "displayName": "Ann Lee", "givenName": "Ann", "surname": "Lee",
		"mail": "ann.lee@contoso.example", "jobTitle": "Engineer", "department": "R&D", "employeeId": "E1",
		"companyName": "Contoso", "mobilePhone": "+1 555 0100", "businessPhones": "+1 555 0199", "preferredLanguage": "en-US",
		"onPremisesImmutableId": "b64guid==", "accountEnabled": "false", "active": "false", "manager": boss, "city": "Oslo",
		"onPremisesExtensionAttributes.extensionAttribute3": "cc-42",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attrs:\n got %v\nwant %v", got, want)
	}
	if rec.UsersByKey()[boss].Attrs["manager"] != "" || rec.UsersByKey()[boss].Attrs["active"] != "true" {
		t.Errorf("boss = %v", rec.UsersByKey()[boss].Attrs)
	}
	g := rec.GroupsByKey()[sales]
	wantMembers := []string{ann, boss}
	slices.Sort(wantMembers)
	if !g.MembersComplete || !reflect.DeepEqual(g.Members, wantMembers) || g.Attrs["displayName"] != "Sales" || g.Attrs["description"] != "Sellers" {
		t.Errorf("group = %+v", g)
	}
	order := slices.DeleteFunc(slices.Clone(rec.Calls), func(call string) bool { return call != "users" && call != "groups" })
	if order[0] != "users" || order[len(order)-1] != "groups" {
		t.Errorf("users must come before groups: %v", order)
	}
	// The select list is explicit: accountEnabled and friends are not in
	// Graph's default set.
	var first graphtest.Request
	for _, r := range tn.Requests() {
		if r.Path == "/v1.0/users/delta" {
			first = r
			break
		}
	}
	for _, p := range []string{"accountEnabled", "employeeId", "department", "onPremisesImmutableId", "manager"} {
		if !strings.Contains(first.Query, p) {
			t.Errorf("first users request %q does not select %s", first.Query, p)
		}
	}
	var cur map[string]any
	if err := json.Unmarshal(res.Cursor, &cur); err != nil || !strings.Contains(cur["users"].(string), "/v1.0/users/delta?$deltatoken=") {
		t.Errorf("cursor = %s", res.Cursor)
	}
}

func TestIncrementalSendsOnlyTheChanges(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	seed := tn.Seed(graphtest.SeedOptions{Users: 300, Groups: 10})
	src := tn.open(t, tn.config())
	_, first := mustSync(t, src, nil)

	u := seed.Users
	tn.DisableUser(u[1])
	tn.UpdateUser(u[2], map[string]any{"department": "Finance", "jobTitle": nil})
	tn.SetManager(u[3], u[200])
	tn.DeleteUser(u[4])                     // soft: recycle bin
	tn.PurgeUser(u[5])                      // permanent
	tn.RemoveMembers(seed.Groups[0], u[10]) // u[10] is in group 0
	tn.AddMembers(seed.Groups[1], u[10])
	tn.UpdateUser(u[6], map[string]any{"officeLocation": "B2"}) // selected, so tracked
	fresh := tn.AddUser(graphtest.User{UserPrincipalName: "new@contoso.example", Manager: u[0]})
	before := tn.GraphRequests("")

	rec, res := mustSync(t, src, first.Cursor)
	if res.Complete || len(res.Cursor) == 0 {
		t.Fatalf("result = %+v", res)
	}
	changed := slices.Sorted(mapsKeys(rec.UsersByKey()))
	want := []string{u[1], u[2], u[3], u[6], fresh}
	slices.Sort(want)
	if !reflect.DeepEqual(changed, want) {
		t.Fatalf("changed users = %v, want %v", changed, want)
	}
	// Every record is whole: unchanged properties and the manager too.
	if a := rec.UsersByKey()[u[1]].Attrs; a["active"] != "false" || a["userPrincipalName"] != upn(1) || a["manager"] != u[0] {
		t.Errorf("disabled user = %v", a)
	}
	if a := rec.UsersByKey()[u[2]].Attrs; a["department"] != "Finance" || a["jobTitle"] != "" || a["manager"] != u[0] || a["mail"] != upn(2) {
		t.Errorf("moved user = %v", a)
	}
	if a := rec.UsersByKey()[u[3]].Attrs; a["manager"] != u[200] {
		t.Errorf("new manager = %v", a)
	}
	if a := rec.UsersByKey()[fresh].Attrs; a["manager"] != u[0] || a["active"] != "true" {
		t.Errorf("new user = %v", a)
	}
	wantDel := []sources.Deletion{{Kind: sources.KindUser, Key: u[4], Soft: true}, {Kind: sources.KindUser, Key: u[5]}}
	slices.SortFunc(wantDel, func(a, b sources.Deletion) int { return strings.Compare(a.Key, b.Key) })
	if !reflect.DeepEqual(rec.Got.Deletions, wantDel) {
		t.Errorf("deletions = %+v, want %+v", rec.Got.Deletions, wantDel)
	}
	for _, g := range rec.GroupsByKey() {
		if g.MembersComplete || g.Attrs["displayName"] == "" {
			t.Errorf("group change %+v: want additions/removals with its attributes", g)
		}
	}
	if g := rec.GroupsByKey()[seed.Groups[0]]; !slices.Contains(g.RemoveMembers, u[10]) {
		t.Errorf("group 0 = %+v", g)
	}
	if g := rec.GroupsByKey()[seed.Groups[1]]; !reflect.DeepEqual(g.AddMembers, []string{u[10]}) {
		t.Errorf("group 1 = %+v", g)
	}
	// Requests: one page of each round, plus one re-read of the changed
	// users whose manager did not come with them.
	if n := tn.GraphRequests("") - before; n != 3 {
		t.Errorf("incremental run made %d requests, want 3", n)
	}
	// Nothing changed: nothing sent.
	rec, _ = mustSync(t, src, res.Cursor)
	if len(rec.UsersByKey())+len(rec.GroupsByKey())+len(rec.Got.Deletions) != 0 {
		t.Errorf("idle run sent %d users, %d groups, %d deletions", len(rec.UsersByKey()), len(rec.GroupsByKey()), len(rec.Got.Deletions))
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
