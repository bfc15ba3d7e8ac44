package api_test

import (
	"strings"
	"testing"
)

func TestAppTokens(t *testing.T) { forEachAPIStore(t, testAppTokens) }

func testAppTokens(t *testing.T, e *apiEnv) {
	d := seedAppDirectory(t, e)
	app := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{
		"name": "crm-app", "scope": map[string]any{"groups": []string{"Ops"}}, "attributes": []string{"userName"},
	}).want(t, 201)
	id := app.str("id")

	// An app's token is a reader of its view, its secret shown once.
	tok := e.call(t, "POST", "/api/v1/apps/crm-app/tokens", e.Admin, map[string]any{"name": "crm-prod"}).want(t, 201)
	if tok.str("role") != "reader" || tok.str("app") != id || tok.str("appName") != "crm-app" || !strings.HasPrefix(tok.str("token"), "sg_") {
		t.Fatalf("app token: %s", tok.Raw)
	}
	bearer := tok.str("token")
	// The general endpoint binds one too, by the app's id or name.
	viaTokens := e.call(t, "POST", "/api/v1/tokens", e.Admin, map[string]any{"name": "crm-test", "role": "reader", "app": "CRM-APP"}).want(t, 201)
	if viaTokens.str("app") != id {
		t.Fatalf("POST /tokens with app: %s", viaTokens.Raw)
	}
	for _, tc := range []struct {
		body        map[string]any
		status      int
		code, field string
	}{
		{map[string]any{"name": "w", "role": "writer", "app": id}, 400, "bad_request", "app"},
		{map[string]any{"name": "a", "role": "admin", "app": "crm-app"}, 400, "bad_request", "app"},
		{map[string]any{"name": "r", "role": "reader", "app": "nope"}, 400, "bad_request", "app"},
		{map[string]any{"name": "crm-prod", "role": "reader", "app": id}, 409, "conflict", "name"},
	} {
		r := e.call(t, "POST", "/api/v1/tokens", e.Admin, tc.body)
		if fields, _ := r.wantErr(t, tc.status, tc.code)["fields"].(map[string]any); fields[tc.field] == nil {
			t.Errorf("%v: want field %s: %s", tc.body, tc.field, r.Raw)
		}
	}
	e.call(t, "POST", "/api/v1/apps/crm-app/tokens", e.Admin, map[string]any{"name": ""}).wantErr(t, 422, "invalid")
	e.call(t, "POST", "/api/v1/apps/crm-app/tokens", e.Admin, map[string]any{"name": "x", "role": "writer"}).wantErr(t, 400, "bad_request")
	e.call(t, "POST", "/api/v1/apps/nope/tokens", e.Admin, map[string]any{"name": "x"}).wantErr(t, 404, "not_found")

	// The app's list has its two tokens; the general list names the app.
	list := e.call(t, "GET", "/api/v1/apps/"+id+"/tokens", e.Admin, nil).want(t, 200)
	if toks, _ := list.Body["tokens"].([]any); len(toks) != 2 || toks[0].(map[string]any)["name"] != "crm-prod" || toks[0].(map[string]any)["token"] != nil {
		t.Errorf("app tokens: %s", list.Raw)
	}
	all := e.call(t, "GET", "/api/v1/tokens", e.Admin, nil).want(t, 200)
	if !strings.Contains(string(all.Raw), `"name":"crm-prod","role":"reader"`) || !strings.Contains(string(all.Raw), `"appName":"crm-app"`) {
		t.Errorf("tokens: %s", all.Raw)
	}

	// The token reads the app's view only: Ops holds u3 and u5, shown
	// with the allowed attributes; a user outside the view is 404.
	seen := e.call(t, "GET", "/scim/v2/Users?sortBy=userName", bearer, nil).want(t, 200)
	var names []string
	for _, x := range seen.Body["Resources"].([]any) {
		u := x.(map[string]any)
		names = append(names, u["userName"].(string))
		if u["displayName"] != nil || u["title"] != nil {
			t.Errorf("attributes outside the allow-list: %v", u)
		}
	}
	if seen.num("totalResults") != 2 || strings.Join(names, ",") != "u3,u5" {
		t.Errorf("the app's users: %s", seen.Raw)
	}
	e.call(t, "GET", "/scim/v2/Users/"+d.users["u3"].ID, bearer, nil).want(t, 200)
	e.call(t, "GET", "/scim/v2/Users/"+d.users["u0"].ID, bearer, nil).want(t, 404)
	e.call(t, "GET", "/scim/v2/Users/"+d.users["u0"].ID, e.Reader, nil).want(t, 200)
	// The token cannot write SCIM, and is no admin.
	e.call(t, "POST", "/scim/v2/Users", bearer, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "new"}).want(t, 403)
	e.call(t, "GET", "/api/v1/apps", bearer, nil).wantErr(t, 403, "forbidden")

	// Deleting the app revokes its tokens at once, and the audit says so.
	e.call(t, "DELETE", "/api/v1/apps/"+id, e.Admin, nil).want(t, 204)
	e.call(t, "GET", "/scim/v2/Users", bearer, nil).want(t, 401)
	if all = e.call(t, "GET", "/api/v1/tokens", e.Admin, nil).want(t, 200); strings.Contains(string(all.Raw), "crm-") {
		t.Errorf("tokens after the app was deleted: %s", all.Raw)
	}
	audit := e.call(t, "GET", "/api/v1/audit?limit=5", e.Admin, nil).want(t, 200)
	if !strings.Contains(string(audit.Raw), `"detail":"name=crm-app tokensRevoked=crm-prod,crm-test"`) ||
		!strings.Contains(string(audit.Raw), `"detail":"role=reader app=`+id+`"`) {
		t.Errorf("audit: %s", audit.Raw)
	}
}
