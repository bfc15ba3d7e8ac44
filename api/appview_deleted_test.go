package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// A user deleted outright (a SCIM DELETE or a sync's delete policy) leaves
// every view as any departure does: an app with a leave grace answers
// them, inactive, last modified at the deletion, in lists, lookups,
// filters and counts until the grace ends, then 404; an app without a
// grace and the unscoped reader answer 404 at once; and a new user may
// take the userName meanwhile.
func TestAppViewDeletedUserDeparts(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids := e.users(t, viewUser{userName: "ann"}, viewUser{userName: "bob"}, viewUser{userName: "cid"})
		e.group(t, "Team", []string{ids["ann"], ids["bob"], ids["cid"]})
		attrs := []string{"userName", "active"}
		team := e.app(t, storage.App{Name: "team", LeaveGraceDays: 7, Attributes: attrs,
			Scope: storage.AppScope{Groups: []string{"Team"}, IncludeInactive: true}})
		whole := e.app(t, storage.App{Name: "whole", LeaveGraceDays: 3, Attributes: attrs,
			Scope: storage.AppScope{Sources: []string{"corp-ad"}, Owners: []string{"corp-ad"}, IncludeInactive: true}})
		strict := e.app(t, storage.App{Name: "strict", Attributes: attrs, Scope: storage.AppScope{IncludeInactive: true}})
		teamToken, wholeToken, strictToken := e.appToken(t, team), e.appToken(t, whole), e.appToken(t, strict)

		e.clock.Advance(time.Hour)
		bobBefore := e.do(t, "GET", "/Users/"+ids["bob"], teamToken, nil)
		wantJSON(t, bobBefore, http.StatusOK)
		deleted := e.clock.Now()
		if err := e.Store.DeleteUser(t.Context(), ids["bob"], nil); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if err := e.Store.ApplyUsers(t.Context(), "corp-ad", storage.UserBatch{Delete: []string{ids["cid"]}}); err != nil {
			t.Fatalf("ApplyUsers (delete): %v", err)
		}
		since := url.QueryEscape(`meta.lastModified gt "` + deleted.Add(-time.Minute).Format(scimTime) + `"`)
		for _, c := range []struct {
			what, token string
		}{{"team", teamToken}, {"whole", wholeToken}} {
			for _, name := range []string{"bob", "cid"} {
				r := e.do(t, "GET", "/Users/"+ids[name], c.token, nil)
				wantJSON(t, r, http.StatusOK)
				if r.get("active") != false || r.str("meta", "lastModified") != deleted.Format(scimTime) || r.str("userName") != name {
					t.Errorf("%s: deleted %s = %v, want inactive at %s", c.what, name, r.JSON, deleted.Format(scimTime))
				}
			}
			if got := userNames(e.list(t, c.token, "/Users?filter="+since)); !slices.Equal(got, []string{"bob", "cid"}) {
				t.Errorf("%s: changed since the deletion = %v, want [bob cid]", c.what, got)
			}
			r := e.list(t, c.token, "/Users")
			if got := userNames(r); !slices.Equal(got, []string{"ann", "bob", "cid"}) || r.num(t, "totalResults") != 3 {
				t.Errorf("%s: view = %v (total %v), want [ann bob cid]", c.what, got, r.get("totalResults"))
			}
		}
		if r := e.do(t, "GET", "/Users/"+ids["bob"], teamToken, nil); r.Header.Get("ETag") == bobBefore.Header.Get("ETag") {
			t.Errorf("ETag unchanged by the deletion: %s", r.Header.Get("ETag"))
		}
		wantError(t, e.do(t, "GET", "/Users/"+ids["bob"], strictToken, nil), http.StatusNotFound, "")
		wantError(t, e.do(t, "GET", "/Users/"+ids["bob"], e.Reader, nil), http.StatusNotFound, "")

		// The userName is free at once; the new bob is another user.
		again := e.users(t, viewUser{userName: "bob"})
		r := e.list(t, wholeToken, "/Users?filter="+url.QueryEscape(`userName eq "bob"`))
		if got := sorted(resourceField(r, "id")); !slices.Equal(got, sorted([]string{ids["bob"], again["bob"]})) {
			t.Errorf("whole: userName bob = %v, want the departed and the new one", got)
		}
		r = e.list(t, teamToken, "/Users?filter="+url.QueryEscape("active eq false"))
		if got := userNames(r); !slices.Equal(got, []string{"bob", "cid"}) {
			t.Errorf("team: inactive = %v, want the departed [bob cid]", got)
		}

		// Each app's grace ends on its own.
		e.clock.Advance(3*24*time.Hour + time.Minute)
		wantError(t, e.do(t, "GET", "/Users/"+ids["bob"], wholeToken, nil), http.StatusNotFound, "")
		if got := userNames(e.list(t, wholeToken, "/Users")); !slices.Equal(got, []string{"ann", "bob"}) {
			t.Errorf("whole after its grace = %v, want ann and the new bob", got)
		}
		wantJSON(t, e.do(t, "GET", "/Users/"+ids["bob"], teamToken, nil), http.StatusOK)
		e.clock.Advance(4 * 24 * time.Hour)
		wantError(t, e.do(t, "GET", "/Users/"+ids["cid"], teamToken, nil), http.StatusNotFound, "")
		r = e.list(t, teamToken, "/Users")
		if got := userNames(r); !slices.Equal(got, []string{"ann"}) || r.num(t, "totalResults") != 1 {
			t.Errorf("team after its grace = %v (total %v), want [ann]", got, r.get("totalResults"))
		}
	})
}
