package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const enterpriseDept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"

// appForm is a complete, valid app form as the browser sends it, which
// cases change field by field.
func appForm(kv ...string) url.Values {
	f := url.Values{
		"name": {"crm"}, "description": {"Sales CRM"}, "scopeGroups": {"GG-Sales\n\n  GG-Support  "},
		"filter": {`title sw "Account"`}, "scopeSources": {""}, "includeInactive": {"on"}, "groups": {"all"},
		"attributes": {"userName", "emails", enterpriseDept}, "leaveGraceDays": {"7"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			f.Del(kv[i])
			continue
		}
		f.Set(kv[i], kv[i+1])
	}
	return f
}

var appLocation = regexp.MustCompile(`^/ui/apps/([^/]+)$`)

// createAppThroughForm posts the form and returns the new app's id.
func createAppThroughForm(t *testing.T, u *consoleUser, form url.Values) string {
	t.Helper()
	u.get(t, "/ui/apps/new")
	p := u.post(t, "/ui/apps/new", form).want(t, http.StatusSeeOther)
	m := appLocation.FindStringSubmatch(p.Location)
	if m == nil {
		t.Fatalf("after adding an app: redirect to %q", p.Location)
	}
	return m[1]
}

func TestConsoleAppCreateAndEdit(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	form := u.get(t, "/ui/apps/new").want(t, http.StatusOK, `<label for="app-name">Name</label>`, `<label for="app-filter">Filter</label>`,
		`<label for="app-groups">Groups in view</label>`, `<label for="app-grace">Leave grace days</label>`)
	// The attribute boxes are the API's (GET /app-attributes): core
	// attributes with externalId, and the enterprise extension's by their
	// full path.
	for _, attr := range []string{`value="userName"`, `value="externalId"`, `value="emails"`, `value="` + enterpriseDept + `"`} {
		if !strings.Contains(form.Body, attr) {
			t.Fatalf("the attribute list lacks %s", attr)
		}
	}
	if strings.Contains(form.Body, `value="password"`) {
		t.Error("the attribute list offers password, which is never returned")
	}

	id := createAppThroughForm(t, u, appForm())
	u.get(t, "/ui/apps/"+id).want(t, http.StatusOK, "App crm added.", "App crm", "GG-Sales, GG-Support", `title sw &#34;Account&#34;`)
	got := env.call(t, "GET", "/api/v1/apps/crm", env.Admin, nil).want(t, 200)
	checks := map[string]any{
		"id": id, "description": "Sales CRM", "groups": "all", "flattenGroups": false, "leaveGraceDays": 7.0,
		"scope.groups": []any{"GG-Sales", "GG-Support"}, "scope.filter": `title sw "Account"`, "scope.includeInactive": true,
		"attributes": []any{"userName", "emails", enterpriseDept},
	}
	for path, want := range checks {
		if v := jsonAt(got.Body, path); !equalJSON(v, want) {
			t.Errorf("%s = %#v, want %#v", path, v, want)
		}
	}
	u.get(t, "/ui/apps").want(t, http.StatusOK, `<a href="/ui/apps/`+id+`">crm</a>`, "Sales CRM")

	// A push set through the API survives an edit of the definition.
	env.call(t, "PATCH", "/api/v1/apps/"+id, env.Admin, map[string]any{"push": goodPush()}).want(t, 200)
	edit := u.get(t, "/ui/apps/"+id+"/edit").want(t, http.StatusOK, `value="crm"`, "GG-Sales\nGG-Support")
	if !regexp.MustCompile(`value="emails" checked`).MatchString(edit.Body) || regexp.MustCompile(`value="name" checked`).MatchString(edit.Body) {
		t.Error("the edit form does not check exactly the app's attributes")
	}
	u.post(t, "/ui/apps/"+id+"/edit", appForm("description", "Sales CRM (EU)", "includeInactive", "", "groups", "none",
		"flattenGroups", "on", "attributes", "userName")).want(t, http.StatusSeeOther)
	got = env.call(t, "GET", "/api/v1/apps/"+id, env.Admin, nil).want(t, 200)
	for path, want := range map[string]any{"description": "Sales CRM (EU)", "scope.includeInactive": false, "groups": "none",
		"flattenGroups": true, "attributes": []any{"userName"}, "push.url": "http://127.0.0.1:9/scim/v2", "push.auth.token": "set"} {
		if v := jsonAt(got.Body, path); !equalJSON(v, want) {
			t.Errorf("after the edit %s = %#v, want %#v", path, v, want)
		}
	}
}

func TestConsoleAppFieldErrors(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	createAppThroughForm(t, u, appForm("name", "taken"))
	cases := []struct {
		name    string
		form    url.Values
		status  int
		input   string // the id of the field the message is next to
		message string
	}{
		{"bad filter", appForm("filter", `title sw`), http.StatusUnprocessableEntity, "app-filter", ""},
		{"no name", appForm("name", ""), http.StatusUnprocessableEntity, "app-name", "required"},
		{"name taken", appForm("name", "taken"), http.StatusConflict, "app-name", "already taken"},
		{"grace not a number", appForm("leaveGraceDays", "a week"), http.StatusUnprocessableEntity, "app-grace", "whole number of days"},
		{"grace out of range", appForm("leaveGraceDays", "-1"), http.StatusUnprocessableEntity, "app-grace", "between 0 and"},
		{"unknown source", appForm("scopeSources", "nowhere"), http.StatusUnprocessableEntity, "app-scope-sources", `&#34;nowhere&#34;`},
		{"bad attribute", appForm("attributes", "shoeSize"), http.StatusUnprocessableEntity, "app-attrs", "shoeSize"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u.get(t, "/ui/apps/new")
			p := u.post(t, "/ui/apps/new", tc.form).want(t, tc.status, `class="problem"`)
			errRe := regexp.MustCompile(`<p id="` + tc.input + `-error" class="field-error">([^<]+)</p>`)
			m := errRe.FindStringSubmatch(p.Body)
			if m == nil || !strings.Contains(m[1], tc.message) {
				t.Fatalf("no message %q next to %s:\n%s", tc.message, tc.input, p.Body)
			}
			if tc.input != "app-attrs" && !regexp.MustCompile(`id="`+tc.input+`"[^>]*aria-describedby="[^"]*`+tc.input+`-error"[^>]*aria-invalid="true"`).MatchString(p.Body) {
				t.Errorf("%s is not marked invalid and described by its message", tc.input)
			}
			// What the admin typed is still there to correct.
			if !strings.Contains(p.Body, `value="Sales CRM"`) {
				t.Error("the form lost the description typed")
			}
		})
	}
	apps := env.call(t, "GET", "/api/v1/apps", env.Admin, nil).want(t, 200)
	if n := len(apps.Body["apps"].([]any)); n != 1 {
		t.Errorf("%d apps stored, want only the first", n)
	}
}

func TestConsoleAppPreview(t *testing.T) {
	env := newAPIEnv(t)
	var sales []string
	for _, name := range []string{"ann@example.com", "bo@example.com", "cy@example.com"} {
		r := env.call(t, "POST", "/scim/v2/Users", env.Writer, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": name, "active": true}).want(t, 201)
		if name != "cy@example.com" {
			sales = append(sales, r.str("id"))
		}
	}
	members := []map[string]string{}
	for _, id := range sales {
		members = append(members, map[string]string{"value": id})
	}
	env.call(t, "POST", "/scim/v2/Groups", env.Writer, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "GG-Sales", "members": members}).want(t, 201)
	u := signedIn(t, env)
	id := createAppThroughForm(t, u, appForm("scopeGroups", "GG-Sales", "filter", "", "groups", "scope"))
	p := u.get(t, "/ui/apps/"+id).want(t, http.StatusOK, `<p id="preview-counts"><strong>2</strong> users and <strong>1</strong> groups in view`,
		"ann@example.com", "bo@example.com", `<th scope="row">GG-Sales</th><td>2</td>`)
	if strings.Contains(p.Body, "cy@example.com") {
		t.Error("the preview shows a user outside the view")
	}
}

func TestConsoleAppToken(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	id := createAppThroughForm(t, u, appForm())
	u.get(t, "/ui/apps/"+id)
	p := u.post(t, "/ui/apps/"+id+"/tokens", url.Values{"name": {"crm-prod"}}).want(t, http.StatusCreated,
		"it will not be shown again", `<button type="button" data-copy="token-secret">Copy</button>`)
	secret := tokenSecretOf(t, p)
	toks := env.call(t, "GET", "/api/v1/apps/"+id+"/tokens", env.Admin, nil).want(t, 200)
	if names := fieldsOf(toks.Body["tokens"], "name"); strings.Join(names, ",") != "crm-prod" {
		t.Fatalf("app tokens %v, want crm-prod", names)
	}
	env.call(t, "GET", "/scim/v2/Users", secret, nil).want(t, 200)
	page := u.get(t, "/ui/apps/"+id).want(t, http.StatusOK, `<th scope="row">crm-prod</th>`)
	if strings.Contains(page.Body, secret) {
		t.Fatal("the app's page shows the token's secret again")
	}
	// Revoking from the app's page comes back to it.
	r := u.post(t, "/ui/tokens/revoke", url.Values{"name": {"crm-prod"}, "app": {id}}).want(t, http.StatusSeeOther)
	if r.Location != "/ui/apps/"+id {
		t.Errorf("revoke went to %q", r.Location)
	}
	env.call(t, "GET", "/scim/v2/Users", secret, nil).want(t, 401)
	// A token name already taken is shown next to the name field.
	env.call(t, "POST", "/api/v1/tokens", env.Admin, map[string]any{"name": "used", "role": "reader"}).want(t, 201)
	u.get(t, "/ui/apps/"+id)
	u.post(t, "/ui/apps/"+id+"/tokens", url.Values{"name": {"used"}}).want(t, http.StatusConflict,
		`<p id="app-token-name-error" class="field-error">already taken</p>`)
}

// jsonAt reads a dotted path of a decoded JSON object.
func jsonAt(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func equalJSON(a, b any) bool {
	as, bs := strings.TrimSpace(jsonString(a)), strings.TrimSpace(jsonString(b))
	return as == bs
}

func fieldsOf(list any, key string) []string {
	var out []string
	items, _ := list.([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		s, _ := m[key].(string)
		out = append(out, s)
	}
	return out
}

var tokenSecret = regexp.MustCompile(`<code id="token-secret"[^>]*>([^<]+)</code>`)

// tokenSecretOf is the secret a token's answer page shows.
func tokenSecretOf(t *testing.T, p uiPage) string {
	t.Helper()
	m := tokenSecret.FindStringSubmatch(p.Body)
	if m == nil || len(m[1]) < 20 {
		t.Fatalf("no secret on the page:\n%s", p.Body)
	}
	if strings.Contains(p.Location, m[1]) || strings.Contains(strings.Join(p.Header.Values("Set-Cookie"), ";"), m[1]) {
		t.Fatal("the secret is in a redirect or a cookie")
	}
	return m[1]
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// TestConsoleAppOffersOnlyAllowedAttributes: every attribute box the form
// offers is one the API takes, all of them at once.
func TestConsoleAppOffersOnlyAllowedAttributes(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	form := u.get(t, "/ui/apps/new").want(t, http.StatusOK)
	var offered []string
	for _, m := range regexp.MustCompile(`name="attributes" type="checkbox" value="([^"]+)"`).FindAllStringSubmatch(form.Body, -1) {
		offered = append(offered, m[1])
	}
	if len(offered) < 10 {
		t.Fatalf("only %d attributes offered: %v", len(offered), offered)
	}
	f := appForm()
	f["attributes"] = offered
	id := createAppThroughForm(t, u, f)
	got := env.call(t, "GET", "/api/v1/apps/"+id, env.Admin, nil).want(t, 200)
	if n := len(strList(got.Body["attributes"])); n != len(offered) {
		t.Errorf("the API kept %d of the %d attributes offered: %v", n, len(offered), got.Body["attributes"])
	}
}

// TestConsoleAppKeepsSubAttributes: an allowed sub-attribute, which the
// form has no box of its own for, is shown checked and survives a save.
func TestConsoleAppKeepsSubAttributes(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	id := createAppThroughForm(t, u, appForm())
	env.call(t, "PATCH", "/api/v1/apps/"+id, env.Admin, map[string]any{"attributes": []string{"userName", "name.givenName"}}).want(t, 200)
	edit := u.get(t, "/ui/apps/"+id+"/edit").want(t, http.StatusOK, `value="name.givenName" checked`, `value="userName" checked`)
	f := appForm()
	f["attributes"] = regexp.MustCompile(`value="([^"]+)" checked`).FindAllString(edit.Body, -1)
	for i, v := range f["attributes"] {
		f["attributes"][i] = strings.TrimSuffix(strings.TrimPrefix(v, `value="`), `" checked`)
	}
	u.post(t, "/ui/apps/"+id+"/edit", f).want(t, http.StatusSeeOther)
	got := env.call(t, "GET", "/api/v1/apps/"+id, env.Admin, nil).want(t, 200)
	if a := strList(got.Body["attributes"]); strings.Join(a, ",") != "userName,name.givenName" {
		t.Errorf("attributes after saving %v, want userName,name.givenName", a)
	}
}
