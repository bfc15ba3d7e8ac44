package api_test

import (
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/api"
)

// TestClientCannotSetIDOrMeta: id and meta are assigned by the server.
func TestClientCannotSetIDOrMeta(t *testing.T) {
	e := newEnv(t)
	r := e.createUser(t, e.Writer, "self@example.com", map[string]any{
		"id":   "chosen-by-client",
		"meta": map[string]any{"version": `W/"99"`, "created": "2001-01-01T00:00:00Z", "resourceType": "Group"},
	})
	id := r.str("id")
	if id == "chosen-by-client" || r.str("meta", "version") != `W/"1"` || r.str("meta", "resourceType") != "User" ||
		r.str("meta", "created") == "2001-01-01T00:00:00.000Z" {
		t.Errorf("client-supplied id/meta were used: %s", r.Raw)
	}
	wantError(t, e.do(t, "GET", "/Users/chosen-by-client", e.Writer, nil), 404, "")
	other := e.createUser(t, e.Writer, "other@example.com", nil).str("id")
	// PUT with another resource's id in the body changes only the URL's user.
	p := e.do(t, "PUT", "/Users/"+id, e.Writer, userBody("self@example.com", map[string]any{"id": other, "title": "Put"}))
	wantJSON(t, p, 200)
	if p.str("id") != id || p.str("title") != "Put" {
		t.Errorf("PUT: %s", p.Raw)
	}
	if o := e.do(t, "GET", "/Users/"+other, e.Writer, nil); o.str("meta", "version") != `W/"1"` || o.has("title") {
		t.Errorf("PUT with a foreign id in the body changed that user: %s", o.Raw)
	}
}

// TestConfiguredBaseURL: with Config.BaseURL, locations use it.
func TestConfiguredBaseURL(t *testing.T) {
	e := newEnvWith(t, api.Config{BaseURL: "https://scim.example.com/"})
	r := e.createUser(t, e.Writer, "based@example.com", nil)
	want := "https://scim.example.com/scim/v2/Users/" + r.str("id")
	if r.Header.Get("Location") != want || r.str("meta", "location") != want {
		t.Errorf("Location %q meta.location %q, want %q", r.Header.Get("Location"), r.str("meta", "location"), want)
	}
	g := e.createGroup(t, e.Writer, "Based", r.str("id"))
	if ref := at(g.get("members", 0), "$ref"); ref != want {
		t.Errorf("member $ref = %v, want %s", ref, want)
	}
}

// TestSortIsCaseInsensitive: userName is not caseExact, so sorting
// ignores case.
func TestSortIsCaseInsensitive(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"charlie", "Bravo", "alpha", "Delta"} {
		e.createUser(t, e.Writer, n, nil)
	}
	r := e.do(t, "GET", "/Users?sortBy=userName", e.Reader, nil)
	if got := resourceField(r, "userName"); !slices.Equal(got, []string{"alpha", "Bravo", "charlie", "Delta"}) {
		t.Errorf("ascending = %v", got)
	}
	r = e.do(t, "GET", "/Users?sortBy=userName&sortOrder=descending", e.Reader, nil)
	if got := resourceField(r, "userName"); !slices.Equal(got, []string{"Delta", "charlie", "Bravo", "alpha"}) {
		t.Errorf("descending = %v", got)
	}
}

// TestProjectionWithSchemaURNs: attribute names may carry their schema URN.
func TestProjectionWithSchemaURNs(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	id := s.ids["alice"]
	plain := e.do(t, "GET", "/Users/"+id+"?attributes=userName,name.givenName", e.Reader, nil)
	full := e.do(t, "GET", "/Users/"+id+"?attributes="+url.QueryEscape(userURN+":userName,"+userURN+":name.givenName"), e.Reader, nil)
	wantJSON(t, full, 200)
	if !reflect.DeepEqual(plain.JSON, full.JSON) {
		t.Errorf("core URN prefix changes the projection\nplain: %s\nfull:  %s", plain.Raw, full.Raw)
	}
	ext := e.do(t, "GET", "/Users/"+id+"?attributes="+url.QueryEscape(entURN), e.Reader, nil)
	wantJSON(t, ext, 200)
	if got := keys(ext.Body); !slices.Equal(got, []string{"id", "schemas", entURN}) || ext.str(entURN, "department") != "R&D" {
		t.Errorf("attributes=<enterprise URN>: %s", ext.Raw)
	}
	exc := e.do(t, "GET", "/Users/"+id+"?excludedAttributes="+url.QueryEscape(entURN), e.Reader, nil)
	if exc.has(entURN) || exc.str("userName") != "alice@example.com" {
		t.Errorf("excludedAttributes=<enterprise URN>: %s", exc.Raw)
	}
	bad := e.do(t, "GET", "/Users?attributes="+url.QueryEscape("urn:example:nope:attr"), e.Reader, nil)
	wantError(t, bad, 400, "invalidValue")
}

// TestNestedGroups: a group can be a member of another.
func TestNestedGroups(t *testing.T) {
	e := newEnv(t)
	u := e.createUser(t, e.Writer, "member@example.com", nil).str("id")
	child := e.createGroup(t, e.Writer, "Child", u).str("id")
	parent := e.do(t, "POST", "/Groups", e.Writer, map[string]any{
		"schemas": []string{groupURN}, "displayName": "Parent",
		"members": []any{map[string]any{"value": child, "type": "Group"}, map[string]any{"value": u, "type": "User"}},
	})
	wantJSON(t, parent, 201)
	pid := parent.str("id")
	byID := map[string]any{}
	for _, m := range parent.list("members") {
		byID[at(m, "value").(string)] = m
	}
	if m := byID[child]; at(m, "type") != "Group" || at(m, "$ref") != e.scimURL("/Groups/"+child) || at(m, "display") != "Child" {
		t.Errorf("group member = %v", m)
	}
	if m := byID[u]; at(m, "type") != "User" || at(m, "$ref") != e.scimURL("/Users/"+u) {
		t.Errorf("user member = %v", m)
	}
	wantStatus(t, e.do(t, "DELETE", "/Groups/"+child, e.Writer, nil), 204)
	wantMembers(t, e.getGroup(t, pid), u)
}

// TestPatchProviderDialects: PATCH forms Entra ID and Okta send.
func TestPatchProviderDialects(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "dialect@example.com", map[string]any{
		"emails": []any{map[string]any{"value": "home@example.org", "type": "home"}},
	}).str("id")
	cases := []struct {
		name  string
		ops   []map[string]any
		check func(r *resp) bool
	}{
		{"Entra: replace emails[type eq work].value creates the work email",
			[]map[string]any{op("replace", `emails[type eq "work"].value`, "work@example.com")},
			func(r *resp) bool {
				return slices.Equal(resourceValues(r.list("emails"), "value"), []string{"home@example.org", "work@example.com"}) &&
					at(r.get("emails", 1), "type") == "work"
			}},
		{"Entra: path-less replace with enterprise attribute path keys",
			[]map[string]any{op("replace", "", map[string]any{entURN + ":department": "Finance", "name.givenName": "Dee"})},
			func(r *resp) bool {
				return r.str(entURN, "department") == "Finance" && r.str("name", "givenName") == "Dee"
			}},
		{"Okta: path-less replace with an extension object",
			[]map[string]any{op("replace", "", map[string]any{"id": id, entURN: map[string]any{"costCenter": "CC1"}})},
			func(r *resp) bool {
				return r.str(entURN, "costCenter") == "CC1" && r.str(entURN, "department") == "Finance"
			}},
		{"capitalised op names",
			[]map[string]any{op("Replace", "title", "Boss"), op("Add", "nickName", "D")},
			func(r *resp) bool { return r.str("title") == "Boss" && r.str("nickName") == "D" }},
		{"remove an email by filter",
			[]map[string]any{op("remove", `emails[type eq "home"]`, nil)},
			func(r *resp) bool {
				return slices.Equal(resourceValues(r.list("emails"), "value"), []string{"work@example.com"})
			}},
		{"replace with null unassigns",
			[]map[string]any{{"op": "replace", "path": "nickName", "value": nil}},
			func(r *resp) bool { return !r.has("nickName") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(tc.ops...))
			wantJSON(t, r, 200)
			if !tc.check(r) {
				t.Errorf("unexpected result: %s", r.Raw)
			}
			if g := e.do(t, "GET", "/Users/"+id, e.Writer, nil); !reflect.DeepEqual(g.JSON, r.JSON) {
				t.Errorf("GET differs from the PATCH response")
			}
		})
	}
}

// TestIfMatchStar: If-Match: * matches any existing resource.
func TestIfMatchStar(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "star@example.com", nil).str("id")
	r := e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "title", "x")), "If-Match", "*")
	wantJSON(t, r, 200)
	wantStatus(t, e.do(t, "DELETE", "/Users/"+id, e.Writer, nil, "If-Match", "*"), 204)
}

// TestGroupListPaging: groups page like users.
func TestGroupListPaging(t *testing.T) {
	e := newEnv(t)
	var names []string
	for _, n := range []string{"g1", "g2", "g3", "g4", "g5"} {
		e.createGroup(t, e.Writer, n)
		names = append(names, n)
	}
	r := e.do(t, "GET", "/Groups?startIndex=2&count=2", e.Reader, nil)
	wantPage(t, r, 5, 2, 2)
	if got := resourceField(r, "displayName"); !slices.Equal(got, names[1:3]) {
		t.Errorf("page = %v", got)
	}
	r = e.do(t, "GET", "/Groups?startIndex=5&count=2&sortBy=displayName&sortOrder=descending", e.Reader, nil)
	wantPage(t, r, 5, 5, 1)
	if got := resourceField(r, "displayName"); !slices.Equal(got, []string{"g1"}) {
		t.Errorf("page = %v", got)
	}
	wantPage(t, e.do(t, "GET", "/Groups?count=0", e.Reader, nil), 5, 1, 0)
	wantPage(t, e.do(t, "GET", "/Groups/", e.Reader, nil), 5, 1, 5)
	wantPage(t, e.do(t, "GET", "/Users/", e.Reader, nil), 0, 1, 0)
}
