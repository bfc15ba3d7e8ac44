package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// allowListApp is an app that may see userName, name.givenName,
// emails.value, active and the enterprise department.
func allowListApp(t *testing.T, e *viewEnv) (token string, ids map[string]string) {
	ids = e.users(t,
		viewUser{userName: "alice", title: "Account Manager", dept: "Sales"},
		viewUser{userName: "bob", title: "Engineer"},
	)
	e.group(t, "Team", []string{ids["alice"], ids["bob"]})
	app := e.app(t, storage.App{Name: "crm", Scope: storage.AppScope{IncludeInactive: true},
		Attributes: []string{"userName", "name.givenName", "emails.value", "active", entURN + ":department"}})
	return e.appToken(t, app), ids
}

func TestAppViewAllowListResponses(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		token, ids := allowListApp(t, e)
		wantAlice := func(t *testing.T, what string, u any) {
			t.Helper()
			if got, want := keys(u), sorted([]string{"active", "emails", "id", "meta", "name", "schemas", "userName", entURN}); !slices.Equal(got, want) {
				t.Errorf("%s: attributes %v, want %v", what, got, want)
			}
			if got := keys(at(u, "name")); !slices.Equal(got, []string{"givenName"}) {
				t.Errorf("%s: name has %v", what, got)
			}
			if got := keys(at(u, "emails", 0)); !slices.Equal(got, []string{"value"}) || at(u, "emails", 0, "value") != "alice@example.com" {
				t.Errorf("%s: emails[0] = %v", what, at(u, "emails", 0))
			}
			if got := keys(at(u, entURN)); !slices.Equal(got, []string{"department"}) || at(u, entURN, "department") != "Sales" {
				t.Errorf("%s: enterprise = %v", what, at(u, entURN))
			}
			if s := at(u, "schemas").([]any); len(s) != 2 || s[1] != entURN {
				t.Errorf("%s: schemas = %v", what, s)
			}
		}
		r := e.list(t, token, "/Users?filter="+url.QueryEscape(`userName eq "alice"`))
		wantAlice(t, "list", r.get("Resources", 0))
		g := e.do(t, "GET", "/Users/"+ids["alice"], token, nil)
		wantJSON(t, g, http.StatusOK)
		wantAlice(t, "GET", g.JSON)
		s := e.do(t, "POST", "/Users/.search", token, map[string]any{"schemas": []string{searchURN}, "filter": `userName eq "alice"`})
		wantJSON(t, s, http.StatusOK)
		wantAlice(t, ".search", s.get("Resources", 0))

		// bob has no enterprise attributes: neither the key nor its schema.
		b := e.do(t, "GET", "/Users/"+ids["bob"], token, nil)
		if b.has(entURN) || len(b.list("schemas")) != 1 || b.has("title") || b.has("displayName") {
			t.Errorf("bob = %s", b.Raw)
		}

		projections := []struct {
			query string
			want  []string
		}{
			// attributes= intersects with the allow-list: a hidden one gives nothing.
			{query: "attributes=userName,title,displayName", want: []string{"id", "schemas", "userName"}},
			{query: "attributes=name", want: []string{"id", "name", "schemas"}},
			{query: "excludedAttributes=emails,name," + entURN, want: []string{"active", "id", "meta", "schemas", "userName"}},
			{query: "excludedAttributes=title", want: []string{"active", "emails", "id", "meta", "name", "schemas", "userName", entURN}},
		}
		for _, p := range projections {
			r := e.list(t, token, "/Users?filter="+url.QueryEscape(`userName eq "alice"`)+"&"+p.query)
			p.want = sorted(p.want)
			if got := keys(r.get("Resources", 0)); !slices.Equal(got, p.want) {
				t.Errorf("list ?%s: %v, want %v", p.query, got, p.want)
			}
			g := e.do(t, "GET", "/Users/"+ids["alice"]+"?"+p.query, token, nil)
			if got := keys(g.JSON); !slices.Equal(got, p.want) {
				t.Errorf("GET ?%s: %v, want %v", p.query, got, p.want)
			}
		}

		// Group members keep their display only when the app may see a
		// user's name: here userName is allowed.
		groups := e.list(t, token, "/Groups")
		if d := at(groups.get("Resources", 0), "members", 0, "display"); d == nil {
			t.Errorf("member display missing: %s", groups.Raw)
		}
	})
}

func TestAppViewHiddenAttributesInQueries(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		token, _ := allowListApp(t, e)
		tests := []struct {
			query  string
			status int
			want   []string // userNames when 200
		}{
			{query: "filter=" + url.QueryEscape(`title sw "Account"`), status: 400},
			{query: "filter=" + url.QueryEscape(`userName eq "alice" or title pr`), status: 400},
			{query: "filter=" + url.QueryEscape(`not (displayName eq "x")`), status: 400},
			{query: "filter=" + url.QueryEscape(`emails[type eq "work"]`), status: 400},
			{query: "filter=" + url.QueryEscape(`name.familyName eq "F-alice"`), status: 400},
			{query: "filter=" + url.QueryEscape(entURN+`:employeeNumber eq "E-alice"`), status: 400},
			{query: "sortBy=title", status: 400},
			{query: "sortBy=name.familyName", status: 400},
			{query: "filter=" + url.QueryEscape(`emails[value eq "alice@example.com"]`), status: 200, want: []string{"alice"}},
			{query: "filter=" + url.QueryEscape(`emails eq "bob@example.com"`), status: 200, want: []string{"bob"}},
			{query: "filter=" + url.QueryEscape(`name.givenName eq "G-bob"`), status: 200, want: []string{"bob"}},
			{query: "filter=" + url.QueryEscape(entURN+`:department eq "Sales"`), status: 200, want: []string{"alice"}},
			{query: "filter=" + url.QueryEscape(`meta.lastModified gt "2000-01-01T00:00:00Z" and id pr`), status: 200, want: []string{"alice", "bob"}},
			{query: "sortBy=meta.created", status: 200, want: []string{"alice", "bob"}},
		}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				r := e.do(t, "GET", "/Users?"+tc.query, token, nil)
				if tc.status != 200 {
					wantError(t, r, tc.status, "invalidFilter")
					// The unscoped reader may use the same query.
					wantStatus(t, e.do(t, "GET", "/Users?"+tc.query, e.Reader, nil), http.StatusOK)
					return
				}
				wantJSON(t, r, http.StatusOK)
				if got := userNames(r); !slices.Equal(got, tc.want) {
					t.Errorf("users = %v, want %v", got, tc.want)
				}
			})
		}
	})
}

func TestAppViewSchemas(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		token, _ := allowListApp(t, e)
		attrNames := func(schema any) map[string][]string {
			out := map[string][]string{}
			for _, a := range at(schema, "attributes").([]any) {
				var subs []string
				for _, s := range asList(at(a, "subAttributes")) {
					subs = append(subs, at(s, "name").(string))
				}
				out[at(a, "name").(string)] = subs
			}
			return out
		}
		user := e.do(t, "GET", "/Schemas/"+userURN, token, nil)
		wantJSON(t, user, http.StatusOK)
		got := attrNames(user.JSON)
		if len(got) != 4 || !slices.Equal(got["name"], []string{"givenName"}) || !slices.Equal(got["emails"], []string{"value"}) ||
			got["userName"] != nil || got["active"] != nil {
			t.Errorf("user schema for the app = %v", got)
		}
		ent := e.do(t, "GET", "/Schemas/"+entURN, token, nil)
		if got := attrNames(ent.JSON); len(got) != 1 || got["department"] != nil {
			t.Errorf("enterprise schema for the app = %v", got)
		}
		// The list says the same, and the unscoped reader sees everything.
		all := e.list(t, token, "/Schemas")
		for _, sc := range all.list("Resources") {
			if at(sc, "id") == userURN && len(attrNames(sc)) != 4 {
				t.Errorf("/Schemas user schema = %v", attrNames(sc))
			}
		}
		full := e.do(t, "GET", "/Schemas/"+userURN, e.Reader, nil)
		if n := len(attrNames(full.JSON)); n < 15 {
			t.Errorf("unscoped user schema has %d attributes", n)
		}
		// ResourceTypes are the same for everyone.
		if a, b := e.list(t, token, "/ResourceTypes"), e.list(t, e.Reader, "/ResourceTypes"); string(a.Raw) != string(b.Raw) {
			t.Errorf("ResourceTypes differ for the app:\n%s\n%s", a.Raw, b.Raw)
		}
	})
}

func asList(v any) []any { l, _ := v.([]any); return l }
