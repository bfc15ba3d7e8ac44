package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// directoryFixture is a csv source "hr" synced twice (user1's title
// changed in the second run) with a group of users 1 to 3, and a user a
// push client wrote through /scim/v2.
type directoryFixture struct {
	sourceID, firstRun, secondRun string
	user0, user1, pushed, group   string
}

func newDirectoryFixture(t *testing.T, e *apiEnv) directoryFixture {
	t.Helper()
	users := e.writeFile(t, "users.csv", usersCSV(0, 6, engineer))
	groups := e.writeFile(t, "groups.csv", "externalId,displayName,members\ng1,Engineering,1;2;3\ng2,Everyone,0;1;2;3;4;5\n")
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users, "groupsPath": groups},
	}).want(t, 201)
	f := directoryFixture{sourceID: src.str("id")}
	f.firstRun = e.sync(t, f.sourceID, "").str("id")
	e.writeFile(t, "users.csv", usersCSV(0, 6, func(i int) string {
		if i == 1 {
			return "Staff Engineer"
		}
		return "Engineer"
	}))
	second := e.sync(t, f.sourceID, "")
	if second.str("status") != "succeeded" || second.num("counts", "updated") != 1 {
		t.Fatalf("second run: %s", second.Raw)
	}
	f.secondRun = second.str("id")
	f.user0 = scimID(t, e, "Users", `userName eq "user0@example.com"`)
	f.user1 = scimID(t, e, "Users", `userName eq "user1@example.com"`)
	f.group = scimID(t, e, "Groups", `displayName eq "Engineering"`)
	f.pushed = e.call(t, "POST", "/scim/v2/Users", e.Writer, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "pushed@example.com",
	}).want(t, 201).str("id")
	return f
}

// scimID is the id of the one resource filter finds, read with the reader token.
func scimID(t *testing.T, e *apiEnv, resource, filter string) string {
	t.Helper()
	r := e.call(t, "GET", "/scim/v2/"+resource+"?filter="+url.QueryEscape(filter), e.Reader, nil).want(t, 200)
	list, _ := r.Body["Resources"].([]any)
	if len(list) != 1 {
		t.Fatalf("%s %s: %d results, want 1: %s", resource, filter, len(list), r.Raw)
	}
	return list[0].(map[string]any)["id"].(string)
}

func TestDirectoryUserAPI(t *testing.T) { forEachAPIStore(t, testDirectoryUserAPI) }

func testDirectoryUserAPI(t *testing.T, e *apiEnv) {
	f := newDirectoryFixture(t, e)

	u := e.call(t, "GET", "/api/v1/users/"+f.user1, e.Admin, nil).want(t, 200)
	if u.str("id") != f.user1 || u.str("userName") != "user1@example.com" || u.Body["active"] != true {
		t.Errorf("user: %s", u.Raw)
	}
	if u.str("owner", "kind") != "source" || u.str("owner", "id") != f.sourceID || u.str("owner", "name") != "hr" {
		t.Errorf("owner: %s", u.Raw)
	}
	if got := names(u.Body["groups"], "displayName"); strings.Join(got, ",") != "Engineering,Everyone" || u.num("groupCount") != 2 {
		t.Errorf("groups = %v (count %v), want Engineering,Everyone: %s", got, u.num("groupCount"), u.Raw)
	}
	changes, _ := u.Body["recentChanges"].([]any)
	if len(changes) != 2 {
		t.Fatalf("recentChanges: %d, want 2 (create, update): %s", len(changes), u.Raw)
	}
	for i, want := range []struct{ action, run string }{{"update", f.secondRun}, {"create", f.firstRun}} {
		c := changes[i].(map[string]any)
		if c["action"] != want.action || c["runId"] != want.run || c["sourceId"] != f.sourceID || c["runStatus"] != "succeeded" ||
			c["resourceId"] != f.user1 || c["name"] != "user1@example.com" || c["queued"] == "" {
			t.Errorf("change %d = %v, want %s in run %s", i, c, want.action, want.run)
		}
	}
	if after, _ := changes[0].(map[string]any)["after"].(map[string]any); after["title"] != "Staff Engineer" {
		t.Errorf("the update's after: %v", changes[0])
	}
	if one := e.call(t, "GET", "/api/v1/users/"+f.user1+"?changes=1", e.Admin, nil).want(t, 200); len(one.Body["recentChanges"].([]any)) != 1 {
		t.Errorf("?changes=1: %s", one.Raw)
	}

	p := e.call(t, "GET", "/api/v1/users/"+f.pushed, e.Admin, nil).want(t, 200)
	if p.str("owner", "kind") != "client" || p.str("owner", "name") != "push" || p.str("owner", "id") == "" ||
		len(p.Body["groups"].([]any)) != 0 || len(p.Body["recentChanges"].([]any)) != 0 {
		t.Errorf("pushed user: %s", p.Raw)
	}

	for _, tc := range []struct {
		path, token string
		status      int
		code        string
	}{
		{"/api/v1/users/no-such-user", e.Admin, 404, "not_found"},
		{"/api/v1/groups/no-such-group", e.Admin, 404, "not_found"},
		{"/api/v1/users/" + f.user1 + "?changes=many", e.Admin, 400, "bad_request"},
		{"/api/v1/groups/" + f.group + "?limit=-1", e.Admin, 400, "bad_request"},
		{"/api/v1/users", e.Admin, 400, "bad_request"},
		{"/api/v1/users/" + f.user1, "", 401, "unauthorized"},
		{"/api/v1/users/" + f.user1, e.Reader, 403, "forbidden"},
	} {
		e.call(t, "GET", tc.path, tc.token, nil).wantErr(t, tc.status, tc.code)
	}
}

func TestDirectoryGroupAPI(t *testing.T) { forEachAPIStore(t, testDirectoryGroupAPI) }

func testDirectoryGroupAPI(t *testing.T, e *apiEnv) {
	f := newDirectoryFixture(t, e)

	g := e.call(t, "GET", "/api/v1/groups/"+f.group+"?offset=1&limit=5", e.Admin, nil).want(t, 200)
	if g.str("displayName") != "Engineering" || g.num("memberCount") != 3 || g.str("owner", "name") != "hr" || g.str("owner", "kind") != "source" {
		t.Errorf("group: %s", g.Raw)
	}
	members := names(g.Body["members"], "display")
	if len(members) != 2 || members[0] == members[1] {
		t.Errorf("members from offset 1 = %v, want 2 of user1..3: %s", members, g.Raw)
	}
	for _, m := range members {
		if m != "user1@example.com" && m != "user2@example.com" && m != "user3@example.com" {
			t.Errorf("member %q is not in the group", m)
		}
	}
	if changes, _ := g.Body["recentChanges"].([]any); len(changes) != 1 || changes[0].(map[string]any)["action"] != "create" {
		t.Errorf("group changes: %s", g.Raw)
	}
	if past := e.call(t, "GET", "/api/v1/groups/"+f.group+"?offset=10", e.Admin, nil).want(t, 200); len(past.Body["members"].([]any)) != 0 {
		t.Errorf("a page past the end: %s", past.Raw)
	}

	owned := e.call(t, "GET", "/api/v1/users?id="+f.user1+"&id="+f.pushed+"&id=nobody", e.Admin, nil).want(t, 200)
	byName := map[string]string{}
	for _, x := range owned.Body["users"].([]any) {
		m := x.(map[string]any)
		byName[m["name"].(string)] = m["owner"].(map[string]any)["kind"].(string) + ":" + m["owner"].(map[string]any)["name"].(string)
	}
	if len(byName) != 2 || byName["user1@example.com"] != "source:hr" || byName["pushed@example.com"] != "client:push" {
		t.Errorf("owners of users = %v: %s", byName, owned.Raw)
	}
	groups := e.call(t, "GET", "/api/v1/groups?id="+f.group, e.Admin, nil).want(t, 200)
	if got := names(groups.Body["groups"], "name"); len(got) != 1 || got[0] != "Engineering" {
		t.Errorf("owners of groups: %s", groups.Raw)
	}
	many := "/api/v1/users?id=" + strings.Repeat("x&id=", 200) + "x"
	e.call(t, "GET", many, e.Admin, nil).wantErr(t, 400, "bad_request")
}

// names collects field of each object in a JSON array.
func names(list any, field string) []string {
	var out []string
	items, _ := list.([]any)
	for _, x := range items {
		m, _ := x.(map[string]any)
		s, _ := m[field].(string)
		out = append(out, s)
	}
	return out
}

// exerciseDirectory drives the directory operations for the OpenAPI
// test, with source hr's users and its group Engineering in place.
func exerciseDirectory(t *testing.T, o *oasClient, admin string) {
	t.Helper()
	user := scimID(t, o.env, "Users", `userName eq "user1@example.com"`)
	group := scimID(t, o.env, "Groups", `displayName eq "Engineering"`)
	o.do(t, "GET", "/api/v1/users/"+user+"?changes=5", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/users/nobody", admin, nil, validRequest).wantErr(t, 404, "not_found")
	o.do(t, "GET", "/api/v1/groups/"+group+"?offset=0&limit=2", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/users?id="+user+"&id=nobody", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/groups?id="+group, admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/users", admin, nil, invalidRequest).wantErr(t, 400, "bad_request")
	// A plain source's user: one contribution, nothing to split off
	// (TestLinkedProvenanceAndUnlink has the linked answers).
	o.do(t, "GET", "/api/v1/users/"+user+"/provenance", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/users/nobody/provenance", admin, nil, validRequest).wantErr(t, 404, "not_found")
	o.do(t, "POST", "/api/v1/users/"+user+"/unlink", admin, map[string]any{"source": "hr"}, validRequest).wantErr(t, 409, "conflict")
	o.do(t, "POST", "/api/v1/users/"+user+"/unlink", admin, map[string]any{"source": "nope"}, validRequest).wantErr(t, 404, "not_found")
	o.do(t, "POST", "/api/v1/users/"+user+"/unlink", admin, `{"source": 3}`, invalidRequest).wantErr(t, 400, "bad_request")
}

// TestDirectoryUserAPIPushChanges: a push run's entries about the user
// are among its recent changes, by time, with the app instead of a source.
func TestDirectoryUserAPIPushChanges(t *testing.T) {
	forEachAPIStore(t, testDirectoryUserAPIPushChanges)
}

func testDirectoryUserAPIPushChanges(t *testing.T, e *apiEnv) {
	f := newDirectoryFixture(t, e)
	app := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm"}).want(t, 201).str("id")
	// What a push engine writes: a run of the app and its change log.
	runs := e.Store.PushRuns()
	run, err := runs.CreateRun(t.Context(), storage.Run{SourceID: app, Status: storage.RunSucceeded, Trigger: "manual", Queued: e.Store.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := runs.AddChanges(t.Context(), run.ID, []storage.Change{{Seq: 1, Action: storage.ChangeCreate, Kind: "User", ResourceID: f.user1, Key: "t-1", Name: "user1@example.com"}}); err != nil {
		t.Fatal(err)
	}
	u := e.call(t, "GET", "/api/v1/users/"+f.user1, e.Admin, nil).want(t, 200)
	changes, _ := u.Body["recentChanges"].([]any)
	if len(changes) != 3 {
		t.Fatalf("recentChanges: %s", u.Raw)
	}
	first := changes[0].(map[string]any)
	if first["appId"] != app || first["runId"] != run.ID || first["sourceId"] != nil || first["action"] != "create" {
		t.Errorf("newest change = %v, want the push run's", first)
	}
	if second := changes[1].(map[string]any); second["runId"] != f.secondRun || second["appId"] != nil {
		t.Errorf("second change = %v, want the second sync's", second)
	}
	if two := e.call(t, "GET", "/api/v1/users/"+f.user1+"?changes=2", e.Admin, nil).want(t, 200); len(two.Body["recentChanges"].([]any)) != 2 {
		t.Errorf("?changes=2 over both logs: %s", two.Raw)
	}
}
