package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// scopeDirectory is the directory of the scope tests:
//
//	Sales  -> alice, Nested      Nested -> bob, carol      Other -> dave
//
// carol is inactive; carol comes from source "hr", the others from "corp-ad".
func scopeDirectory(t *testing.T, e *viewEnv) (ids map[string]string, groups map[string]string) {
	ids = e.users(t,
		viewUser{userName: "alice", title: "Account Manager", dept: "Sales"},
		viewUser{userName: "bob", title: "Engineer", dept: "R&D"},
		viewUser{userName: "carol", title: "Account Executive", dept: "Sales", owner: "hr", inactive: true},
		viewUser{userName: "dave", title: "Account Lead", dept: "Support"},
	)
	groups = map[string]string{}
	groups["Nested"] = e.group(t, "Nested", []string{ids["bob"], ids["carol"]})
	groups["Sales"] = e.group(t, "Sales", []string{ids["alice"]}, groups["Nested"])
	groups["Other"] = e.group(t, "Other", []string{ids["dave"]})
	return ids, groups
}

func TestAppViewUserScope(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids, groups := scopeDirectory(t, e)
		tests := []struct {
			name  string
			scope storage.AppScope
			want  []string
		}{
			{name: "everyone", scope: storage.AppScope{IncludeInactive: true}, want: []string{"alice", "bob", "carol", "dave"}},
			{name: "nested scope groups by name", scope: storage.AppScope{Groups: []string{"Sales"}, IncludeInactive: true},
				want: []string{"alice", "bob", "carol"}},
			{name: "scope group by id", scope: storage.AppScope{Groups: []string{groups["Nested"]}, IncludeInactive: true},
				want: []string{"bob", "carol"}},
			{name: "inactive left out", scope: storage.AppScope{Groups: []string{"Sales"}}, want: []string{"alice", "bob"}},
			{name: "filter", scope: storage.AppScope{Filter: `title sw "Account"`, IncludeInactive: true},
				want: []string{"alice", "carol", "dave"}},
			{name: "source", scope: storage.AppScope{Sources: []string{"hr"}, Owners: []string{"hr"}, IncludeInactive: true},
				want: []string{"carol"}},
			{name: "all parts at once", scope: storage.AppScope{Groups: []string{"Sales"}, Filter: `title sw "Account"`,
				Sources: []string{"corp-ad"}, Owners: []string{"corp-ad"}, IncludeInactive: true}, want: []string{"alice"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				app := e.app(t, storage.App{Name: strings.ReplaceAll(tc.name, " ", "-"), Scope: tc.scope})
				token := e.appToken(t, app)

				r := e.list(t, token, "/Users")
				if got := userNames(r); !slices.Equal(got, tc.want) {
					t.Fatalf("users in view = %v, want %v", got, tc.want)
				}
				if got := r.num(t, "totalResults"); got != len(tc.want) {
					t.Errorf("totalResults = %d, want %d", got, len(tc.want))
				}
				// A filter is combined with the view, never widens it.
				r = e.list(t, token, "/Users?filter="+url.QueryEscape(`userName eq "dave" or userName eq "bob"`))
				var both []string
				for _, n := range tc.want {
					if n == "bob" || n == "dave" {
						both = append(both, n)
					}
				}
				if got := userNames(r); !slices.Equal(got, both) {
					t.Errorf("filtered = %v, want %v", got, both)
				}
				for name, id := range ids {
					g := e.do(t, "GET", "/Users/"+id, token, nil)
					if slices.Contains(tc.want, name) {
						wantJSON(t, g, http.StatusOK)
						if g.str("userName") != name {
							t.Errorf("GET %s: userName = %q", name, g.str("userName"))
						}
					} else {
						wantError(t, g, http.StatusNotFound, "")
					}
				}
				// The unscoped reader still sees everyone.
				if got := userNames(e.list(t, e.Reader, "/Users")); len(got) != 4 {
					t.Errorf("unscoped reader sees %v", got)
				}
			})
		}
	})
}

func TestAppViewPagingAndSearch(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		var us []viewUser
		for _, n := range []string{"u01", "u02", "u03", "u04", "u05", "u06", "u07"} {
			us = append(us, viewUser{userName: n, title: "Account " + n})
		}
		us = append(us, viewUser{userName: "x01", title: "Other"}, viewUser{userName: "x02", title: "Other"})
		e.users(t, us...)
		app := e.app(t, storage.App{Name: "pager", Scope: storage.AppScope{Filter: `title sw "Account"`, IncludeInactive: true}})
		token := e.appToken(t, app)

		// Index paging: sorted, with the view's total.
		r := e.list(t, token, "/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=3")
		if got := resourceField(r, "userName"); !slices.Equal(got, []string{"u06", "u05", "u04"}) {
			t.Errorf("page = %v", got)
		}
		if r.num(t, "totalResults") != 7 || r.num(t, "startIndex") != 2 {
			t.Errorf("totalResults/startIndex = %v/%v", r.get("totalResults"), r.get("startIndex"))
		}

		// Cursor paging walks the view exactly once.
		var walked []string
		path := "/Users?sortBy=userName&count=3&cursor="
		for i := 0; i < 10; i++ {
			r := e.list(t, token, path)
			walked = append(walked, resourceField(r, "userName")...)
			next := r.str("nextCursor")
			if next == "" {
				break
			}
			path = "/Users?sortBy=userName&count=3&cursor=" + url.QueryEscape(next)
		}
		if want := []string{"u01", "u02", "u03", "u04", "u05", "u06", "u07"}; !slices.Equal(walked, want) {
			t.Errorf("cursor walk = %v, want %v", walked, want)
		}
		// A view's cursor is not a cursor of the unscoped list.
		first := e.list(t, token, "/Users?sortBy=userName&count=3&cursor=")
		other := e.do(t, "GET", "/Users?sortBy=userName&count=3&cursor="+url.QueryEscape(first.str("nextCursor")), e.Reader, nil)
		wantStatus(t, other, http.StatusBadRequest)

		// POST /.search answers from the view too.
		s := e.do(t, "POST", "/Users/.search", token, map[string]any{
			"schemas": []string{searchURN}, "filter": `userName sw "u0" or userName sw "x0"`, "sortBy": "userName", "count": 2,
		})
		wantJSON(t, s, http.StatusOK)
		if got := resourceField(s, "userName"); !slices.Equal(got, []string{"u01", "u02"}) || s.num(t, "totalResults") != 7 {
			t.Errorf(".search = %v (total %v)", got, s.get("totalResults"))
		}

		// Writes with an app token are refused like any reader's.
		w := e.do(t, "POST", "/Users", token, userBody("new", nil))
		wantError(t, w, http.StatusForbidden, "")
	})
}
