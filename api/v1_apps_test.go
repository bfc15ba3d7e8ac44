package api_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

const enterpriseDepartment = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"

// appDirectory is a small directory: users u0..u5 owned by the "push"
// writer, u6 by a pull source, groups Sales > Sales-EU (nested) and Ops.
type appDirectory struct {
	users  map[string]storage.User // by userName
	groups map[string]storage.Group
	source storage.Source
}

func seedAppDirectory(t *testing.T, e *apiEnv) appDirectory {
	t.Helper()
	ctx := context.Background()
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "corp-ad", "kind": "csv", "enabled": false,
		"settings": map[string]any{"usersPath": e.writeFile(t, "users.csv", usersCSV(0, 1, engineer))},
	}).want(t, 201)
	d := appDirectory{users: map[string]storage.User{}, groups: map[string]storage.Group{}}
	var err error
	if d.source, err = e.Store.GetSource(ctx, src.str("id")); err != nil {
		t.Fatal(err)
	}
	titles := []string{"Account Manager", "Account Executive", "Engineer", "Engineer", "Account Lead", "Engineer", "Account Manager"}
	for i, title := range titles {
		owner := "scim:push"
		if i == 6 {
			owner = d.source.Owner()
		}
		u, err := e.Store.CreateUser(ctx, storage.User{Owner: owner, UserName: fmt.Sprintf("u%d", i), DisplayName: fmt.Sprintf("User %d", i),
			Title: title, Active: i != 4})
		if err != nil {
			t.Fatal(err)
		}
		d.users[u.UserName] = u
	}
	member := func(names ...string) []storage.Member {
		var out []storage.Member
		for _, n := range names {
			if u, ok := d.users[n]; ok {
				out = append(out, storage.Member{Value: u.ID, Type: storage.MemberUser})
			} else {
				out = append(out, storage.Member{Value: d.groups[n].ID, Type: storage.MemberGroup})
			}
		}
		return out
	}
	for _, g := range []struct {
		name    string
		members []string
	}{{"Sales-EU", []string{"u1", "u4"}}, {"Sales", []string{"u0", "u2", "Sales-EU"}}, {"Ops", []string{"u3", "u5"}}} {
		created, err := e.Store.CreateGroup(ctx, storage.Group{Owner: "scim:push", DisplayName: g.name, Members: member(g.members...)})
		if err != nil {
			t.Fatal(err)
		}
		d.groups[g.name] = created
	}
	return d
}

// forEachAPIStore runs fn with a config API env on SQLite and, when
// SCIMGATE_TEST_POSTGRES is set, on PostgreSQL.
func forEachAPIStore(t *testing.T, fn func(t *testing.T, e *apiEnv)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newAPIEnv(t)) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(pgtest.EnvDSN) == "" {
			t.Skip(pgtest.EnvDSN + " is not set")
		}
		fn(t, newAPIEnvOn(t, pgtest.FreshSchema(t)))
	})
}

func strList(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestAppsCRUD(t *testing.T) { forEachAPIStore(t, testAppsCRUD) }

func testAppsCRUD(t *testing.T, e *apiEnv) {
	d := seedAppDirectory(t, e)

	// Defaults: every user, groups "scope", inactive users included.
	all := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "everything"}).want(t, 201)
	if all.str("groups") != "scope" || all.Body["flattenGroups"] != false || all.num("leaveGraceDays") != 0 ||
		all.Body["scope"].(map[string]any)["includeInactive"] != true || len(strList(all.Body["attributes"])) != 0 ||
		all.num("version") != 1 || all.str("createdAt") == "" || all.str("updatedAt") == "" || all.str("id") == "" {
		t.Fatalf("defaults: %s", all.Raw)
	}
	if all.num("counts", "users") != 7 {
		t.Errorf("counts of an unscoped app: %s", all.Raw)
	}

	crm := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{
		"name": "crm", "description": "Sales CRM",
		"scope": map[string]any{"groups": []string{"Sales", "no-such-group"}, "filter": `title sw "Account"`,
			"sources": []string{"push"}, "includeInactive": false},
		"groups": "all", "flattenGroups": true, "leaveGraceDays": 7,
		"attributes": []string{"userName", "name", "emails", "active", "title", enterpriseDepartment},
	}).want(t, 201)
	id := crm.str("id")
	scope, _ := crm.Body["scope"].(map[string]any)
	if crm.str("description") != "Sales CRM" || crm.str("groups") != "all" || crm.Body["flattenGroups"] != true ||
		crm.num("leaveGraceDays") != 7 || scope["filter"] != `title sw "Account"` || scope["includeInactive"] != false ||
		!slices.Equal(strList(scope["groups"]), []string{"Sales", "no-such-group"}) || !slices.Equal(strList(scope["sources"]), []string{"push"}) ||
		len(strList(crm.Body["attributes"])) != 6 {
		t.Fatalf("created: %s", crm.Raw)
	}
	// Sales (u0, u2) and Sales-EU (u1, u4): u0, u1 match the filter, u4
	// is inactive, u2 an engineer. The missing group is only a warning.
	if crm.num("counts", "users") != 2 {
		t.Errorf("crm counts: %s", crm.Raw)
	}
	if w := strList(crm.Body["warnings"]); len(w) != 1 || !strings.Contains(w[0], "no-such-group") {
		t.Errorf("warnings: %s", crm.Raw)
	}
	stored, err := e.Store.GetApp(context.Background(), id)
	if err != nil || !slices.Equal(stored.Scope.Owners, []string{"scim:push"}) || stored.Scope.FilterExpr == nil {
		t.Errorf("stored scope: %+v, %v", stored.Scope, err)
	}

	// By id and by name (case-insensitively); the list is by name.
	for _, ref := range []string{id, "crm", "CRM"} {
		if got := e.call(t, "GET", "/api/v1/apps/"+ref, e.Admin, nil).want(t, 200); got.str("id") != id {
			t.Errorf("GET %s: %s", ref, got.Raw)
		}
	}
	list := e.call(t, "GET", "/api/v1/apps", e.Admin, nil).want(t, 200)
	if apps, _ := list.Body["apps"].([]any); len(apps) != 2 || apps[0].(map[string]any)["name"] != "crm" {
		t.Errorf("list: %s", list.Raw)
	}
	conflict := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "CRM"}).wantErr(t, 409, "conflict")
	if !strings.Contains(conflict["message"].(string), "CRM") {
		t.Errorf("conflict: %v", conflict)
	}

	// PATCH changes only what it carries; scope merges field by field.
	patched := e.call(t, "PATCH", "/api/v1/apps/crm", e.Admin, map[string]any{
		"scope": map[string]any{"filter": `title sw "Account M"`}, "leaveGraceDays": 30,
	}).want(t, 200)
	scope, _ = patched.Body["scope"].(map[string]any)
	if patched.num("version") != 2 || patched.num("leaveGraceDays") != 30 || scope["filter"] != `title sw "Account M"` ||
		!slices.Equal(strList(scope["groups"]), []string{"Sales", "no-such-group"}) || scope["includeInactive"] != false ||
		patched.str("groups") != "all" || patched.str("description") != "Sales CRM" || !slices.Equal(strList(scope["sources"]), []string{"push"}) {
		t.Fatalf("patched: %s", patched.Raw)
	}
	if patched.num("counts", "users") != 1 {
		t.Errorf("after the patch only u0 is in view: %s", patched.Raw)
	}

	// PUT replaces: what it does not carry takes its default.
	replaced := e.call(t, "PUT", "/api/v1/apps/"+id, e.Admin, map[string]any{
		"name": "crm", "scope": map[string]any{"groups": []string{d.groups["Ops"].ID}},
	}).want(t, 200)
	scope, _ = replaced.Body["scope"].(map[string]any)
	if replaced.num("version") != 3 || replaced.str("description") != "" || replaced.str("groups") != "scope" ||
		replaced.Body["flattenGroups"] != false || replaced.num("leaveGraceDays") != 0 || len(strList(replaced.Body["attributes"])) != 0 ||
		scope["filter"] != "" || len(strList(scope["sources"])) != 0 || scope["includeInactive"] != true || replaced.Body["warnings"] != nil {
		t.Fatalf("replaced: %s", replaced.Raw)
	}
	if replaced.num("counts", "users") != 2 || replaced.num("counts", "groups") != 1 {
		t.Errorf("Ops holds u3 and u5: %s", replaced.Raw)
	}
	stored, _ = e.Store.GetApp(context.Background(), id)
	if stored.Scope.FilterExpr != nil || stored.Scope.Owners != nil {
		t.Errorf("PUT kept the parsed filter or owners: %+v", stored.Scope)
	}
	// A source named by name resolves to its owner tag.
	e.call(t, "PATCH", "/api/v1/apps/"+id, e.Admin, map[string]any{"scope": map[string]any{"sources": []string{"CORP-AD"}, "groups": []string{}}}).want(t, 200)
	if stored, _ = e.Store.GetApp(context.Background(), id); !slices.Equal(stored.Scope.Owners, []string{d.source.Owner()}) || stored.Scope.Groups != nil {
		t.Errorf("sources by name: %+v", stored.Scope)
	}
	e.call(t, "PATCH", "/api/v1/apps/nope", e.Admin, map[string]any{"description": "x"}).wantErr(t, 404, "not_found")
	e.call(t, "PUT", "/api/v1/apps/"+id, e.Admin, map[string]any{"name": "everything"}).wantErr(t, 409, "conflict")

	e.call(t, "DELETE", "/api/v1/apps/crm", e.Admin, nil).want(t, 204)
	e.call(t, "GET", "/api/v1/apps/"+id, e.Admin, nil).wantErr(t, 404, "not_found")
	e.call(t, "DELETE", "/api/v1/apps/crm", e.Admin, nil).wantErr(t, 404, "not_found")

	// Every change is audited, by the admin who made it.
	audit := e.call(t, "GET", "/api/v1/audit?limit=100", e.Admin, nil).want(t, 200)
	var got []string
	for _, x := range audit.Body["entries"].([]any) {
		m := x.(map[string]any)
		if action, _ := m["action"].(string); strings.HasPrefix(action, "app.") && m["target"] == id {
			if m["actor"] != "ops" {
				t.Errorf("audit actor: %v", m)
			}
			got = append(got, action+" "+m["detail"].(string))
		}
	}
	slices.Reverse(got) // newest first
	want := []string{"app.create name=crm", "app.patch fields=scope.filter,leaveGraceDays", "app.replace fields=name,scope.groups",
		"app.patch fields=scope.groups,scope.sources", "app.delete name=crm tokensRevoked="}
	if !slices.Equal(got, want) {
		t.Errorf("audit:\n got %q\nwant %q", got, want)
	}
}

func TestAppsValidation(t *testing.T) { forEachAPIStore(t, testAppsValidation) }

func testAppsValidation(t *testing.T, e *apiEnv) {
	seedAppDirectory(t, e)
	e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "taken"}).want(t, 201)
	for _, tc := range []struct {
		name  string
		body  any
		field string // the field the 400 names
		says  string // part of its message
	}{
		{"no name", map[string]any{"description": "x"}, "name", "required"},
		{"blank name", map[string]any{"name": "  "}, "name", "required"},
		{"control character in name", map[string]any{"name": "crm\u200b"}, "name", "U+200B"},
		{"bad filter", map[string]any{"name": "a", "scope": map[string]any{"filter": `title sw`}}, "scope.filter", ""},
		{"filter on an unknown attribute", map[string]any{"name": "a", "scope": map[string]any{"filter": `shoeSize eq "9"`}}, "scope.filter", "shoeSize"},
		{"unknown attribute", map[string]any{"name": "a", "attributes": []string{"userName", "shoeSize"}}, "attributes", "shoeSize"},
		{"password attribute", map[string]any{"name": "a", "attributes": []string{"password"}}, "attributes", "password"},
		{"unknown source", map[string]any{"name": "a", "scope": map[string]any{"sources": []string{"push", "nowhere"}}}, "scope.sources", `"nowhere"`},
		{"reader token is no source", map[string]any{"name": "a", "scope": map[string]any{"sources": []string{"crm"}}}, "scope.sources", `"crm"`},
		{"empty scope group", map[string]any{"name": "a", "scope": map[string]any{"groups": []string{"Sales", ""}}}, "scope.groups", "empty"},
		{"bad mode", map[string]any{"name": "a", "groups": "some"}, "groups", `"some"`},
		{"negative grace", map[string]any{"name": "a", "leaveGraceDays": -1}, "leaveGraceDays", "between 0 and 3650"},
		{"grace too long", map[string]any{"name": "a", "leaveGraceDays": 3651}, "leaveGraceDays", "between 0 and 3650"},
		{"long description", map[string]any{"name": "a", "description": strings.Repeat("x", 1001)}, "description", "1000"},
		{"unknown field", map[string]any{"name": "a", "scopes": map[string]any{}}, "", "scopes"},
		{"wrong type", `{"name": "a", "leaveGraceDays": "7"}`, "", "leaveGraceDays"},
		{"not JSON", `{"name": `, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"POST /api/v1/apps", "PUT /api/v1/apps/taken"} {
				m, path, _ := strings.Cut(method, " ")
				r := e.call(t, m, path, e.Admin, tc.body)
				eobj := r.wantErr(t, 400, "bad_request")
				msg, _ := eobj["message"].(string)
				if tc.field != "" {
					fields, _ := eobj["fields"].(map[string]any)
					f, _ := fields[tc.field].(string)
					if f == "" || !strings.Contains(f, tc.says) || !strings.Contains(msg, tc.field) {
						t.Errorf("%s: want field %s saying %q: %s", method, tc.field, tc.says, r.Raw)
					}
				} else if !strings.Contains(msg, tc.says) {
					t.Errorf("%s: want a message naming %q: %s", method, tc.says, r.Raw)
				}
			}
		})
	}
	// Every problem comes back at once; nothing was created.
	r := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "a", "groups": "x", "leaveGraceDays": -1, "attributes": []string{"nope"}})
	if fields, _ := r.wantErr(t, 400, "bad_request")["fields"].(map[string]any); len(fields) != 3 {
		t.Errorf("want three field problems: %s", r.Raw)
	}
	if list := e.call(t, "GET", "/api/v1/apps", e.Admin, nil).want(t, 200); len(list.Body["apps"].([]any)) != 1 {
		t.Errorf("a rejected app was stored: %s", list.Raw)
	}
	// The config API is for admins: readers and writers are refused.
	for _, tok := range []string{e.Reader, e.Writer} {
		e.call(t, "GET", "/api/v1/apps", tok, nil).wantErr(t, 403, "forbidden")
		e.call(t, "POST", "/api/v1/apps", tok, map[string]any{"name": "z"}).wantErr(t, 403, "forbidden")
	}
	e.call(t, "GET", "/api/v1/apps", "", nil).wantErr(t, 401, "unauthorized")
}

func TestAppPreview(t *testing.T) { forEachAPIStore(t, testAppPreview) }

func testAppPreview(t *testing.T, e *apiEnv) {
	seedAppDirectory(t, e)
	for _, tc := range []struct {
		def            map[string]any
		users, groups  float64
		page           []string // userNames in the users page
		pageGroups     []string
		membersOfSales float64 // -1: Sales is not in view
	}{
		// Nested: Sales, Sales-EU; users u0, u2 (Sales) and u1, u4 (Sales-EU).
		{map[string]any{"scope": map[string]any{"groups": []string{"Sales"}}}, 4, 2, []string{"u0", "u1", "u2", "u4"}, []string{"Sales", "Sales-EU"}, 3},
		{map[string]any{"scope": map[string]any{"groups": []string{"Sales"}, "includeInactive": false}}, 3, 2, []string{"u0", "u1", "u2"}, []string{"Sales", "Sales-EU"}, 3},
		{map[string]any{"scope": map[string]any{"groups": []string{"Sales"}}, "flattenGroups": true}, 4, 2, []string{"u0", "u1", "u2", "u4"}, []string{"Sales", "Sales-EU"}, 4},
		{map[string]any{"scope": map[string]any{"filter": `title eq "Engineer"`}, "groups": "all"}, 3, 2, []string{"u2", "u3", "u5"}, []string{"Ops", "Sales"}, 1},
		{map[string]any{"scope": map[string]any{"sources": []string{"corp-ad"}}, "groups": "none"}, 1, 0, []string{"u6"}, nil, -1},
	} {
		name := fmt.Sprint(tc.def)
		t.Run(name, func(t *testing.T) {
			tc.def["name"] = "preview"
			a := e.call(t, "POST", "/api/v1/apps", e.Admin, tc.def).want(t, 201)
			defer func() { e.call(t, "DELETE", "/api/v1/apps/"+a.str("id"), e.Admin, nil).want(t, 204) }()
			p := e.call(t, "GET", "/api/v1/apps/"+a.str("name")+"/preview", e.Admin, nil).want(t, 200)
			if p.num("users") != tc.users || p.num("groups") != tc.groups || p.num("departed") != 0 {
				t.Errorf("counts: %s", p.Raw)
			}
			var names, groups []string
			salesMembers := -1.0
			for _, x := range p.Body["usersPage"].([]any) {
				u := x.(map[string]any)
				names = append(names, u["userName"].(string))
				if u["id"] == "" || u["departed"] != false || u["lastModified"] == "" {
					t.Errorf("preview user: %v", u)
				}
			}
			for _, x := range p.Body["groupsPage"].([]any) {
				g := x.(map[string]any)
				groups = append(groups, g["displayName"].(string))
				if g["displayName"] == "Sales" {
					salesMembers = g["members"].(float64)
				}
			}
			slices.Sort(names)
			slices.Sort(groups)
			if !slices.Equal(names, tc.page) || !slices.Equal(groups, tc.pageGroups) || salesMembers != tc.membersOfSales {
				t.Errorf("page: users %v groups %v (Sales members %v): %s", names, groups, salesMembers, p.Raw)
			}
		})
	}
	e.call(t, "GET", "/api/v1/apps/nope/preview", e.Admin, nil).wantErr(t, 404, "not_found")
}
