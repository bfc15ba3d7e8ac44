package api_test

import (
	"net/url"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// A group filter on members cannot tell an app about users outside its
// view (it is refused), and user members lose their display when the app may see neither
// userName nor displayName.
func TestAppViewGroupMembersHidden(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids, _ := scopeDirectory(t, e)
		app := e.app(t, storage.App{Name: "emails-only", Scope: storage.AppScope{Groups: []string{"Sales"}}, Attributes: []string{"emails"}})
		token := e.appToken(t, app)
		// carol is inactive, so outside the view, but a member of Nested:
		// a filter on members would tell, so an app may not filter on them.
		for _, f := range []string{`members[value eq "` + ids["carol"] + `"]`, `displayName pr and members.value eq "` + ids["bob"] + `"`} {
			wantError(t, e.do(t, "GET", "/Groups?filter="+url.QueryEscape(f), token, nil), 400, "invalidFilter")
		}
		r := e.list(t, token, "/Groups?filter="+url.QueryEscape(`displayName eq "Nested"`))
		if got := resourceField(r, "displayName"); len(got) != 1 || got[0] != "Nested" {
			t.Errorf("groups named Nested = %v", got)
		}
		for _, g := range e.list(t, token, "/Groups").list("Resources") {
			for _, m := range asList(at(g, "members")) {
				if at(m, "type") == "User" && at(m, "display") != nil {
					t.Errorf("user member display shown to an app without names: %v", m)
				}
			}
		}
	})
}
