package api_test

import (
	"slices"
	"testing"
)

func TestServiceProviderConfig(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/ServiceProviderConfig", e.Reader, nil)
	wantJSON(t, r, 200)
	if s := r.list("schemas"); len(s) != 1 || s[0] != "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig" {
		t.Errorf("schemas = %v", r.get("schemas"))
	}
	for _, c := range []struct {
		feature string
		want    bool
	}{
		{"patch", true}, {"filter", true}, {"sort", true}, {"etag", true},
		{"bulk", false}, {"changePassword", false},
	} {
		if got, ok := r.get(c.feature, "supported").(bool); !ok || got != c.want {
			t.Errorf("%s.supported = %#v, want %v", c.feature, r.get(c.feature, "supported"), c.want)
		}
	}
	if n := r.num(t, "filter", "maxResults"); n != 1000 {
		t.Errorf("filter.maxResults = %d, want 1000", n)
	}
	schemes := r.list("authenticationSchemes")
	if len(schemes) == 0 || at(schemes[0], "type") != "oauthbearertoken" {
		t.Errorf("authenticationSchemes = %v", r.get("authenticationSchemes"))
	}
	if got := r.str("meta", "location"); got != e.scimURL("/ServiceProviderConfig") {
		t.Errorf("meta.location = %q", got)
	}
	// The writer sees the same document.
	w := e.do(t, "GET", "/ServiceProviderConfig", e.Writer, nil)
	if string(w.Raw) != string(r.Raw) {
		t.Errorf("writer and reader see different configs")
	}
}

func TestSchemas(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/Schemas", e.Reader, nil)
	wantJSON(t, r, 200)
	ids := resourceField(r, "id")
	for _, want := range []string{userURN, groupURN, entURN} {
		if !slices.Contains(ids, want) {
			t.Errorf("/Schemas ids = %v, missing %s", ids, want)
		}
	}
	if n := r.num(t, "totalResults"); n != len(ids) {
		t.Errorf("totalResults = %d, %d resources", n, len(ids))
	}
	// The User schema describes userName.
	for _, res := range r.list("Resources") {
		if at(res, "id") != userURN {
			continue
		}
		found := false
		for _, a := range at(res, "attributes").([]any) {
			if at(a, "name") == "userName" {
				found = true
				if at(a, "required") != true || at(a, "uniqueness") != "server" {
					t.Errorf("userName attribute = %v", a)
				}
			}
		}
		if !found {
			t.Errorf("User schema has no userName attribute")
		}
	}
	one := e.do(t, "GET", "/Schemas/"+entURN, e.Reader, nil)
	wantJSON(t, one, 200)
	if one.str("id") != entURN {
		t.Errorf("/Schemas/%s id = %q", entURN, one.str("id"))
	}
}

func TestResourceTypes(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/ResourceTypes", e.Reader, nil)
	wantJSON(t, r, 200)
	if n := r.num(t, "totalResults"); n != 2 {
		t.Errorf("totalResults = %d, want 2", n)
	}
	byName := map[string]any{}
	for _, res := range r.list("Resources") {
		name, _ := at(res, "name").(string)
		byName[name] = res
	}
	user, group := byName["User"], byName["Group"]
	if user == nil || group == nil {
		t.Fatalf("ResourceTypes = %s", r.Raw)
	}
	if at(user, "endpoint") != "/Users" || at(user, "schema") != userURN {
		t.Errorf("User resource type = %v", user)
	}
	exts, _ := at(user, "schemaExtensions").([]any)
	if len(exts) != 1 || at(exts[0], "schema") != entURN || at(exts[0], "required") != false {
		t.Errorf("User schemaExtensions = %v, want the enterprise extension, not required", exts)
	}
	if at(group, "endpoint") != "/Groups" || at(group, "schema") != groupURN {
		t.Errorf("Group resource type = %v", group)
	}
	if exts, _ := at(group, "schemaExtensions").([]any); len(exts) != 0 {
		t.Errorf("Group schemaExtensions = %v", exts)
	}
	one := e.do(t, "GET", "/ResourceTypes/User", e.Reader, nil)
	wantJSON(t, one, 200)
	if one.str("endpoint") != "/Users" {
		t.Errorf("/ResourceTypes/User = %s", one.Raw)
	}
}
