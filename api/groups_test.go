package api_test

import (
	"net/url"
	"reflect"
	"slices"
	"testing"
)

// memberIDs returns the member values of a group representation, sorted.
func memberIDs(r *resp) []string { return sorted(resourceValues(r.list("members"), "value")) }

func (e *env) getGroup(t *testing.T, id string) *resp {
	t.Helper()
	r := e.do(t, "GET", "/Groups/"+id, e.Writer, nil)
	wantJSON(t, r, 200)
	return r
}

func wantMembers(t *testing.T, r *resp, want ...string) {
	t.Helper()
	if got := memberIDs(r); !slices.Equal(got, sorted(want)) {
		t.Errorf("%v\nmembers = %v, want %v", r, got, sorted(want))
	}
}

func TestGroupCreateAndGet(t *testing.T) {
	e := newEnv(t)
	u1 := e.createUser(t, e.Writer, "one@example.com", map[string]any{"displayName": "User One"}).str("id")
	u2 := e.createUser(t, e.Writer, "two@example.com", nil).str("id")
	c := e.do(t, "POST", "/Groups", e.Writer, map[string]any{
		"schemas": []string{groupURN}, "displayName": "Engineering", "externalId": "grp-1",
		"members": []any{map[string]any{"value": u1, "type": "User"}, map[string]any{"value": u2}},
	})
	wantJSON(t, c, 201)
	gid := c.str("id")
	if loc := c.Header.Get("Location"); loc != e.scimURL("/Groups/"+gid) {
		t.Errorf("Location = %q, want %q", loc, e.scimURL("/Groups/"+gid))
	}
	if c.Header.Get("ETag") != `W/"1"` {
		t.Errorf("ETag = %q", c.Header.Get("ETag"))
	}
	for _, r := range []*resp{c, e.getGroup(t, gid)} {
		if s := r.list("schemas"); !reflect.DeepEqual(s, []any{groupURN}) {
			t.Errorf("schemas = %v", s)
		}
		if r.str("displayName") != "Engineering" || r.str("externalId") != "grp-1" {
			t.Errorf("%v\ndisplayName/externalId wrong", r)
		}
		for k, want := range map[string]string{"resourceType": "Group", "location": e.scimURL("/Groups/" + gid), "version": `W/"1"`} {
			if got := r.str("meta", k); got != want {
				t.Errorf("meta.%s = %q, want %q", k, got, want)
			}
		}
		wantMembers(t, r, u1, u2)
		display := map[string]string{u1: "User One", u2: "two@example.com"}
		for _, m := range r.list("members") {
			id, _ := at(m, "value").(string)
			if got := at(m, "$ref"); got != e.scimURL("/Users/"+id) {
				t.Errorf("member %s $ref = %v, want %s", id, got, e.scimURL("/Users/"+id))
			}
			if got := at(m, "type"); got != "User" {
				t.Errorf("member %s type = %v, want User", id, got)
			}
			if got := at(m, "display"); got != display[id] {
				t.Errorf("member %s display = %v, want %q", id, got, display[id])
			}
		}
	}
	if g := e.getGroup(t, gid); !reflect.DeepEqual(g.JSON, c.JSON) {
		t.Errorf("GET differs from POST\nGET:  %s\nPOST: %s", g.Raw, c.Raw)
	}
	x := e.do(t, "GET", "/Groups/"+gid+"?excludedAttributes=members", e.Reader, nil)
	wantJSON(t, x, 200)
	if x.has("members") || x.str("displayName") != "Engineering" || x.str("id") != gid {
		t.Errorf("excludedAttributes=members: %s", x.Raw)
	}
	l := e.do(t, "GET", "/Groups?excludedAttributes=members", e.Reader, nil)
	wantPage(t, l, 1, 1, 1)
	if at(l.get("Resources", 0), "members") != nil {
		t.Errorf("list with excludedAttributes=members has members: %s", l.Raw)
	}
	a := e.do(t, "GET", "/Groups/"+gid+"?attributes=displayName", e.Reader, nil)
	if got := keys(a.Body); !slices.Equal(got, []string{"displayName", "id", "schemas"}) {
		t.Errorf("attributes=displayName keys = %v", got)
	}
	// A group without members.
	empty := e.createGroup(t, e.Writer, "Empty")
	if l := empty.list("members"); len(l) != 0 {
		t.Errorf("empty group members = %v", l)
	}
}

func TestGroupPatchMembers(t *testing.T) {
	e := newEnv(t)
	var u []string
	for _, n := range []string{"a", "b", "c", "d"} {
		u = append(u, e.createUser(t, e.Writer, n+"@example.com", nil).str("id"))
	}
	gid := e.createGroup(t, e.Writer, "Team", u[0], u[1]).str("id")
	steps := []struct {
		name    string
		ops     []map[string]any
		version int
		want    []string
		display string
	}{
		{"add member", []map[string]any{op("add", "members", []any{map[string]any{"value": u[2]}})}, 2, []string{u[0], u[1], u[2]}, "Team"},
		{"add existing member is a no-op on membership", []map[string]any{op("add", "members", []any{map[string]any{"value": u[2]}})}, -1, []string{u[0], u[1], u[2]}, "Team"},
		{"remove by value filter", []map[string]any{op("remove", `members[value eq "`+u[0]+`"]`, nil)}, -1, []string{u[1], u[2]}, "Team"},
		{"remove with value array (Entra)", []map[string]any{op("remove", "members", []any{map[string]any{"value": u[1]}})}, -1, []string{u[2]}, "Team"},
		{"replace displayName", []map[string]any{op("replace", "displayName", "Squad")}, -1, []string{u[2]}, "Squad"},
		{"path-less replace displayName (Okta)", []map[string]any{op("replace", "", map[string]any{"id": gid, "displayName": "Crew"})}, -1, []string{u[2]}, "Crew"},
		{"several ops at once", []map[string]any{
			op("add", "members", []any{map[string]any{"value": u[0]}, map[string]any{"value": u[3]}}),
			op("remove", `members[value eq "`+u[2]+`"]`, nil),
		}, -1, []string{u[0], u[3]}, "Crew"},
		{"remove by or filter", []map[string]any{op("remove", `members[value eq "`+u[0]+`" or value eq "`+u[3]+`"]`, nil)}, -1, nil, "Crew"},
		{"path-less add members", []map[string]any{op("add", "", map[string]any{"members": []any{map[string]any{"value": u[1]}}})}, -1, []string{u[1]}, "Crew"},
		{"replace members", []map[string]any{op("replace", "members", []any{map[string]any{"value": u[2]}, map[string]any{"value": u[3]}})}, -1, []string{u[2], u[3]}, "Crew"},
		{"remove all members", []map[string]any{op("remove", "members", nil)}, -1, nil, "Crew"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := e.getGroup(t, gid)
			r := e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(st.ops...))
			wantStatus(t, r, 204)
			if len(r.Raw) != 0 {
				t.Errorf("204 with a body: %s", r.Raw)
			}
			g := e.getGroup(t, gid)
			wantMembers(t, g, st.want...)
			if g.str("displayName") != st.display {
				t.Errorf("displayName = %q, want %q", g.str("displayName"), st.display)
			}
			if r.Header.Get("ETag") != g.Header.Get("ETag") {
				t.Errorf("PATCH ETag %q, GET ETag %q", r.Header.Get("ETag"), g.Header.Get("ETag"))
			}
			if st.version > 0 && g.Header.Get("ETag") != `W/"2"` {
				t.Errorf("ETag = %q, want W/\"2\"", g.Header.Get("ETag"))
			}
			if st.name != "add existing member is a no-op on membership" && g.Header.Get("ETag") == before.Header.Get("ETag") {
				t.Errorf("version did not change: %s", g.Header.Get("ETag"))
			}
		})
	}
	// Asking for attributes returns 200 with the whole group.
	wantStatus(t, e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(op("add", "members", []any{map[string]any{"value": u[1]}, map[string]any{"value": u[2]}}))), 204)
	r := e.do(t, "PATCH", "/Groups/"+gid+"?attributes=members", e.Writer, patchBody(op("add", "members", []any{map[string]any{"value": u[0]}})))
	wantJSON(t, r, 200)
	wantMembers(t, r, u[0], u[1], u[2])
	if got := keys(r.Body); !slices.Equal(got, []string{"id", "members", "schemas"}) {
		t.Errorf("attributes=members keys = %v", got)
	}
	r = e.do(t, "PATCH", "/Groups/"+gid+"?excludedAttributes=members", e.Writer, patchBody(op("replace", "displayName", "Final")))
	wantJSON(t, r, 200)
	if r.has("members") || r.str("displayName") != "Final" {
		t.Errorf("excludedAttributes=members: %s", r.Raw)
	}
}

func TestGroupPutAndDeletes(t *testing.T) {
	e := newEnv(t)
	a := e.createUser(t, e.Writer, "a@example.com", nil).str("id")
	b := e.createUser(t, e.Writer, "b@example.com", nil).str("id")
	c := e.createUser(t, e.Writer, "c@example.com", nil).str("id")
	gid := e.createGroup(t, e.Writer, "Ops", a, b).str("id")
	other := e.createGroup(t, e.Writer, "Other", a, c).str("id")

	r := e.do(t, "PUT", "/Groups/"+gid, e.Writer, groupBody("Operations", b, c))
	wantJSON(t, r, 200)
	wantMembers(t, r, b, c)
	if r.str("displayName") != "Operations" || r.Header.Get("ETag") != `W/"2"` {
		t.Errorf("PUT: displayName %q ETag %q", r.str("displayName"), r.Header.Get("ETag"))
	}
	if g := e.getGroup(t, gid); !reflect.DeepEqual(g.JSON, r.JSON) {
		t.Errorf("GET differs from PUT\nGET: %s\nPUT: %s", g.Raw, r.Raw)
	}
	r = e.do(t, "PUT", "/Groups/"+gid, e.Writer, map[string]any{"schemas": []string{groupURN}, "displayName": "Operations"})
	wantJSON(t, r, 200)
	wantMembers(t, r)

	wantStatus(t, e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(op("add", "members", []any{map[string]any{"value": b}, map[string]any{"value": c}}))), 204)
	// Deleting a user removes it from every group.
	wantStatus(t, e.do(t, "DELETE", "/Users/"+c, e.Writer, nil), 204)
	wantMembers(t, e.getGroup(t, gid), b)
	wantMembers(t, e.getGroup(t, other), a)
	l := e.do(t, "GET", "/Groups?filter="+url.QueryEscape(`members[value eq "`+c+`"]`), e.Reader, nil)
	wantPage(t, l, 0, 1, 0)

	// Deleting a group.
	wantStatus(t, e.do(t, "DELETE", "/Groups/"+other, e.Writer, nil), 204)
	wantError(t, e.do(t, "GET", "/Groups/"+other, e.Writer, nil), 404, "")
	wantJSON(t, e.do(t, "GET", "/Users/"+a, e.Writer, nil), 200) // members survive their group
}

func TestGroupUnknownMember(t *testing.T) {
	e := newEnv(t)
	a := e.createUser(t, e.Writer, "a@example.com", nil).str("id")
	gid := e.createGroup(t, e.Writer, "Real", a).str("id")
	const ghost = "11111111-2222-3333-4444-555555555555"
	runRejected(t, e, []rejected{
		{name: "PATCH add unknown member", method: "PATCH", path: "/Groups/" + gid, body: patchBody(op("add", "members", []any{map[string]any{"value": ghost}})), status: 400, scimType: "invalidValue"},
		{name: "PATCH add known and unknown", method: "PATCH", path: "/Groups/" + gid, body: patchBody(op("replace", "displayName", "Renamed"), op("add", "members", []any{map[string]any{"value": a}, map[string]any{"value": ghost}})), status: 400, scimType: "invalidValue"},
		{name: "PUT with unknown member", method: "PUT", path: "/Groups/" + gid, body: groupBody("Real", ghost), status: 400, scimType: "invalidValue"},
		{name: "POST with unknown member", method: "POST", path: "/Groups", body: groupBody("Ghosts", a, ghost), status: 400, scimType: "invalidValue"},
		{name: "PATCH member without value", method: "PATCH", path: "/Groups/" + gid, body: patchBody(op("add", "members", []any{map[string]any{"display": "x"}})), status: 400, scimType: "invalidValue"},
	})
	wantMembers(t, e.getGroup(t, gid), a)
}

func TestGroupFilters(t *testing.T) {
	e := newEnv(t)
	a := e.createUser(t, e.Writer, "a@example.com", nil).str("id")
	b := e.createUser(t, e.Writer, "b@example.com", nil).str("id")
	c := e.createUser(t, e.Writer, "c@example.com", nil).str("id")
	e.createGroup(t, e.Writer, "Platform Team", a, b)
	e.createGroup(t, e.Writer, "Security", b)
	e.createGroup(t, e.Writer, "Empty")
	cases := []struct {
		filter string
		want   []string
	}{
		{`displayName eq "platform team"`, []string{"Platform Team"}},
		{`displayName eq "SECURITY"`, []string{"Security"}},
		{`displayName eq "nothing"`, nil},
		{`displayName sw "p"`, []string{"Platform Team"}},
		{`members[value eq "` + a + `"]`, []string{"Platform Team"}},
		{`members[value eq "` + b + `"]`, []string{"Platform Team", "Security"}},
		{`members[value eq "` + c + `"]`, nil},
		{`members.value eq "` + b + `"`, []string{"Platform Team", "Security"}},
		{`members pr`, []string{"Platform Team", "Security"}},
		{`not (members pr)`, []string{"Empty"}},
		{`members[value eq "` + a + `"] or displayName eq "Empty"`, []string{"Empty", "Platform Team"}},
	}
	for round := range 2 {
		for _, tc := range cases {
			r := e.do(t, "GET", "/Groups?filter="+url.QueryEscape(tc.filter), e.Reader, nil)
			wantPage(t, r, len(tc.want), 1, len(tc.want))
			if got := sorted(resourceField(r, "displayName")); !slices.Equal(got, sorted(tc.want)) {
				t.Errorf("round %d: %s = %v, want %v", round+1, tc.filter, got, tc.want)
			}
		}
	}
	r := e.do(t, "POST", "/Groups/.search", e.Reader, map[string]any{"schemas": []string{searchURN}, "filter": `members[value eq "` + b + `"]`, "sortBy": "displayName", "sortOrder": "descending", "excludedAttributes": []string{"members"}})
	wantPage(t, r, 2, 1, 2)
	if got := resourceField(r, "displayName"); !slices.Equal(got, []string{"Security", "Platform Team"}) {
		t.Errorf(".search order = %v", got)
	}
	if at(r.get("Resources", 0), "members") != nil {
		t.Errorf(".search excludedAttributes=members returned members")
	}
}
