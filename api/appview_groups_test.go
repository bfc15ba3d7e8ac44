package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// groupView is what a list of groups shows: displayName -> sorted member
// values (users by userName, groups by displayName).
func groupView(t *testing.T, r *resp, ids map[string]string, groups map[string]string) map[string][]string {
	t.Helper()
	names := map[string]string{}
	for n, id := range ids {
		names[id] = n
	}
	for n, id := range groups {
		names[id] = n
	}
	out := map[string][]string{}
	for _, g := range r.list("Resources") {
		var ms []string
		for _, m := range at(g, "members").([]any) {
			v, _ := at(m, "value").(string)
			ms = append(ms, names[v])
		}
		out[at(g, "displayName").(string)] = sorted(ms)
	}
	return out
}

func TestAppViewGroupModes(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids, groups := scopeDirectory(t, e)
		tests := []struct {
			name  string
			app   storage.App
			want  map[string][]string
			total int
		}{
			{name: "scope", app: storage.App{Groups: storage.GroupsScope, Scope: storage.AppScope{Groups: []string{"Sales"}}},
				// carol is inactive, so not in view, nor among the members.
				want: map[string][]string{"Sales": {"Nested", "alice"}, "Nested": {"bob"}}},
			{name: "all", app: storage.App{Groups: storage.GroupsAll, Scope: storage.AppScope{Filter: `title sw "Account"`, IncludeInactive: true}},
				want: map[string][]string{"Sales": {"Nested", "alice"}, "Nested": {"carol"}, "Other": {"dave"}}},
			{name: "none", app: storage.App{Groups: storage.GroupsNone, Scope: storage.AppScope{IncludeInactive: true}},
				want: map[string][]string{}},
			{name: "scope flattened", app: storage.App{Groups: storage.GroupsScope, FlattenGroups: true, Scope: storage.AppScope{Groups: []string{"Sales"}, IncludeInactive: true}},
				want: map[string][]string{"Sales": {"alice", "bob", "carol"}, "Nested": {"bob", "carol"}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tc.app.Name = "groups-" + tc.name
				app := e.app(t, tc.app)
				token := e.appToken(t, app)
				r := e.list(t, token, "/Groups")
				got := groupView(t, r, ids, groups)
				if len(got) != len(tc.want) || r.num(t, "totalResults") != len(tc.want) {
					t.Fatalf("groups = %v (total %v), want %v", got, r.get("totalResults"), tc.want)
				}
				for name, members := range tc.want {
					if !slices.Equal(got[name], members) {
						t.Errorf("%s members = %v, want %v", name, got[name], members)
					}
				}
				for name, id := range groups {
					g := e.do(t, "GET", "/Groups/"+id, token, nil)
					if _, in := tc.want[name]; !in {
						wantError(t, g, http.StatusNotFound, "")
						continue
					}
					wantJSON(t, g, http.StatusOK)
					one := &resp{JSON: map[string]any{"Resources": []any{g.JSON}}}
					if m := groupView(t, one, ids, groups)[name]; !slices.Equal(m, tc.want[name]) {
						t.Errorf("GET %s members = %v, want %v", name, m, tc.want[name])
					}
					if g.Header.Get("ETag") == "" || g.Header.Get("ETag") != g.str("meta", "version") {
						t.Errorf("GET %s: ETag %q, meta.version %q", name, g.Header.Get("ETag"), g.str("meta", "version"))
					}
				}
				// excludedAttributes=members leaves the members out.
				x := e.list(t, token, "/Groups?excludedAttributes=members")
				for _, g := range x.list("Resources") {
					if _, has := g.(map[string]any)["members"]; has {
						t.Errorf("excludedAttributes=members still shows members: %v", g)
					}
				}
			})
		}
	})
}

func TestAppViewFlattenCycle(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids := e.users(t, viewUser{userName: "u1"}, viewUser{userName: "u2"}, viewUser{userName: "u3"})
		groups := map[string]string{}
		groups["A"] = e.group(t, "A", []string{ids["u1"]})
		groups["B"] = e.group(t, "B", []string{ids["u2"]}, groups["A"])
		// A and B contain each other.
		e.members(t, groups["A"], storage.MemberChange{Add: []storage.Member{{Value: groups["B"], Type: storage.MemberGroup}}})
		app := e.app(t, storage.App{Name: "flat", Groups: storage.GroupsScope, FlattenGroups: true,
			Scope: storage.AppScope{Groups: []string{"A"}, IncludeInactive: true}})
		token := e.appToken(t, app)
		got := groupView(t, e.list(t, token, "/Groups"), ids, groups)
		want := map[string][]string{"A": {"u1", "u2"}, "B": {"u1", "u2"}}
		if len(got) != 2 || !slices.Equal(got["A"], want["A"]) || !slices.Equal(got["B"], want["B"]) {
			t.Errorf("flattened = %v, want %v", got, want)
		}
		if got := userNames(e.list(t, token, "/Users")); !slices.Equal(got, []string{"u1", "u2"}) {
			t.Errorf("users = %v", got)
		}
	})
}
