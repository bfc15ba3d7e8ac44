package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestConsoleTokens(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	appID := createAppThroughForm(t, u, appForm())
	list := u.get(t, "/ui/tokens").want(t, http.StatusOK, `<label for="token-name">Name</label>`, `<label for="token-role">Role</label>`,
		`<label for="token-app">App</label>`, `<option value="`+appID+`">crm</option>`, ">Create token</button>")
	for _, role := range []string{"reader", "writer", "admin"} {
		if !strings.Contains(list.Body, `<option value="`+role+`"`) {
			t.Errorf("the Role select lacks %s", role)
		}
	}

	cases := []struct {
		name, role, app string
		wantApp         string
	}{
		{"ci-reader", "reader", "", ""},
		{"crm-prod", "reader", appID, "crm"},
		{"okta-push", "writer", "", ""},
	}
	secrets := map[string]string{}
	for _, tc := range cases {
		u.get(t, "/ui/tokens")
		p := u.post(t, "/ui/tokens", url.Values{"name": {tc.name}, "role": {tc.role}, "app": {tc.app}}).want(t, http.StatusCreated,
			"Token "+tc.name+" created", "it will not be shown again", `data-copy="token-secret"`)
		if tc.wantApp != "" && !strings.Contains(p.Body, ">"+tc.wantApp+"</a> (reads only its view)") {
			t.Errorf("%s: the answer does not name its app", tc.name)
		}
		secrets[tc.name] = tokenSecretOf(t, p)
	}
	env.call(t, "GET", "/scim/v2/Users", secrets["ci-reader"], nil).want(t, 200)

	stored := env.call(t, "GET", "/api/v1/tokens", env.Admin, nil).want(t, 200)
	byName := map[string]map[string]any{}
	for _, v := range stored.Body["tokens"].([]any) {
		m := v.(map[string]any)
		byName[m["name"].(string)] = m
	}
	for _, tc := range cases {
		got := byName[tc.name]
		if got == nil || got["role"] != tc.role || (got["app"] != nil) != (tc.app != "") {
			t.Errorf("stored token %s = %v, want role %s app %q", tc.name, got, tc.role, tc.app)
		}
	}

	// The next page lists the tokens but shows no secret again.
	page := u.get(t, "/ui/tokens").want(t, http.StatusOK, `<th scope="row">ci-reader</th>`, `<a href="/ui/apps/`+appID+`">crm</a>`)
	for name, s := range secrets {
		if strings.Contains(page.Body, s) {
			t.Fatalf("the tokens page shows the secret of %s", name)
		}
	}

	// Revoke asks first and removes the token.
	if !regexp.MustCompile(`name="name" value="ci-reader">\s*<button type="submit" class="danger" data-confirm="[^"]+">Revoke<span class="visually-hidden"> ci-reader</span></button>`).MatchString(page.Body) {
		t.Fatalf("no confirmed Revoke button for ci-reader:\n%s", page.Body)
	}
	r := u.post(t, "/ui/tokens/revoke", url.Values{"name": {"ci-reader"}}).want(t, http.StatusSeeOther)
	if r.Location != "/ui/tokens" {
		t.Errorf("revoke went to %q", r.Location)
	}
	u.get(t, "/ui/tokens").want(t, http.StatusOK, "Token ci-reader revoked.")
	after := env.call(t, "GET", "/api/v1/tokens", env.Admin, nil).want(t, 200)
	if names := strings.Join(fieldsOf(after.Body["tokens"], "name"), ","); strings.Contains(names, "ci-reader") {
		t.Errorf("tokens after revoking ci-reader: %s", names)
	}
	env.call(t, "GET", "/scim/v2/Users", secrets["ci-reader"], nil).want(t, 401)
}

func TestConsoleTokenProblems(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	appID := createAppThroughForm(t, u, appForm())
	env.call(t, "POST", "/api/v1/tokens", env.Admin, map[string]any{"name": "taken", "role": "reader"}).want(t, 201)
	cases := []struct {
		name   string
		form   url.Values
		status int
		input  string
		text   string
	}{
		{"no name", url.Values{"name": {""}, "role": {"reader"}}, http.StatusUnprocessableEntity, "token-name", "required"},
		{"name taken", url.Values{"name": {"taken"}, "role": {"reader"}}, http.StatusConflict, "token-name", "already taken"},
		{"writer of an app", url.Values{"name": {"w"}, "role": {"writer"}, "app": {appID}}, http.StatusUnprocessableEntity, "token-app", "only reader tokens"},
		{"no role", url.Values{"name": {"x"}, "role": {""}}, http.StatusUnprocessableEntity, "token-role", "reader, writer or admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u.get(t, "/ui/tokens")
			p := u.post(t, "/ui/tokens", tc.form).want(t, tc.status, `<p id="`+tc.input+`-error" class="field-error">`)
			m := regexp.MustCompile(`<p id="` + tc.input + `-error" class="field-error">([^<]+)</p>`).FindStringSubmatch(p.Body)
			if m == nil || !strings.Contains(m[1], tc.text) {
				t.Fatalf("message next to %s: %v, want %q", tc.input, m, tc.text)
			}
			if tokenSecret.MatchString(p.Body) {
				t.Fatal("a refused token shows a secret")
			}
		})
	}
	if names := fieldsOf(env.call(t, "GET", "/api/v1/tokens", env.Admin, nil).want(t, 200).Body["tokens"], "name"); len(names) != 4 {
		// the harness's admin, reader and writer, and "taken"
		t.Errorf("tokens %v: a refused form stored one", names)
	}
}
